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
 *   `users` gets exactly one `{"username", "is_logged_in": true}` when a user comes online and one
 *   `false` when their last page closes (or they log out).
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

/** The seed's message: sent as is to every `/users/` page. */
export interface UserStatusPayload {
  readonly username: string;
  readonly is_logged_in: boolean;
}

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

/** Builds the status event for `username`. */
export function userStatusEvent(username: string, isLoggedIn: boolean): UserStatusEvent {
  return { type: USER_STATUS_EVENT_TYPE, payload: { username, is_logged_in: isLoggedIn } };
}

/** Options of {@link AccountConnections}. */
export interface AccountConnectionsOptions {
  /** Where open connections of logged-in users are counted (Redis across processes). */
  presence: PresenceStore;
}

/**
 * Middleware: wraps the consumer of each logged-in connection as described in the module comment.
 * Put it inside `AuthMiddlewareStack` (it reads `scope.user` and `scope.session`).
 */
export class AccountConnections implements WebsocketApplication {
  readonly #inner: WebsocketApplication;
  readonly #presence: PresenceStore;

  /** @throws TypeError for a bad `inner`. */
  constructor(inner: WebsocketTarget, options: AccountConnectionsOptions) {
    this.#inner = asApplication(inner);
    this.#presence = options.presence;
  }

  async resolve(scope: Scope): Promise<ResolvedConsumer | null> {
    const resolved = await this.#inner.resolve(scope);
    if (!resolved) return null;
    const { user, session } = resolved.scope;
    if (!user?.isAuthenticated || user.id === null || !session?.key) return resolved;
    return { ...resolved, features: [...(resolved.features ?? []), new SessionConnection(this.#presence)] };
  }
}

/**
 * The feature every logged-in connection gets from {@link AccountConnections}: it joins the
 * session's group (before `connect()`, so a log-out racing the handshake still reaches it),
 * counts the connection as online once it is open, closes it with 4401 on `account.logout`, and
 * removes it from presence at disconnect.
 */
class SessionConnection implements ConsumerFeature {
  readonly name = 'sessionConnection';
  readonly #presence: PresenceStore;
  #present = false;

  constructor(presence: PresenceStore) {
    this.#presence = presence;
  }

  attach({ consumer }: FeatureContext): void {
    consumer.groups = [...consumer.groups, sessionGroup(consumer.scope.session!.key!)];
  }

  async connected({ consumer }: FeatureContext): Promise<void> {
    const user = consumer.scope.user!;
    try {
      const { changed } = await this.#presence.add(ONLINE_PRESENCE_GROUP, presenceKey(user.username), consumer.channelName, { username: user.username });
      this.#present = true;
      if (changed) await consumer.channelLayer?.groupSend(USERS_GROUP, userStatusEvent(user.username, true));
    } catch (err) {
      // Presence is a display; the connection itself is fine. Redis down is the usual cause.
      consumer.logger.error({ err, user: user.username }, 'presence: could not record this connection as online');
    }
  }

  /** `account.logout` to the session's group: the session ended (maybe on another process). */
  event(event: LayerMessage, { consumer }: FeatureContext): boolean {
    if (event.type !== LOGOUT_EVENT_TYPE) return true;
    consumer.close(CloseCode.UNAUTHORIZED, 'logged out');
    return false;
  }

  async disconnected(_code: number, { consumer }: FeatureContext): Promise<void> {
    if (!this.#present) return;
    const user = consumer.scope.user!;
    try {
      const { changed } = await this.#presence.remove(ONLINE_PRESENCE_GROUP, presenceKey(user.username), consumer.channelName);
      if (changed) await consumer.channelLayer?.groupSend(USERS_GROUP, userStatusEvent(user.username, false));
    } catch (err) {
      consumer.logger.error({ err, user: user.username }, 'presence: could not remove this connection; it expires with the presence TTL');
    }
  }
}
