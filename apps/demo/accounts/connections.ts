/**
 * Who is online (seed 003), and logging a session's sockets out.
 *
 * {@link AccountConnections} sits inside `AuthMiddlewareStack` and gives whatever consumer the
 * router picked for a **logged-in** connection (chat, `/users/`, words, IoT, dice: every page's
 * socket counts) a feature (`ResolvedConsumer.features`, no subclass) that:
 * - joins the session's group (`session.<hash of the key>`), whose `account.logout` event closes
 *   the socket with 4401; `/log_out/` sends it through the channel layer, so the sockets close on
 *   whichever process holds them;
 * - records the connection in the presence store (key: {@link presenceKey}) once the consumer accepted,
 *   and removes it on disconnect. The store answers "first connection of this user" / "last one"
 *   atomically across processes (RedisPresenceStore), so several tabs count once and the group
 *   `users` gets exactly one status when a user's first page opens (`active: true`) and one when
 *   their last page closes (`active: false`).
 *
 * Two facts per user, as users expect them: `is_logged_in` (seed 003's field: the user has a live,
 * logged-in session, whether or not a page is open; the log-in and log-out signals announce it,
 * demo/accounts/accounts.ts) and `active` (at least one page of the site is open now: presence).
 * Every status frame carries both, so the seed's page, which reads only `is_logged_in`, shows
 * "Online" for anyone logged in.
 * Anonymous connections pass through untouched.
 */
import { createHash } from 'node:crypto';
import {
  CloseCode,
  asApplication,
  type ConsumerFeature,
  type FeatureContext,
  type LayerMessage,
  type PresenceStore,
  type ResolvedConsumer,
  type Scope,
  type WebsocketApplication,
  type WebsocketTarget,
} from 'switchboard';

/** The channel-layer group of every `/users/` page (the seed's `Group('users')`). */
export const USERS_GROUP = 'users';

/** The presence-store group that holds logged-in users' open connections. */
export const ONLINE_PRESENCE_GROUP = 'users';

/** Event type that closes every socket of a session with 4401 (handler `accountLogout`). */
export const LOGOUT_EVENT_TYPE = 'account.logout';

/** Event type of a status change sent to {@link USERS_GROUP} (handler `userStatus`). */
export const USER_STATUS_EVENT_TYPE = 'user.status';

/** The seed's message, plus `active`: sent as is to every `/users/` page. */
export interface UserStatusPayload {
  readonly username: string;
  /** Logged in: a live session (seed 003's meaning of "Online"). */
  readonly is_logged_in: boolean;
  /** Active now: at least one page of the site open with a socket (presence). */
  readonly active: boolean;
}

/** The current status of `username` (from the database and presence). */
export type StatusOf = (username: string) => Promise<UserStatusPayload>;

/** A status change on the layer: `{type: 'user.status', payload: {username, is_logged_in}}`. */
export interface UserStatusEvent extends LayerMessage {
  readonly type: typeof USER_STATUS_EVENT_TYPE;
  readonly payload: UserStatusPayload;
}

/**
 * The group of one session's sockets: `session.` and 40 hex digits of SHA-256 of the key (the key
 * itself never leaves the process: layer messages may sit in Redis).
 */
export function sessionGroup(sessionKey: string): string {
  return `session.${createHash('sha256').update(sessionKey).digest('hex').slice(0, 40)}`;
}

/**
 * A user's presence key: the username in lower case (usernames are unique ignoring case and never
 * change). Not the id: ids restart at 1 in every database, and several test databases share one
 * Redis.
 */
export function presenceKey(username: string): string {
  return username.toLowerCase();
}

/** Builds the status event for `payload`. */
export function userStatusEvent(payload: UserStatusPayload): UserStatusEvent {
  return { type: USER_STATUS_EVENT_TYPE, payload };
}

/** Options of {@link AccountConnections}. */
export interface AccountConnectionsOptions {
  /** Where open connections of logged-in users are counted (Redis across processes). */
  presence: PresenceStore;
  /** A user's status once their presence changed (`Accounts.statusOf`). */
  statusOf: StatusOf;
}

/**
 * Middleware: wraps the consumer of each logged-in connection as described in the module comment.
 * Put it inside `AuthMiddlewareStack` (it reads `scope.user` and `scope.session`).
 */
export class AccountConnections implements WebsocketApplication {
  readonly #inner: WebsocketApplication;
  readonly #presence: PresenceStore;
  readonly #statusOf: StatusOf;

  /** @throws TypeError for a bad `inner`. */
  constructor(inner: WebsocketTarget, options: AccountConnectionsOptions) {
    this.#inner = asApplication(inner);
    this.#presence = options.presence;
    this.#statusOf = options.statusOf;
  }

  async resolve(scope: Scope): Promise<ResolvedConsumer | null> {
    const resolved = await this.#inner.resolve(scope);
    if (!resolved) return null;
    const { user, session } = resolved.scope;
    if (!user?.isAuthenticated || user.id === null || !session?.key) return resolved;
    return { ...resolved, features: [...(resolved.features ?? []), new SessionConnection(this.#presence, this.#statusOf)] };
  }
}

/**
 * The feature every logged-in connection gets from {@link AccountConnections}: it joins the
 * session's group (before the groups are joined, so a log-out racing the handshake still reaches
 * it), counts the connection as active once it is open, closes it with 4401 on `account.logout`,
 * and removes it from presence at disconnect.
 */
class SessionConnection implements ConsumerFeature {
  readonly name = 'sessionConnection';
  readonly #presence: PresenceStore;
  readonly #statusOf: StatusOf;
  #present = false;

  constructor(presence: PresenceStore, statusOf: StatusOf) {
    this.#presence = presence;
    this.#statusOf = statusOf;
  }

  attach({ consumer }: FeatureContext): void {
    const key = consumer.scope.session?.key;
    if (key) consumer.groups = [...consumer.groups, sessionGroup(key)];
  }

  async connected({ consumer }: FeatureContext): Promise<void> {
    const username = consumer.scope.user?.username;
    if (username === undefined) return;
    try {
      const { changed } = await this.#presence.add(ONLINE_PRESENCE_GROUP, presenceKey(username), consumer.channelName, { username });
      this.#present = true;
      if (changed) await consumer.channelLayer?.groupSend(USERS_GROUP, userStatusEvent(await this.#statusOf(username)));
    } catch (err) {
      // Presence is a display; the connection itself is fine. Redis down is the usual cause.
      consumer.logger.error({ err, user: username }, 'presence: could not record this connection as online');
    }
  }

  /** `account.logout` to the session's group: the session ended (maybe on another process). */
  event(event: LayerMessage, { consumer }: FeatureContext): boolean {
    if (event.type !== LOGOUT_EVENT_TYPE) return true;
    consumer.close(CloseCode.UNAUTHORIZED, 'logged out');
    return false;
  }

  async disconnected(_code: number, { consumer }: FeatureContext): Promise<void> {
    const username = consumer.scope.user?.username;
    if (!this.#present || username === undefined) return;
    try {
      const { changed } = await this.#presence.remove(ONLINE_PRESENCE_GROUP, presenceKey(username), consumer.channelName);
      if (changed) await consumer.channelLayer?.groupSend(USERS_GROUP, userStatusEvent(await this.#statusOf(username)));
    } catch (err) {
      consumer.logger.error({ err, user: username }, 'presence: could not remove this connection; it expires with the presence TTL');
    }
  }
}
