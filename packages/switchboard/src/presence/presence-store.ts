/**
 * Presence: who is in a group now, one entry per key (a user) with a connection count, so several
 * tabs of one user count once (Phoenix Presence; Centrifuge `PresenceManager`). Stores are
 * consistent across processes when the store is shared (Redis); entries of a process that died
 * expire after `ttlMs` because only live processes refresh theirs.
 */

/** One present key (user) in a group. */
export interface PresenceEntry {
  /** The presence key, e.g. a username or user id. */
  readonly key: string;
  /** Info given at the latest `add` (JSON-serialisable), e.g. `{username}`. */
  readonly info: Readonly<Record<string, unknown>>;
  /** Live connections of this key in the group (across processes for a shared store). */
  readonly connections: number;
}

/** Result of {@link PresenceStore.add} / {@link PresenceStore.remove}. */
export interface PresenceChange {
  /** `add`: this was the key's first connection (it joined). `remove`: its last (it left). */
  readonly changed: boolean;
}

/** Options every presence store understands. */
export interface PresenceStoreOptions {
  /** A connection not refreshed for this long is gone. Default 60 000 ms. */
  ttlMs?: number;
  /** How often this process refreshes its connections. Default `ttlMs / 3`. */
  refreshIntervalMs?: number;
}

/**
 * Where presence lives. Guarantees: `add` and `remove` are atomic per key, so concurrent tabs on
 * different processes produce exactly one "joined" and one "left" per key.
 */
export interface PresenceStore {
  /**
   * Records connection `connectionId` of `key` in `group`.
   * @throws {@link InvalidGroupNameError} for a bad group name.
   */
  add(group: string, key: string, connectionId: string, info?: Record<string, unknown>): Promise<PresenceChange>;
  /** Removes a connection; `changed` when it was the key's last one. No error for an unknown one. */
  remove(group: string, key: string, connectionId: string): Promise<PresenceChange>;
  /** The keys present in `group`, sorted by key. */
  list(group: string): Promise<PresenceEntry[]>;
  /** Stops the refresh timer and forgets this process's connections (without removing them). */
  close(): Promise<void>;
}

/** Default time-to-live of a presence connection. */
export const DEFAULT_PRESENCE_TTL_MS = 60_000;
