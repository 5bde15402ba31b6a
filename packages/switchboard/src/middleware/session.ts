/**
 * Sessions for WebSocket connections: `SessionStore` (the storage contract), `SessionMiddleware`
 * (puts `scope.session` on the connection, Channels `SessionMiddleware`), an in-memory store for
 * tests and single-process development, and a helper that writes the session cookie for HTTP
 * responses, so HTTP and WebSocket code share one session.
 */
import { randomBytes } from 'node:crypto';
import { serialize } from 'cookie';
import { asApplication, type ResolvedConsumer, type WebsocketApplication, type WebsocketTarget } from '../routing/application.js';
import type { Scope, ScopeSession } from '../scope.js';

/** Session data: a JSON-serialisable object. */
export type SessionData = Record<string, unknown>;

/** The cookie name sessions use unless told otherwise (Django's `SESSION_COOKIE_NAME`). */
export const DEFAULT_SESSION_COOKIE = 'sessionid';

/** Default session lifetime: two weeks, as Django's `SESSION_COOKIE_AGE`. */
export const DEFAULT_SESSION_TTL_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * Where sessions live. Keys are opaque strings chosen by the store, never by the client.
 *
 * Guarantees an implementation gives:
 * - A key is unguessable (at least 128 random bits). A store may keep only a hash of it.
 * - `load` returns `null` for a key that is unknown, malformed or past its expiry; it never throws
 *   for a bad key (keys come from the client's cookie: untrusted).
 * - `save(key, ...)` updates the session in place when `key` is live; when `key` is `null`,
 *   unknown or expired it creates a session under a **new** key, so a key chosen by a client is
 *   never adopted (session fixation, OWASP Session Management Cheat Sheet).
 * - `rotate` is atomic: after it resolves the old key loads `null` and the new one loads the
 *   old data.
 * Stores are shared by HTTP handlers and WebSocket middleware; with a database or Redis behind
 * them, by every process.
 */
export interface SessionStore {
  /** The data of a live session, or `null`. */
  load(key: string): Promise<SessionData | null>;
  /**
   * Stores `data` (JSON-serialisable) for `ttlMs` milliseconds from now.
   * @returns the key: `key` itself when it was live, otherwise a new one.
   */
  save(key: string | null, data: SessionData, ttlMs: number): Promise<string>;
  /** Deletes the session; unknown keys are ignored. */
  destroy(key: string): Promise<void>;
  /**
   * Moves a live session to a new key, keeping its data and expiry, and invalidates the old key
   * (done at login: OWASP "renew the session ID after any privilege level change").
   * @returns the new key, or `null` when `key` is not a live session.
   */
  rotate(key: string): Promise<string | null>;
}

/** Options of {@link SessionMiddleware}. */
export interface SessionMiddlewareOptions {
  /** Where sessions are loaded from. */
  store: SessionStore;
  /** Cookie that carries the session key. Default `'sessionid'` (Django's). */
  cookieName?: string;
}

/** The session of a connection without (a valid) session cookie. */
function emptySession(): ScopeSession {
  return { key: null, data: {} };
}

/**
 * Loads the session named by the session cookie and hands `{...scope, session}` to `inner`
 * (Channels `SessionMiddleware`).
 *
 * Needs `scope.cookies`: put {@link CookieMiddleware} outside it (or use `AuthMiddlewareStack`,
 * which composes Cookie → Session → Auth in the right order). Without it `scope.cookies` is `{}`
 * and every connection gets an empty session.
 *
 * `scope.session` is `{key, data}` for a live session and `{key: null, data: {}}` when the cookie
 * is missing, malformed, unknown or expired. The data is a snapshot taken at the handshake: a
 * change made later over HTTP (login, logout) is not seen by an open connection; broadcast it
 * through the channel layer instead (the demo closes a user's sockets with 4401 at logout).
 *
 * @example
 * ```ts
 * new CookieMiddleware(new SessionMiddleware(router, { store }));
 * ```
 * @throws whatever the store throws (e.g. the database is down): the handshake fails with 500.
 */
export class SessionMiddleware implements WebsocketApplication {
  readonly #inner: WebsocketApplication;
  readonly #store: SessionStore;
  readonly #cookieName: string;

  /** @throws TypeError when `inner` is not an application or consumer class, or `store` is missing. */
  constructor(inner: WebsocketTarget, options: SessionMiddlewareOptions) {
    if (!options?.store || typeof options.store.load !== 'function') {
      throw new TypeError('SessionMiddleware: options.store must implement SessionStore (load, save, destroy, rotate)');
    }
    this.#inner = asApplication(inner);
    this.#store = options.store;
    this.#cookieName = options.cookieName ?? DEFAULT_SESSION_COOKIE;
  }

  async resolve(scope: Scope): Promise<ResolvedConsumer | null> {
    // The cookie comes from the client: the store validates its shape before any lookup.
    const key = scope.cookies[this.#cookieName];
    let session = emptySession();
    if (key) {
      const data = await this.#store.load(key);
      if (data) session = { key, data };
    }
    return this.#inner.resolve({ ...scope, session });
  }
}

/** Options of {@link InMemorySessionStore}. */
export interface InMemorySessionStoreOptions {
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * A {@link SessionStore} in process memory: for tests and single-process development only (a
 * restart logs everyone out, and a second process does not see the sessions). Expired sessions
 * are dropped when touched and by {@link InMemorySessionStore.purgeExpired}.
 */
export class InMemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, { json: string; expiresAt: number }>();
  readonly #now: () => number;

  constructor(options: InMemorySessionStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Number of sessions held, expired ones included until purged. */
  get size(): number {
    return this.#sessions.size;
  }

  async load(key: string): Promise<SessionData | null> {
    const entry = this.#live(key);
    return entry ? (JSON.parse(entry.json) as SessionData) : null;
  }

  async save(key: string | null, data: SessionData, ttlMs: number): Promise<string> {
    checkTtl(ttlMs);
    // Serialise now: the caller may mutate `data` afterwards, and a non-JSON value fails here.
    const json = JSON.stringify(data);
    const live = key === null ? undefined : this.#live(key);
    const k = live && key !== null ? key : newSessionKey();
    this.#sessions.set(k, { json, expiresAt: this.#now() + ttlMs });
    return k;
  }

  async destroy(key: string): Promise<void> {
    this.#sessions.delete(key);
  }

  async rotate(key: string): Promise<string | null> {
    const entry = this.#live(key);
    if (!entry) return null;
    const next = newSessionKey();
    this.#sessions.delete(key);
    this.#sessions.set(next, entry);
    return next;
  }

  /** Drops expired sessions; returns how many. */
  purgeExpired(): number {
    const now = this.#now();
    let n = 0;
    for (const [k, v] of this.#sessions) {
      if (v.expiresAt <= now) {
        this.#sessions.delete(k);
        n++;
      }
    }
    return n;
  }

  #live(key: string): { json: string; expiresAt: number } | undefined {
    const entry = this.#sessions.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return entry;
  }
}

/** A new session key: 32 random bytes (256 bits) from the CSPRNG, base64url (43 cookie-safe characters). */
function newSessionKey(): string {
  return randomBytes(32).toString('base64url');
}

/** @throws RangeError unless `ttlMs` is a positive finite number. */
function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`session ttlMs must be a positive number of milliseconds; got ${ttlMs}`);
}

/** Options of {@link serializeSessionCookie}. */
export interface SessionCookieOptions {
  /** Cookie name. Default `'sessionid'`. */
  cookieName?: string;
  /** Lifetime in milliseconds (sent as `Max-Age` in seconds). Default two weeks. */
  maxAgeMs?: number;
  /** Add `Secure` (HTTPS only). Default `false`; set it whenever the site is served over HTTPS. */
  secure?: boolean;
  /** Cookie path. Default `'/'`. */
  path?: string;
}

/**
 * The `Set-Cookie` value that stores `key` in the browser, or deletes the cookie when `key` is
 * `null` (after logout). Always `HttpOnly` (page scripts cannot read the key) and `SameSite=Lax`
 * (not sent on cross-site subrequests or cross-site POSTs; RFC 6265bis §8.8).
 *
 * WebSocket code cannot set cookies: after `login()` over a WebSocket, hand the new key to an HTTP
 * response (or log in over HTTP, as the demo does).
 */
export function serializeSessionCookie(key: string | null, options: SessionCookieOptions = {}): string {
  const name = options.cookieName ?? DEFAULT_SESSION_COOKIE;
  const common = { httpOnly: true, sameSite: 'lax' as const, path: options.path ?? '/', secure: options.secure ?? false };
  if (key === null) return serialize(name, '', { ...common, maxAge: 0, expires: new Date(0) });
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_SESSION_TTL_MS;
  return serialize(name, key, { ...common, maxAge: Math.floor(maxAgeMs / 1000) });
}
