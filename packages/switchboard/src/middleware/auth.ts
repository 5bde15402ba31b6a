/**
 * Authentication for WebSocket connections (Channels `channels.auth`): `AuthMiddleware` puts the
 * session's user in `scope.user`, `AuthMiddlewareStack` composes Cookie → Session → Auth, and
 * `login()` / `logout()` change the session the same way from HTTP handlers and consumers, with
 * typed `authSignals` (Django's `user_logged_in` / `user_logged_out`).
 */
import { asApplication, type ResolvedConsumer, type WebsocketApplication, type WebsocketTarget } from '../routing/application.js';
import type { Scope, ScopeSession, ScopeUser } from '../scope.js';
import { CookieMiddleware } from './cookies.js';
import { DEFAULT_SESSION_TTL_MS, SessionMiddleware, type SessionData, type SessionStore } from './session.js';

/** Session key holding the logged-in user's id (Django's `SESSION_KEY`). */
export const SESSION_USER_ID_KEY = '_auth_user_id';

/** Where users are looked up by the id stored in the session. */
export interface UserStore {
  /**
   * The user with this id, or `null` when there is none (deleted, disabled).
   * `id` comes from session data: the store should accept only ids it issued.
   * The returned user must have `isAuthenticated: true`.
   */
  getById(id: string | number): Promise<ScopeUser | null>;
}

/** The user of a connection without a logged-in session (Django's `AnonymousUser`). */
export const ANONYMOUS_USER: ScopeUser = Object.freeze({ id: null, username: '', isAuthenticated: false });

/** Options of {@link AuthMiddleware}. */
export interface AuthMiddlewareOptions {
  /** Resolves the user id found in the session. */
  users: UserStore;
}

/** The user id stored in session data, if it has a usable type. */
function sessionUserId(data: SessionData): string | number | null {
  const id = data[SESSION_USER_ID_KEY];
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  if (typeof id === 'string' && id.length > 0 && id.length <= 255) return id;
  return null;
}

/**
 * Puts the session's user (or {@link ANONYMOUS_USER}) in `scope.user` and hands the new scope to
 * `inner` (Channels `AuthMiddleware`).
 *
 * Needs `scope.session`: put {@link SessionMiddleware} outside it, or use
 * {@link AuthMiddlewareStack}. A session without a user id, or whose user the store no longer
 * knows, gives the anonymous user; refusing anonymous users is the consumer's call (close with
 * 4401 after accept, or refuse before accept: HTTP 403).
 *
 * @throws TypeError at handshake time when `scope.session` is missing (a middleware-order bug;
 *   Channels raises the same: "SessionMiddleware must be above it").
 */
export class AuthMiddleware implements WebsocketApplication {
  readonly #inner: WebsocketApplication;
  readonly #users: UserStore;

  /** @throws TypeError when `inner` is not an application or consumer class, or `users` is missing. */
  constructor(inner: WebsocketTarget, options: AuthMiddlewareOptions) {
    if (!options?.users || typeof options.users.getById !== 'function') {
      throw new TypeError('AuthMiddleware: options.users must implement UserStore (getById)');
    }
    this.#inner = asApplication(inner);
    this.#users = options.users;
  }

  async resolve(scope: Scope): Promise<ResolvedConsumer | null> {
    if (!scope.session) {
      throw new TypeError('AuthMiddleware cannot find scope.session: put SessionMiddleware outside it, or use AuthMiddlewareStack');
    }
    const user = await getUser(scope.session, this.#users);
    return this.#inner.resolve({ ...scope, user });
  }
}

/**
 * The user a session belongs to, or {@link ANONYMOUS_USER} (Django's `get_user`). HTTP handlers
 * use it with the session they loaded from the cookie.
 */
export async function getUser(session: ScopeSession | undefined, users: UserStore): Promise<ScopeUser> {
  if (!session || session.key === null) return ANONYMOUS_USER;
  const id = sessionUserId(session.data);
  if (id === null) return ANONYMOUS_USER;
  const user = await users.getById(id);
  return user && user.isAuthenticated ? user : ANONYMOUS_USER;
}

/** Options of {@link AuthMiddlewareStack}. */
export interface AuthMiddlewareStackOptions {
  /** Session storage shared with the HTTP side. */
  sessions: SessionStore;
  /** User lookup by id. */
  users: UserStore;
  /** Session cookie name. Default `'sessionid'`. */
  cookieName?: string;
}

/**
 * `CookieMiddleware(SessionMiddleware(AuthMiddleware(inner)))`, the stack Channels users wrap
 * their router in: after it, `scope.cookies`, `scope.session` and `scope.user` are set.
 *
 * @example
 * ```ts
 * new ProtocolTypeRouter({
 *   websocket: new OriginValidator(new AuthMiddlewareStack(router, { sessions, users }), origins),
 * });
 * ```
 */
export class AuthMiddlewareStack implements WebsocketApplication {
  readonly #app: WebsocketApplication;

  /** @throws TypeError for a bad `inner`, `sessions` or `users`. */
  constructor(inner: WebsocketTarget, options: AuthMiddlewareStackOptions) {
    const auth = new AuthMiddleware(inner, { users: options.users });
    const session = new SessionMiddleware(auth, {
      store: options.sessions,
      ...(options.cookieName === undefined ? {} : { cookieName: options.cookieName }),
    });
    this.#app = new CookieMiddleware(session);
  }

  resolve(scope: Scope): ResolvedConsumer | null | Promise<ResolvedConsumer | null> {
    return this.#app.resolve(scope);
  }
}

// ---- signals ----------------------------------------------------------------------------------

/** Payload of `user.logged_in`. */
export interface UserLoggedInEvent {
  /** The user now logged in. */
  readonly user: ScopeUser;
  /** The session key after rotation (the one the browser will send from now on). */
  readonly sessionKey: string;
}

/** Payload of `user.logged_out`. */
export interface UserLoggedOutEvent {
  /** The user who logged out; {@link ANONYMOUS_USER} when the session had none. */
  readonly user: ScopeUser;
  /** The session key that was destroyed, or `null` when there was no session. */
  readonly sessionKey: string | null;
}

/** Event name → payload, for {@link AuthSignals}. */
export interface AuthSignalMap {
  'user.logged_in': UserLoggedInEvent;
  'user.logged_out': UserLoggedOutEvent;
}

/** A signal listener; may be async (it is awaited). */
export type AuthSignalListener<E extends keyof AuthSignalMap> = (event: AuthSignalMap[E]) => void | Promise<void>;

/**
 * A typed, in-process signal hub (Django's `user_logged_in` / `user_logged_out`).
 *
 * Listeners run in registration order and are awaited one after the other, so `await login(...)`
 * returns once every listener finished (e.g. the `logged_in_users` row exists before the redirect).
 * A listener that throws does not stop the others; `emit` then rejects with that error (or an
 * `AggregateError` when several threw).
 *
 * In-process only: a listener runs in the process where `login()` / `logout()` ran. To tell
 * other processes (the `/users/` page served by process B when the login happened on A), a
 * listener forwards the event through the channel layer, e.g.
 * `layer.groupSend('users', {type: 'user.status', username, is_logged_in: true})`.
 */
export class AuthSignals {
  readonly #listeners: { [E in keyof AuthSignalMap]: Array<AuthSignalListener<E>> } = {
    'user.logged_in': [],
    'user.logged_out': [],
  };

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof AuthSignalMap>(event: E, listener: AuthSignalListener<E>): () => void {
    this.#list(event).push(listener);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with {@link AuthSignals.on} (the first registration of it). */
  off<E extends keyof AuthSignalMap>(event: E, listener: AuthSignalListener<E>): void {
    const list = this.#list(event);
    const i = list.indexOf(listener);
    if (i !== -1) list.splice(i, 1);
  }

  /** Number of listeners for `event`. */
  listenerCount(event: keyof AuthSignalMap): number {
    return this.#listeners[event].length;
  }

  /**
   * Calls every listener of `event` with `payload`, awaiting each.
   * @throws the listener's error (or an `AggregateError`) after all listeners ran.
   */
  async emit<E extends keyof AuthSignalMap>(event: E, payload: AuthSignalMap[E]): Promise<void> {
    const errors: unknown[] = [];
    // A copy: a listener that removes itself must not make the loop skip the next one.
    for (const listener of [...this.#list(event)]) {
      try {
        await listener(payload);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} ${event} listeners failed`);
  }

  #list<E extends keyof AuthSignalMap>(event: E): Array<AuthSignalListener<E>> {
    return this.#listeners[event] as Array<AuthSignalListener<E>>;
  }
}

/** The process-wide signal hub `login()` and `logout()` emit on unless given another. */
export const authSignals = new AuthSignals();

// ---- login / logout -------------------------------------------------------------------------

/** Something that carries a session: a WebSocket scope, or `{session}` built by an HTTP handler. */
export interface HasSession {
  readonly session?: ScopeSession | undefined;
}

/** Options of {@link login}. */
export interface LoginOptions {
  /** The session store (the one `SessionMiddleware` reads). */
  store: SessionStore;
  /** Session lifetime from now. Default two weeks. */
  ttlMs?: number;
  /** Signal hub. Default {@link authSignals}. */
  signals?: AuthSignals;
}

/** Options of {@link logout}. */
export interface LogoutOptions {
  /** The session store. */
  store: SessionStore;
  /** Signal hub. Default {@link authSignals}. */
  signals?: AuthSignals;
  /**
   * Who is logging out, for the signal. Default `target.user` when `target` is a scope, else
   * {@link ANONYMOUS_USER}; HTTP handlers pass the user they resolved with {@link getUser}.
   */
  user?: ScopeUser;
}

/**
 * Logs `user` in on the session of `target` (Django's `django.contrib.auth.login`).
 *
 * The session id is always rotated (session fixation: the key a visitor had before login stops
 * working). The session's data is kept when it was anonymous or already this user's, and
 * dropped when it belonged to another user (as Django's `login` flushes it). Then
 * `user.logged_in` is emitted and awaited.
 *
 * The caller delivers the returned key: an HTTP handler sets it with `serializeSessionCookie`;
 * a consumer cannot set cookies (and its own `scope` keeps the old snapshot).
 *
 * @param user - an authenticated user (verify the password first).
 * @returns the new session; its `key` replaces the cookie.
 * @throws TypeError for an anonymous user; whatever the store or a listener throws.
 */
export async function login(target: HasSession, user: ScopeUser, options: LoginOptions): Promise<ScopeSession> {
  if (!user.isAuthenticated || user.id === null) throw new TypeError('login(): the user must be authenticated and have an id');
  const { store } = options;
  const ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const current = target.session;
  let key: string | null = null;
  let data: SessionData = {};
  if (current?.key) {
    const previous = sessionUserId(current.data);
    // Another user's session: start clean (Django flushes it) instead of inheriting their data.
    if (previous === null || String(previous) === String(user.id)) data = { ...current.data };
    key = await store.rotate(current.key);
  }
  data[SESSION_USER_ID_KEY] = user.id;
  // `key` is null when there was no live session: save() then creates a fresh one.
  const sessionKey = await store.save(key, data, ttlMs);
  await (options.signals ?? authSignals).emit('user.logged_in', { user, sessionKey });
  return { key: sessionKey, data };
}

/**
 * Logs out the session of `target` (Django's `logout`): destroys the session in the store, then
 * emits `user.logged_out` and awaits its listeners. Safe to call without a session.
 *
 * @returns an empty session (`{key: null, data: {}}`); clear the cookie with
 *   `serializeSessionCookie(null)`.
 */
export async function logout(target: HasSession & { readonly user?: ScopeUser | undefined }, options: LogoutOptions): Promise<ScopeSession> {
  const key = target.session?.key ?? null;
  if (key !== null) await options.store.destroy(key);
  const user = options.user ?? target.user ?? ANONYMOUS_USER;
  await (options.signals ?? authSignals).emit('user.logged_out', { user, sessionKey: key });
  return { key: null, data: {} };
}
