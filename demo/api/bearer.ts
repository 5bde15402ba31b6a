/**
 * `Authorization: Bearer <key>` checks shared by the demo's machine APIs (publish, metrics):
 * RFC 6750 tokens, compared in constant time.
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

/**
 * A checker for one key: `check(authorizationHeader)` → `'missing'` (no bearer token),
 * `'wrong'`, or `'ok'`. Digests are compared, so the time taken says nothing about the key.
 */
export function bearerChecker(apiKey: string): (header: string | undefined) => 'missing' | 'wrong' | 'ok' {
  const expected = sha256(apiKey);
  return (header) => {
    const token = bearerToken(header);
    if (token === undefined) return 'missing';
    return timingSafeEqual(sha256(token), expected) ? 'ok' : 'wrong';
  };
}
