/**
 * Which chat or dice rooms have people in them now, for the index pages (`/chat/`, `/game/`).
 *
 * Kept in the presence store (in Redis when the demo runs on it, so every process lists the
 * same rooms), one presence group per system: the entry key is the room name, each open socket
 * of the room one connection. An abandoned room disappears with its last socket, or when its
 * process dies, after the presence TTL (60 s).
 */
import type { PresenceStore } from 'switchboard';

/** A room in the list. */
export interface ListedRoom {
  /** The room name (NFC). */
  readonly room: string;
  /** Open sockets in the room, across processes. */
  readonly connections: number;
}

/** Presence groups of the two directories. */
export const CHAT_ROOMS_GROUP = 'rooms.chat';
export const GAME_ROOMS_GROUP = 'rooms.game';

/** Rooms the index pages show at most. */
export const MAX_LISTED_ROOMS = 50;

/** A room as the index pages link it. */
export interface RoomLink extends ListedRoom {
  /** `/chat/<room>/` or `/game/<room>/`, the name percent-encoded. */
  readonly href: string;
}

/**
 * The rooms of `directory` (none without one) as links under `base` (`/chat/`); `[]` when the
 * store fails: the index page still renders, without its list.
 */
export async function listRooms(directory: RoomDirectory | undefined, base: string): Promise<RoomLink[]> {
  if (directory === undefined) return [];
  try {
    return (await directory.list()).map((r) => ({ ...r, href: `${base}${encodeURIComponent(r.room)}/` }));
  } catch {
    return [];
  }
}

/** The rooms of one system. Errors of the store are logged by callers, never fatal. */
export class RoomDirectory {
  readonly #presence: PresenceStore;
  readonly #group: string;

  /** @param group - the presence group, e.g. {@link CHAT_ROOMS_GROUP}. */
  constructor(presence: PresenceStore, group: string) {
    this.#presence = presence;
    this.#group = group;
  }

  /** Counts socket `connectionId` (a channel name) in `room`. */
  async enter(room: string, connectionId: string): Promise<void> {
    await this.#presence.add(this.#group, room, connectionId, { room });
  }

  /** Stops counting socket `connectionId` in `room`. */
  async leave(room: string, connectionId: string): Promise<void> {
    await this.#presence.remove(this.#group, room, connectionId);
  }

  /** Rooms with at least one socket, busiest first (then by name), at most {@link MAX_LISTED_ROOMS}. */
  async list(): Promise<ListedRoom[]> {
    const entries = await this.#presence.list(this.#group);
    return entries
      .filter((e) => e.connections > 0)
      .map((e) => ({ room: e.key, connections: e.connections }))
      .sort((a, b) => b.connections - a.connections || (a.room < b.room ? -1 : a.room > b.room ? 1 : 0))
      .slice(0, MAX_LISTED_ROOMS);
  }
}
