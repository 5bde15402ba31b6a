/**
 * The session on the HTTP side: the same `sessionid` cookie and store the WebSocket side's
 * `SessionMiddleware` reads, so a log-in over HTTP is what the next handshake sees.
 *
 * Cookies are HttpOnly and SameSite=Lax (`serializeSessionCookie`), Secure when the request came
 * over HTTPS. A visitor gets a session only by logging in; the forms an anonymous visitor sees
 * bind their CSRF token to the `sb_csrf` cookie instead (csrf.ts), set when a page shows a form,
 * as Django sets its CSRF cookie only then. So showing a form writes no row.
 */
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ANONYMOUS_USER, DEFAULT_SESSION_COOKIE, DEFAULT_SESSION_TTL_MS, getUser, serializeSessionCookie, type ScopeSession, type ScopeUser } from 'switchboard';
import type { Accounts } from './accounts.js';
import { CSRF_COOKIE, anonymousBinding, csrfToken, isCsrfCookie, newCsrfCookie } from './csrf.js';

/** The visitor of one request. */
export interface Visitor {
  /** `{key: null, data: {}}` without a live session. */
  readonly session: ScopeSession;
  /** The logged-in user, or `ANONYMOUS_USER`. */
  readonly user: ScopeUser;
}

const visitors = new WeakMap<FastifyRequest, Promise<Visitor>>();

/**
 * The session and user of `request`, loaded once per request (the layout and the page both ask).
 * The cookie comes from the client: the store checks its shape before any query.
 */
export function visitorOf(request: FastifyRequest, accounts: Accounts): Promise<Visitor> {
  let visitor = visitors.get(request);
  if (!visitor) {
    visitor = loadVisitor(request, accounts);
    visitors.set(request, visitor);
  }
  return visitor;
}

async function loadVisitor(request: FastifyRequest, accounts: Accounts): Promise<Visitor> {
  const header = request.headers.cookie;
  const key = header ? parseCookies(header)[DEFAULT_SESSION_COOKIE] : undefined;
  if (!key) return { session: { key: null, data: {} }, user: ANONYMOUS_USER };
  const data = await accounts.sessions.load(key);
  if (!data) return { session: { key: null, data: {} }, user: ANONYMOUS_USER };
  const session = { key, data };
  return { session, user: await getUser(session, accounts.userStore) };
}

/** Sets the session cookie to `key` (or deletes it for `null`) on `reply`. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, key: string | null, maxAgeMs = DEFAULT_SESSION_TTL_MS): void {
  reply.header('set-cookie', serializeSessionCookie(key, { maxAgeMs, secure: request.protocol === 'https' }));
}

/** How long an `sb_csrf` cookie lives: one day (a form left open longer is reloaded). */
export const CSRF_COOKIE_MAX_AGE_S = 24 * 3600;

/** The `sb_csrf` value of `request` when well-formed, else `undefined`. The cookie comes from the client: only its shape is trusted. */
function csrfCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  const value = header ? parseCookies(header)[CSRF_COOKIE] : undefined;
  return isCsrfCookie(value) ? value : undefined;
}

/**
 * What a post's CSRF token must be bound to (csrf.ts): the visitor's session key, else their
 * `sb_csrf` cookie; `null` when they have neither (no form of ours was shown to them).
 */
export async function csrfBinding(request: FastifyRequest, accounts: Accounts): Promise<string | null> {
  const { session } = await visitorOf(request, accounts);
  if (session.key !== null) return session.key;
  const cookie = csrfCookieOf(request);
  return cookie === undefined ? null : anonymousBinding(cookie);
}

/**
 * The CSRF token for a form on this page: bound to the visitor's session, or for a visitor without
 * one to the `sb_csrf` cookie (set on `reply` when missing). Writes nothing to the database.
 */
export async function formToken(request: FastifyRequest, reply: FastifyReply, accounts: Accounts): Promise<string> {
  const { session } = await visitorOf(request, accounts);
  if (session.key !== null) return csrfToken(accounts.secretKey, session.key);
  let cookie = csrfCookieOf(request);
  if (cookie === undefined) {
    cookie = newCsrfCookie();
    reply.header('set-cookie', serializeCookie(CSRF_COOKIE, cookie, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: CSRF_COOKIE_MAX_AGE_S, secure: request.protocol === 'https' }));
  }
  return csrfToken(accounts.secretKey, anonymousBinding(cookie));
}
