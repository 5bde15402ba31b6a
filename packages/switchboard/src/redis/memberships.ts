/**
 * Group memberships in Redis: sorted sets with score = expiry (ms since the epoch), PEXPIREd to
 * `groupExpiryMs` after every addition so an abandoned group disappears. Additions and removals
 * that fail during an outage are not lost: the layer re-adds its memberships after the
 * reconnect, and failed removals are remembered here and replayed.
 */
import type { Connection } from './connections.js';

/** Members per ZADD. */
const CHUNK = 500;

/** ZADD / ZREM with outage bookkeeping. */
export class RedisMemberships {
  readonly #connection: Connection;
  readonly #groupExpiryMs: number;
  readonly #onError: (op: string, err: Error) => void;
  /** Sorted-set key → members whose ZREM failed. */
  readonly #pendingRemovals = new Map<string, Set<string>>();

  /** @param onError - told about failed commands (the outage is logged there, once). */
  constructor(connection: Connection, groupExpiryMs: number, onError: (op: string, err: Error) => void) {
    this.#connection = connection;
    this.#groupExpiryMs = groupExpiryMs;
    this.#onError = onError;
  }

  /** Adds or refreshes `member` in `key`; a failure is reported, not thrown (replayed later). */
  async add(key: string, deadline: number, member: string): Promise<void> {
    this.#pendingRemovals.get(key)?.delete(member);
    try {
      await this.addMany(key, [[deadline, member]]);
    } catch (err) {
      this.#onError('groupAdd', err as Error);
    }
  }

  /** ZADD of `[deadline, member]` entries (in chunks) plus PEXPIRE; rejects on failure. */
  async addMany(key: string, entries: Array<[number, string]>): Promise<void> {
    for (let i = 0; i < entries.length; i += CHUNK) {
      const args: Array<number | string> = [];
      for (const [deadline, member] of entries.slice(i, i + CHUNK)) args.push(deadline, member);
      const results = await this.#connection.pipeline().zadd(key, ...args).pexpire(key, this.#groupExpiryMs).exec();
      const failed = results?.find(([err]) => err !== null)?.[0];
      if (failed) throw failed;
    }
  }

  /** ZREMs per key; failures are remembered for {@link replayRemovals}. */
  async remove(removals: Array<[string, string[]]>): Promise<void> {
    await Promise.all(
      removals.map(async ([key, members]) => {
        try {
          await this.#connection.zrem(key, ...members);
        } catch (err) {
          this.#onError('groupDiscard', err as Error);
          let pending = this.#pendingRemovals.get(key);
          if (pending === undefined) this.#pendingRemovals.set(key, (pending = new Set()));
          for (const member of members) pending.add(member);
        }
      }),
    );
  }

  /** Replays the removals that failed during an outage; rejects (keeping them) on failure. */
  async replayRemovals(): Promise<void> {
    const removals = [...this.#pendingRemovals].map(([key, members]): [string, string[]] => [key, [...members]]).filter(([, members]) => members.length > 0);
    await Promise.all(removals.map(([key, members]) => this.#connection.zrem(key, ...members)));
    for (const [key, members] of removals) {
      const pending = this.#pendingRemovals.get(key);
      for (const member of members) pending?.delete(member);
      if (pending?.size === 0) this.#pendingRemovals.delete(key);
    }
  }

  /** Forgets pending removals (flush deleted the keys anyway). */
  clear(): void {
    this.#pendingRemovals.clear();
  }
}
