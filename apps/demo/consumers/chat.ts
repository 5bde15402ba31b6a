/**
 * Chat rooms (SEEDS.md system 3): seeds 000, 001 and 002 with their wire protocol kept.
 *
 * - `ws/chat/<roomName>/` joins group `chat_<roomName>`; `ws/chat/` is seed 002's single room,
 *   group `chat_chat_room` (the same group as the room named `chat_room`, so `/chat/chat_room/`
 *   shows what a backend push to seed 002's room sends).
 * - The client sends `{"message": "..."}`; a `username` it sends is ignored (the seeds trusted it,
 *   so anyone could post as anyone). Everyone in the room, sender included, receives
 *   `{"message": "...", "username": "..."}` with the server-assigned name.
 * - A logged-in user (`scope.user`, from the session by `AuthMiddlewareStack`) posts under their
 *   username; a guest under the guest name of the signed `sb_guest` cookie that the HTTP pages set
 *   (a connection without a correctly signed one gets a fresh guest name of its own).
 * - Rooms named `members-…` are for logged-in users: a guest is accepted and closed with 4401.
 * - With a message store (`ChatConsumer.with({ messages })`, as the demo routes it), each
 *   message is stored before it is sent, and a new connection first gets the room's last
 *   {@link HISTORY_MESSAGES} messages, oldest first, in the same `{"message", "username"}` frames,
 *   then live ones. Pushes from outside (seed 002's `send_message`) are shown, not stored.
 * - With a history store on the server (the demo has one), messages are published with history,
 *   so frames carry `epoch` and `offset` too (seed clients ignore them). A page that reconnects
 *   with `?since=<epoch>:<offset>` (the browser `SwitchboardSocket` does) gets the messages it
 *   missed instead of the stored ones, then a `switchboard.history` frame; when the gap cannot be
 *   filled (`recovered: false` in that frame) it gets the stored messages as on a fresh open.
 */
import { BadRequestError, CloseCode, frameRateLimit, historyRecovery, JsonWebsocketConsumer, presence, withPosition, type ConsumerFeature, type LayerEvent, type LayerMessage, type PresenceStore } from 'switchboard';
import { guestNameOf } from '../accounts/guest-identity.js';
import { MAX_HISTORY, type ChatMessageRepository } from '../db/messages.js';
import type { RoomDirectory } from './room-directory.js';
import { isValidRoomName, normalizeRoomName, roomGroup } from './room-name.js';

// Guest names live with their signed cookie; re-exported for the chat's users.
export { GUEST_COOKIE, GUEST_NAME_PATTERN, isGuestName, newGuestName } from '../accounts/guest-identity.js';
export { isValidRoomName } from './room-name.js';

/** Messages one chat connection may send: a burst of 100, refilled at 10 per second. */
export const CHAT_RATE_LIMIT = Object.freeze({ limit: 100, windowMs: 10_000 });

/** Seed 002's single room (`ws/chat/`) uses this group. */
export const SINGLE_ROOM_GROUP = 'chat_chat_room';

/** Longest message accepted, in characters (Unicode code points). */
export const MAX_MESSAGE_CHARS = 2000;

/** Rooms whose name starts with this are for logged-in users only. */
export const MEMBERS_ONLY_PREFIX = 'members-';

/** Stored messages a new connection gets first. */
export const HISTORY_MESSAGES = 50;

/**
 * The chat's events on the channel layer. `chat.message` from this app carries `payload` (sent to
 * every member as is: one object per `groupSend`, encoded once, DESIGN.md §7) and the stored
 * message's `id` (a member whose history already had it skips it); pushes from outside (seed
 * 002's `send_message`) may carry a flat `message` and `username` instead.
 */
export interface ChatEvents {
  'chat.message': {
    readonly payload?: { readonly message: string; readonly username: string; readonly id?: number };
    readonly id?: number;
    readonly message?: unknown;
    readonly username?: unknown;
  };
}

/** A chat message event as it travels on the layer. */
export type ChatMessageEvent = LayerEvent<ChatEvents, 'chat.message'>;

/** Init arguments of {@link ChatConsumer}: where messages are stored (none: nothing is stored). */
export interface ChatConsumerArgs {
  readonly messages?: ChatMessageRepository | null;
  readonly rooms?: RoomDirectory | null;
  /** Who is in each room ("who is here" on the room page); none: no presence frames. */
  readonly presence?: PresenceStore | null;
}

/** The presence key and info of a chat connection: its name. Pages ask for the list with `?presence=1`; seed pages never get the frames. */
function chatPresence(store: PresenceStore, group: string, name: () => string): ConsumerFeature {
  return presence({
    store,
    group,
    key: name,
    info: () => ({ username: name() }),
    watch: (scope) => new URLSearchParams(scope.queryString).has('presence'),
  });
}

/**
 * Whether guests are refused from `roomName` (see {@link MEMBERS_ONLY_PREFIX}), ignoring case and
 * compatibility forms: `Members-x` and the full-width `ｍｅｍｂｅｒｓ-x` are members-only too, so a
 * room cannot look members-only to its members and be open to guests.
 */
export function isMembersOnlyRoom(roomName: string | undefined): boolean {
  return roomName !== undefined && roomName.normalize('NFKC').toLowerCase().startsWith(MEMBERS_ONLY_PREFIX);
}

/**
 * The group of a room: `chat_<roomName>` (non-ASCII names encoded, see room-name.ts), or
 * {@link SINGLE_ROOM_GROUP} for seed 002's `ws/chat/` (no room name). `null` for a name that is
 * not a room name (`roomName` comes from the URL: untrusted; normalised to NFC first).
 */
export function groupForRoom(roomName: string | undefined): string | null {
  if (roomName === undefined) return SINGLE_ROOM_GROUP;
  const name = normalizeRoomName(roomName);
  return name !== null && isValidRoomName(name) ? roomGroup('chat_', name) : null;
}

/**
 * One chat connection.
 *
 * Handshake: a name that is not a room name (room-name.ts: letters of any script, digits, `_`,
 * `-`, at most 64) is refused in `connect()` by closing
 * before accepting, which the server answers with HTTP 403 (the room exists as a route, the name
 * is not allowed; a 404 would suggest a typo in the path). The close code given, 4403, is what
 * `WebsocketCommunicator` reports as `closeCode`. The room name comes from the URL: untrusted.
 *
 * Messages: `{"message": string}` with 1 to {@link MAX_MESSAGE_CHARS} characters, not only
 * whitespace. Anything else answers an error frame `{type: "error", code: "SB_ERR_BAD_REQUEST"}`
 * (invalid JSON: `SB_ERR_INVALID_JSON`); the fifth bad frame closes the connection with 4400.
 */
export class ChatConsumer extends JsonWebsocketConsumer<{ roomName?: string }, ChatEvents, ChatConsumerArgs | undefined> {
  /** Where messages are stored and history read (`ChatConsumer.with({ messages })`); `null`: neither. */
  readonly messages: ChatMessageRepository | null = this.args?.messages ?? null;

  /** Where open rooms are counted for the `/chat/` index (`ChatConsumer.with({ rooms })`); `null`: nowhere. */
  readonly rooms: RoomDirectory | null = this.args?.rooms ?? null;

  /** The room's group, or `null` when the room name is refused. */
  readonly group: string | null = groupForRoom(this.scope.urlRoute.kwargs.roomName);

  /** Joined before `connect()`; none for a refused room name (it would not be a valid group). */
  override groups: readonly string[] = this.group === null ? [] : [this.group];

  /** A reconnecting page recovers the room's messages from the server's history store. */
  readonly recovery = historyRecovery(this.group);

  /**
   * History recovery, and flood protection: {@link CHAT_RATE_LIMIT} per connection. Far above
   * typing speed; a script that floods gets `SB_ERR_RATE_LIMITED` error frames, then 4429, and the
   * room never sees more than the limit.
   */
  override features = [this.recovery, frameRateLimit(CHAT_RATE_LIMIT), ...(this.args?.presence && this.group !== null ? [chatPresence(this.args.presence, this.group, () => this.username)] : [])];

  /**
   * The name this connection posts as: the logged-in user's username; for a guest the name of a
   * correctly signed `sb_guest` cookie (demo/accounts/guest-identity.ts), else a fresh guest name.
   * Never what the client sends.
   */
  readonly username: string = this.scope.user?.isAuthenticated ? this.scope.user.username : guestNameOf(this.scope);

  /** Highest stored id sent in the history: live events up to it were already shown. */
  #historyUntil = 0;

  /** Whether this connection is counted in the room directory. */
  #listed = false;

  /** The room as stored: the name (NFC), or `chat_room` for seed 002's single room. */
  get #room(): string {
    return normalizeRoomName(this.scope.urlRoute.kwargs.roomName) ?? 'chat_room';
  }

  override async connect(): Promise<void> {
    const roomName = this.scope.urlRoute.kwargs.roomName;
    if (this.group === null) {
      this.logger.info({ roomName }, 'chat: refused room name; allowed: letters, digits, _ and -, at most 64');
      this.close(CloseCode.FORBIDDEN, 'invalid room name');
      return;
    }
    if (this.channelLayer === null) {
      this.logger.error('chat: ChatConsumer needs a channel layer; give the server one (channelLayer option)');
      this.close(CloseCode.INTERNAL_ERROR, 'no channel layer');
      return;
    }
    this.accept();
    if (isMembersOnlyRoom(roomName) && !this.scope.user?.isAuthenticated) {
      // Accepted first so the page sees the code (a refused handshake is only "1006" to a browser).
      this.close(CloseCode.UNAUTHORIZED, 'members only: log in to enter this room');
      return;
    }
    await this.#list(true);
    // A page that comes back with `since` gets what it missed from the history. When that fails
    // (`recovered: false`: a restarted Redis, a gap wider than the window) a page that sent
    // `after=<its last message id>` continues from the database, exactly once; a fresh open gets
    // the last HISTORY_MESSAGES stored ones.
    const recovery = await this.recovery.recover();
    if (recovery?.recovered) return;
    const messages = this.messages;
    if (messages) {
      const after = afterParam(this.scope.queryString);
      const stored = after === null ? await messages.recent(this.#room, HISTORY_MESSAGES) : await catchUp(messages, this.#room, after);
      // Live events arriving meanwhile queue behind connect(), so they follow the stored ones.
      for (const m of stored) {
        this.sendJson({ message: m.message, username: m.username, id: m.id });
        this.#historyUntil = m.id;
      }
    }
  }

  override async disconnect(_code: number): Promise<void> {
    await this.#list(false);
  }

  /** Counts this connection in the room directory, or stops; a store failure only costs the listing. */
  async #list(enter: boolean): Promise<void> {
    const rooms = this.rooms;
    if (rooms === null || this.#listed === enter) return;
    this.#listed = enter;
    try {
      if (enter) await rooms.enter(this.#room, this.channelName);
      else await rooms.leave(this.#room, this.channelName);
    } catch (err) {
      this.logger.warn({ err, room: this.#room }, 'chat: the room directory (presence) failed; the /chat/ list may be off');
    }
  }

  /** `content` comes from the client: validated here, and its `username` ignored. */
  override async receiveJson(content: unknown): Promise<void> {
    const message = validateMessage(content);
    const messages = this.messages;
    let id: number | undefined;
    if (messages) {
      try {
        id = (await messages.add({ room: this.#room, username: this.username, message })).id;
      } catch (err) {
        // The room still gets the message; it is only missing from later histories.
        this.logger.error({ err, room: this.#room }, 'chat: storing the message failed; sent without storing');
      }
    }
    // Without a history store on the server this is a plain groupSend. The stored id travels in the
    // frame too, so a page can continue from the database after its last message (`after=`).
    const payload = id === undefined ? { message, username: this.username } : { message, username: this.username, id };
    await this.groupSendWithHistory(this.group!, { type: 'chat.message', payload, ...(id === undefined ? {} : { id }) });
  }

  /**
   * `chat.message` from the group, live or recovered: forwards `{message, username}`, plus the
   * event's `epoch` and `offset` when it was published with history.
   *
   * Takes this app's events (`payload`, the same object for every member, so it is encoded once)
   * and seed-style flat events `{type, message, username?}` sent from outside (seed 002's backend
   * push); anything else is logged and dropped.
   */
  chatMessage(event: ChatMessageEvent): void {
    const id = event.id;
    if (typeof id === 'number' && id <= this.#historyUntil) return; // already in the history sent
    const payload = event.payload;
    if (payload !== null && typeof payload === 'object') {
      this.sendJson(withPosition(event, payload));
      return;
    }
    if (typeof event.message === 'string') {
      const username = typeof event.username === 'string' ? event.username : 'server';
      this.sendJson({ message: event.message, username });
      return;
    }
    this.logger.warn({ type: event.type }, 'chat: chat.message event without payload or message; dropped');
  }
}

/** Stored messages a reconnecting page may catch up on at once: past this, it starts over from the latest. */
export const MAX_CATCH_UP = 5_000;

/** The `after` query parameter (the id of the page's last message), or `null`: absent or not a whole number. */
function afterParam(queryString: string): number | null {
  const raw = queryString === '' ? null : new URLSearchParams(queryString).get('after');
  if (raw === null || !/^[0-9]{1,15}$/.test(raw)) return null;
  return Number(raw);
}

/** The room's messages after id `after`, in pages, at most {@link MAX_CATCH_UP}. */
async function catchUp(messages: ChatMessageRepository, room: string, after: number): Promise<Array<{ id: number; message: string; username: string }>> {
  const out: Array<{ id: number; message: string; username: string }> = [];
  let last = after;
  while (out.length < MAX_CATCH_UP) {
    const page = await messages.after(room, last);
    out.push(...page);
    if (page.length < MAX_HISTORY) break;
    last = page.at(-1)?.id ?? last;
  }
  return out;
}

/** Checks a client message; returns its text. @throws {@link BadRequestError} when it is not usable. */
function validateMessage(content: unknown): string {
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    throw new BadRequestError('expected a JSON object like {"message": "hello"}');
  }
  const message = (content as Record<string, unknown>)['message'];
  if (typeof message !== 'string') {
    throw new BadRequestError(`"message" must be a string, got ${message === undefined ? 'nothing' : typeof message}; send {"message": "hello"}`);
  }
  if (message.trim().length === 0) throw new BadRequestError('"message" is empty; send some text');
  // UTF-16 length is an upper bound of the code point count: count code points only when needed.
  if (message.length > MAX_MESSAGE_CHARS && [...message].length > MAX_MESSAGE_CHARS) {
    throw new BadRequestError(`"message" has more than ${MAX_MESSAGE_CHARS} characters; split it`);
  }
  return message;
}
