/**
 * The session on the HTTP side: the same `sessionid` cookie and store the WebSocket side's
 * `SessionMiddleware` reads, so a log-in over HTTP is what the next handshake sees.
 *
 * Cookies are HttpOnly and SameSite=Lax (`serializeSessionCookie`), Secure when the request came
 * over HTTPS. A visitor without a session gets one only when a page shows a form (its CSRF token
 * needs a session), as Django sets its CSRF cookie only then; other pages set no cookie.
 */
import { parse as parseCookies } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ANONYMOUS_USER, DEFAULT_SESSION_COOKIE, DEFAULT_SESSION_TTL_MS, getUser, serializeSessionCookie, type ScopeSession, type ScopeUser } from 'switchboard';
import type { Accounts } from './accounts.js';
import { ANONYMOUS_SESSION_TTL_MS } from './accounts.js';
import { csrfToken } from './csrf.js';

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

/**
 * The CSRF token for a form on this page: of the visitor's session, or of a new anonymous session
 * (one day) whose cookie is set on `reply`.
 */
export async function formToken(request: FastifyRequest, reply: FastifyReply, accounts: Accounts): Promise<string> {
  const { session } = await visitorOf(request, accounts);
  let key = session.key;
  if (key === null) {
    key = await accounts.sessions.save(null, {}, ANONYMOUS_SESSION_TTL_MS);
    setSessionCookie(request, reply, key, ANONYMOUS_SESSION_TTL_MS);
  }
  return csrfToken(accounts.secretKey, key);
}
