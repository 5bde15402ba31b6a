/**
 * The demo's WebSocket routes (Channels `routing.py`). Seed paths are kept so the seeds' own page
 * scripts work unchanged (DESIGN.md §5).
 */
import { AuthMiddlewareStack, CookieMiddleware, URLRouter, path, type PresenceStore, type Route, type SessionStore, type UserStore, type WebsocketApplication } from 'switchboard';
import { AccountConnections, type StatusOf } from './accounts/connections.js';
import { GuestMiddleware, processGuestIdentity, type GuestIdentity } from './accounts/guest-identity.js';
import { ChatConsumer } from './consumers/chat.js';
import type { RoomDirectory } from './consumers/room-directory.js';
import { UsersConsumer, type StatusSnapshot } from './consumers/users.js';
import type { ChatMessageRepository } from './db/messages.js';
import { systemRoutes, type SystemDeps } from './systems-routes.js';

/** Chat rooms: seed 001/000 rooms, and seed 002's single room at `ws/chat/`. */
export const websocketRoutes = [
  path('ws/chat/', ChatConsumer),
  path('ws/chat/<roomName>/', ChatConsumer),
];

/** What the accounts-aware application needs (the demo builds it from `Accounts`). */
export interface AccountDeps {
  /** Sessions shared with the HTTP pages (the `sessionid` cookie). */
  sessions: SessionStore;
  /** Looks up the session's user. */
  users: UserStore;
  /** Open connections of logged-in users (who is online). */
  presence: PresenceStore;
  /** Chat storage and history. */
  messages: ChatMessageRepository;
  /** The `/users/` socket's opening snapshot. */
  statuses: StatusSnapshot;
  /** One user's status, announced when their presence changes. */
  statusOf: StatusOf;
  /** Where open chat rooms are counted for the `/chat/` page. Default: nowhere. */
  chatRooms?: RoomDirectory;
}

/** Options of {@link createWebsocketApplication}. */
export interface WebsocketApplicationOptions {
  /** Checks the signed guest-name cookie; the HTTP side must sign with the same key. Default: the process's own. */
  guests?: GuestIdentity;
}

/**
 * The WebSocket application.
 *
 * Without `accounts` (unit tests of the chat): cookies parsed into `scope.cookies`, the signed guest
 * name checked into `scope.extensions.guestName` (demo/accounts/guest-identity.ts), then routed by path: the chat only, or with `systems` the word stream,
 * IoT chart and dice rooms too (`ws/any_url/`, `ws/words/`, `ws/two_url/`, `ws/iot/<sensor>/`,
 * `ws/game/<room>/`, see systems-routes.ts).
 *
 * With `accounts` (the demo; the server's own origin check, `ALLOWED_ORIGINS`, ran before):
 * `AuthMiddlewareStack` (cookies, the shared session, `scope.user`) → `GuestMiddleware` → {@link AccountConnections}
 * (presence, log-out closes) → routes: chat with history, `users/` (seed 003's path, the page's
 * own), and the systems. An unrouted path is refused with HTTP 404 before the upgrade.
 */
export function createWebsocketApplication(systems?: SystemDeps, accounts?: AccountDeps, options: WebsocketApplicationOptions = {}): WebsocketApplication {
  const extra: Route[] = systems ? systemRoutes(systems) : [];
  const guests = options.guests ?? processGuestIdentity();
  if (!accounts) return new CookieMiddleware(new GuestMiddleware(new URLRouter([...websocketRoutes, ...extra]), guests));
  const chat = ChatConsumer.with({ messages: accounts.messages, rooms: accounts.chatRooms ?? null, presence: accounts.presence });
  const routes = [
    path('ws/chat/', chat),
    path('ws/chat/<roomName>/', chat),
    path('users/', UsersConsumer.with({ snapshot: accounts.statuses }), 'users'),
    ...extra,
  ];
  const tracked = new AccountConnections(new URLRouter(routes), { presence: accounts.presence, statusOf: accounts.statusOf });
  return new AuthMiddlewareStack(new GuestMiddleware(tracked, guests), { sessions: accounts.sessions, users: accounts.users });
}
