/**
 * The layer's pub/sub subscriptions on its subscriber connection: the inbox, and one channel per
 * group with a local member (DESIGN.md §3: subscribe once per group, unsubscribe when the last
 * local member leaves). Commands go out in call order on one connection, so a SUBSCRIBE,
 * UNSUBSCRIBE, SUBSCRIBE sequence for a group that empties and refills always ends subscribed.
 */
import type { Connection } from './connections.js';

/** Pub/sub channels per SUBSCRIBE in a restore. */
const CHUNK = 1_000;

/** SUBSCRIBE / UNSUBSCRIBE (or the sharded S-variants) with outage bookkeeping. */
export class Subscriptions {
  readonly #connection: Connection;
  readonly #sharded: boolean;
  readonly #onError: (op: string, err: Error) => void;
  /** Channel → the SUBSCRIBE in flight (a groupAdd waits for it). */
  readonly #inFlight = new Map<string, Promise<void>>();
  /** Channels whose UNSUBSCRIBE failed (Redis down): ioredis would resubscribe them. */
  readonly #stale = new Set<string>();

  /**
   * @param sharded - use SSUBSCRIBE/SUNSUBSCRIBE (Redis Cluster sharded pub/sub).
   * @param onError - told about failed commands (the outage is logged there, once).
   */
  constructor(connection: Connection, sharded: boolean, onError: (op: string, err: Error) => void) {
    this.#connection = connection;
    this.#sharded = sharded;
    this.#onError = onError;
  }

  /** Subscribes to `channel` without waiting; a failure is left for {@link restore}. */
  add(channel: string): void {
    this.#stale.delete(channel);
    const pending = this.subscribe([channel]).catch((err: Error) => this.#onError('subscribe', err));
    this.#inFlight.set(channel, pending);
    void pending.finally(() => {
      if (this.#inFlight.get(channel) === pending) this.#inFlight.delete(channel);
    });
  }

  /** The SUBSCRIBE of `channel` still in flight, if any (never rejects). */
  pending(channel: string): Promise<void> | undefined {
    return this.#inFlight.get(channel);
  }

  /** Unsubscribes from `channel` without waiting; a failure is repaired by {@link restore}. */
  remove(channel: string): void {
    this.#inFlight.delete(channel);
    this.#unsubscribe([channel]).catch(() => {
      this.#stale.add(channel);
    });
  }

  /** Subscribes to every channel in `channels`; rejects on failure. */
  async subscribe(channels: string[]): Promise<void> {
    if (this.#sharded) {
      // The channels of one SSUBSCRIBE must share a slot: one command each.
      await Promise.all(channels.map((channel) => this.#connection.ssubscribe(channel)));
      return;
    }
    for (let i = 0; i < channels.length; i += CHUNK) await this.#connection.subscribe(...channels.slice(i, i + CHUNK));
  }

  /**
   * After a reconnect: SUBSCRIBEs every channel in `wanted` (idempotent; ioredis'
   * `autoResubscribe` may have done it already) and UNSUBSCRIBEs the stale ones not wanted.
   */
  async restore(wanted: string[]): Promise<void> {
    await this.subscribe(wanted);
    const keep = new Set(wanted);
    const stale = [...this.#stale].filter((channel) => !keep.has(channel));
    this.#stale.clear();
    if (stale.length > 0) await this.#unsubscribe(stale);
  }

  async #unsubscribe(channels: string[]): Promise<void> {
    if (this.#sharded) {
      await Promise.all(channels.map((channel) => this.#connection.sunsubscribe(channel)));
      return;
    }
    for (let i = 0; i < channels.length; i += CHUNK) await this.#connection.unsubscribe(...channels.slice(i, i + CHUNK));
  }
}
