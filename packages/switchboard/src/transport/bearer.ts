/**
 * `Authorization: Bearer <token>` checks (RFC 6750 §2.1), compared in constant time: for the
 * publish endpoint and any machine API an app mounts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235 §2.1). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/** What {@link bearerChecker}'s check says of a header. */
export type BearerVerdict = 'missing' | 'wrong' | 'ok';

/**
 * A checker for one token: `check(authorizationHeader)` → `'missing'` (no bearer token),
 * `'wrong'`, or `'ok'`. Digests are compared, so the time taken says nothing about the token.
 * @throws TypeError for a token shorter than 16 characters (guessable).
 */
export function bearerChecker(token: string): (header: string | undefined) => BearerVerdict {
  if (typeof token !== 'string' || token.length < 16) throw new TypeError('bearerChecker: the token must be a string of at least 16 characters');
  const expected = sha256(token);
  return (header) => {
    const given = bearerToken(header);
    if (given === undefined) return 'missing';
    return timingSafeEqual(sha256(given), expected) ? 'ok' : 'wrong';
  };
}
