/**
 * CSRF tokens (the OWASP "synchronizer token" with an HMAC instead of a stored value): the token
 * of a form is `HMAC-SHA256(SECRET_KEY, "csrf:" + binding)`, base64url, where the binding is
 * - the session key, for a visitor with a session (logged in): rotating the session at log-in
 *   changes the token;
 * - `anon:` and the value of the `sb_csrf` cookie (32 random bytes, HttpOnly, SameSite=Lax) for a
 *   visitor without one, so that showing the log-in or sign-up form stores nothing: no session
 *   row is written until there is something to keep (a log-in). This is Django's CSRF cookie,
 *   signed.
 * A post is accepted only with the token of its own binding, so a page on another site (which
 * cannot read our pages or the HttpOnly cookies) cannot forge one. Nothing needs storing.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Name of the hidden form field that carries the token (Django's is `csrfmiddlewaretoken`). */
export const CSRF_FIELD = 'csrf_token';

/** Cookie that binds an anonymous visitor's form tokens (Django's is `csrftoken`). */
export const CSRF_COOKIE = 'sb_csrf';

/** Shape of an `sb_csrf` value: 32 bytes, base64url. */
const CSRF_COOKIE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The token for forms bound to `binding` (a session key, or {@link anonymousBinding}): 43 base64url characters. */
export function csrfToken(secretKey: string, binding: string): string {
  return createHmac('sha256', secretKey).update(`csrf:${binding}`).digest('base64url');
}

/** The binding of an anonymous visitor's tokens: `anon:` + the `sb_csrf` cookie value. */
export function anonymousBinding(cookie: string): string {
  return `anon:${cookie}`;
}

/** Whether `value` (from a cookie: untrusted) has the shape of an `sb_csrf` value. */
export function isCsrfCookie(value: unknown): value is string {
  return typeof value === 'string' && CSRF_COOKIE_PATTERN.test(value);
}

/** A fresh `sb_csrf` value. */
export function newCsrfCookie(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Whether `token` (from the form: untrusted) is the token of `binding`. Compared in constant
 * time; `false` for a missing binding, a missing token or a token of another shape.
 */
export function isValidCsrfToken(secretKey: string, binding: string | null, token: unknown): boolean {
  if (binding === null || typeof token !== 'string' || token.length !== 43) return false;
  const expected = Buffer.from(csrfToken(secretKey, binding));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
