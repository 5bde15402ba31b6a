/**
 * CSRF tokens bound to the session (the OWASP "synchronizer token" with an HMAC instead of a
 * stored value): the token of a form is `HMAC-SHA256(SECRET_KEY, "csrf:" + session key)`,
 * base64url. A post is accepted only with the token of the session its cookie names, so a page on
 * another site (which cannot read our pages or the HttpOnly cookie) cannot forge one. Rotating the
 * session at log-in changes the token; nothing needs storing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the hidden form field that carries the token (Django's is `csrfmiddlewaretoken`). */
export const CSRF_FIELD = 'csrf_token';

/** The token for forms of the session `sessionKey`: 43 base64url characters. */
export function csrfToken(secretKey: string, sessionKey: string): string {
  return createHmac('sha256', secretKey).update(`csrf:${sessionKey}`).digest('base64url');
}

/**
 * Whether `token` (from the form: untrusted) is the token of `sessionKey`. Compared in constant
 * time; `false` for a missing session, a missing token or a token of another shape.
 */
export function isValidCsrfToken(secretKey: string, sessionKey: string | null, token: unknown): boolean {
  if (sessionKey === null || typeof token !== 'string' || token.length !== 43) return false;
  const expected = Buffer.from(csrfToken(secretKey, sessionKey));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
