/**
 * Receiving from named (worker) channels, which live in Redis lists: one pump per channel that
 * has a pending `receive()` or an attached receiver, each pump blocking in `BLPOP` on a
 * connection of its own (a blocking command holds its connection; sharing one would serialise
 * the channels). Idle blocking connections are pooled; `close()` disconnects them all, which
 * ends every pump at once.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { LayerClosedError } from '../errors.js';
import type { ChannelReceiver, LayerMessage } from '../layers/channel-layer.js';
import { waitInLine, type Waiter } from '../layers/waiters.js';

/** How long one BLPOP blocks before the pump re-checks whether anyone still waits. */
const BLOCK_SECONDS = 2;
/** Back-off after a failed BLPOP (Redis down), doubling up to the maximum. */
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;

/** A connection that can block in BLPOP (ioredis `Redis` or `Cluster`). */
export interface BlockingConnection {
  blpopBuffer(key: string, timeout: number): Promise<[Buffer, Buffer] | null>;
}

/** What the pumps need from the layer. */
export interface NamedChannelHost<C extends BlockingConnection> {
  /** Whether the layer is closed (pumps stop). */
  isClosed(): boolean;
  /** Redis key of the list behind `channel`. */
  listKey(channel: string): string;
  /** Decodes a list item; `undefined` when it is expired or malformed (counted by the host). */
  decodeItem(channel: string, item: Buffer): LayerMessage | undefined;
  /** Puts an item nobody took back at the head of its list (best effort). */
  pushBack(key: string, item: Buffer): Promise<void>;
  /** Counts and reports a message a named-channel receiver refused. */
  refused(channel: string, message: LayerMessage): void;
  /** A blocking connection from the pool (or a new one). */
  takeConnection(): C;
  /** Returns a blocking connection to the pool. */
  returnConnection(connection: C): void;
}

interface NamedState {
  waiters: Waiter[];
  receiver: ChannelReceiver | undefined;
  pumping: boolean;
}

/** Pending receives and receivers of the named channels of one layer. */
export class NamedChannels<C extends BlockingConnection> {
  readonly #host: NamedChannelHost<C>;
  readonly #states = new Map<string, NamedState>();

  constructor(host: NamedChannelHost<C>) {
    this.#host = host;
  }

  /**
   * Resolves with the next live message of `channel` (FIFO among this layer's waiters). When
   * `signal` aborts, the waiter leaves the line; an item its BLPOP pops afterwards goes to the
   * next waiter, or back to the head of the list (nothing is lost).
   */
  receive(channel: string, signal?: AbortSignal): Promise<LayerMessage> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const state = this.#stateFor(channel);
    const promise = waitInLine(state.waiters, signal);
    this.#pump(channel, state);
    return promise;
  }

  /** Pushes every message of `channel` to `receiver` (waiting `receive()` calls are served first). */
  attach(channel: string, receiver: ChannelReceiver): void {
    const state = this.#stateFor(channel);
    state.receiver = receiver;
    this.#pump(channel, state);
  }

  /** Detaches the receiver of `channel`; pending `receive()` calls keep waiting. */
  detach(channel: string): void {
    const state = this.#states.get(channel);
    if (state === undefined) return;
    state.receiver = undefined;
    if (!state.pumping && state.waiters.length === 0) this.#states.delete(channel);
  }

  /** Detaches every receiver (flush); pending `receive()` calls keep waiting. */
  detachAll(): void {
    for (const channel of [...this.#states.keys()]) this.detach(channel);
  }

  /** Rejects every pending `receive()` with {@link LayerClosedError}. */
  close(): void {
    for (const [channel, state] of this.#states) {
      state.receiver = undefined;
      const waiters = state.waiters;
      state.waiters = [];
      for (const waiter of waiters) {
        waiter.reject(new LayerClosedError(`receive(${JSON.stringify(channel)}): the channel layer was closed while waiting`));
      }
    }
    this.#states.clear();
  }

  #stateFor(channel: string): NamedState {
    let state = this.#states.get(channel);
    if (state === undefined) {
      state = { waiters: [], receiver: undefined, pumping: false };
      this.#states.set(channel, state);
    }
    return state;
  }

  #pump(channel: string, state: NamedState): void {
    if (state.pumping) return;
    state.pumping = true;
    void this.#run(channel, state).catch(() => {}).finally(() => {
      state.pumping = false;
      if (this.#host.isClosed() || this.#states.get(channel) !== state) return;
      if (state.waiters.length > 0 || state.receiver !== undefined) this.#pump(channel, state);
      else this.#states.delete(channel);
    });
  }

  async #run(channel: string, state: NamedState): Promise<void> {
    const host = this.#host;
    const key = host.listKey(channel);
    let connection: C | undefined;
    let backoff = MIN_BACKOFF_MS;
    try {
      while (!host.isClosed() && (state.waiters.length > 0 || state.receiver !== undefined)) {
        let item: Buffer | undefined;
        try {
          connection ??= host.takeConnection();
          item = (await connection.blpopBuffer(key, BLOCK_SECONDS))?.[1];
          backoff = MIN_BACKOFF_MS;
        } catch {
          if (host.isClosed()) return;
          // Redis is down (the layer logs the outage once); try again later.
          await delay(backoff, undefined, { ref: false });
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
        if (item === undefined) continue;
        const message = host.decodeItem(channel, item);
        if (message === undefined) continue;
        const waiter = state.waiters.shift();
        if (waiter !== undefined) {
          waiter.resolve(message);
        } else if (state.receiver !== undefined) {
          let accepted: boolean;
          try {
            accepted = state.receiver(message) !== false;
          } catch {
            accepted = false; // receivers must not throw; count it as a refusal instead of crashing
          }
          if (!accepted) host.refused(channel, message);
        } else if (!host.isClosed()) {
          // The receiver was detached while BLPOP waited: give the message back.
          await host.pushBack(key, item);
        }
      }
    } finally {
      if (connection !== undefined) host.returnConnection(connection);
    }
  }
}
