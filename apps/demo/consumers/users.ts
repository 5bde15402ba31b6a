/**
 * Who is online (SEEDS.md system 5, seed 003): the `/users/` page's socket, on the page's own
 * path (`ws://host/users/`, as the seed's script), in group `users`.
 *
 * - Logged-in users only: an anonymous connection is accepted and closed with 4401 (the page
 *   itself redirects to `/log_in/`), so the client can tell "log in" from a network error.
 * - On open it sends the current status of every user, one seed message each
 *   (`{"username": "...", "is_logged_in": true|false, "active": true|false}`: logged in, and a
 *   page open now), so a change between the page's render and the socket's open is not lost
 *   (Phoenix presence: state first, then diffs); then every change, as the group receives it (see
 *   demo/accounts/connections.ts for who sends them). A status equal to the last one this socket
 *   sent for that user is not sent again (the viewer's own page opening announces the viewer,
 *   whom the opening list already showed active).
 * - Client frames are ignored: the seed's page sends nothing.
 */
import { CloseCode, JsonWebsocketConsumer, type EventHandlers, type LayerEvent, type RouteKwargs } from 'switchboard';
import { USERS_GROUP, type UserStatusPayload } from '../accounts/connections.js';

/** The events of group `users`: a status change, sent by the accounts code (see accounts/connections.ts). */
export interface UsersEvents {
  'user.status': { readonly payload?: Partial<UserStatusPayload> };
}

/** Where the opening snapshot comes from (`Accounts.statuses`). */
export type StatusSnapshot = () => Promise<readonly UserStatusPayload[]>;

/** Init arguments of {@link UsersConsumer}: where the opening snapshot comes from (none: no snapshot). */
export interface UsersConsumerArgs {
  readonly snapshot?: StatusSnapshot;
}

/** The `/users/` socket. Route it as `UsersConsumer.with({ snapshot })`. */
export class UsersConsumer extends JsonWebsocketConsumer<RouteKwargs, UsersEvents, UsersConsumerArgs | undefined> implements EventHandlers<UsersEvents> {
  override groups: readonly string[] = [USERS_GROUP];

  /** The last status sent per username (lower case), so an unchanged one is not sent twice. */
  readonly #sent = new Map<string, string>();

  /** Sends `status` unless it is what this socket last sent for that user. */
  #send(status: UserStatusPayload): void {
    const key = status.username.toLowerCase();
    const value = `${status.is_logged_in}/${status.active}`;
    if (this.#sent.get(key) === value) return;
    this.#sent.set(key, value);
    this.sendJson(status); // the event's own object: encoded once for every page (DESIGN.md §7)
  }

  override async connect(): Promise<void> {
    this.accept();
    if (!this.scope.user?.isAuthenticated) {
      this.close(CloseCode.UNAUTHORIZED, 'log in to see who is online');
      return;
    }
    const snapshot = this.args?.snapshot;
    if (!snapshot) return;
    // This page is open, so its user is logged in and active, though presence records it only
    // after connect().
    const self = this.scope.user.username.toLowerCase();
    for (const status of await snapshot()) {
      this.#send(status.username.toLowerCase() === self ? { username: status.username, is_logged_in: true, active: true } : status);
    }
  }

  /** `user.status` from the group: forwards the seed message `{username, is_logged_in, active}`. */
  userStatus(event: LayerEvent<UsersEvents, 'user.status'>): void {
    const payload: Partial<UserStatusPayload> | undefined = event.payload;
    if (typeof payload?.username !== 'string' || typeof payload.is_logged_in !== 'boolean' || typeof payload.active !== 'boolean') {
      this.logger.warn({ type: event.type }, 'users: user.status event without {username, is_logged_in, active}; dropped');
      return;
    }
    this.#send({ username: payload.username, is_logged_in: payload.is_logged_in, active: payload.active });
  }
}
