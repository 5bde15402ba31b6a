/**
 * `InMemoryHistoryStore`: per-group history in this process's memory, a ring buffer of the last
 * `maxEvents` events per group (Centrifuge `MemoryBroker`). Each group gets a random epoch when
 * its state is created, so a new store (a restarted process) never recovers a position of the old
 * one. Use it with the in-memory layer; with several processes use `RedisHistoryStore`.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_LAYER_OPTIONS, validateGroupName, type LayerMessage } from '../layers/channel-layer.js';
import { checkMessage } from '../layers/message-check.js';
import { resolveHistoryOptions, type HistoryEvent, type HistoryRecovery, type HistoryStore, type HistoryStoreOptions, type ResolvedHistoryOptions } from './history-store.js';
import type { HistoryPosition } from './position.js';

interface Entry {
  readonly event: HistoryEvent;
  readonly time: number;
}

interface GroupState {
  readonly epoch: string;
  /** Offset of the latest event; 0 before any. */
  top: number;
  /** `ring[offset % maxEvents]` holds the event with that offset, for the last `maxEvents` offsets. */
  ring: Array<Entry | undefined>;
  lastAppend: number;
  lastUse: number;
}

/** A new random epoch: 12 characters of base64url. */
export function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}

/** History in memory. Timers: one `unref()`ed sweep while any group exists. */
export class InMemoryHistoryStore implements HistoryStore {
  readonly options: ResolvedHistoryOptions;
  readonly #groups = new Map<string, GroupState>();
  #sweep: NodeJS.Timeout | undefined;

  /** @throws RangeError for bad options (see {@link resolveHistoryOptions}). */
  constructor(options: HistoryStoreOptions = {}) {
    this.options = resolveHistoryOptions(options);
  }

  async append(group: string, event: LayerMessage): Promise<HistoryEvent> {
    validateGroupName(group, 'history.append');
    checkMessage(event, DEFAULT_LAYER_OPTIONS.maxMessageBytes, 'history.append');
    const now = Date.now();
    const state = this.#state(group, now);
    const offset = ++state.top;
    const stored = Object.freeze({ ...event, epoch: state.epoch, offset }) as HistoryEvent;
    state.ring[offset % this.options.maxEvents] = { event: stored, time: now };
    state.lastAppend = now;
    return stored;
  }

  async since(group: string, position: HistoryPosition): Promise<HistoryRecovery> {
    validateGroupName(group, 'history.since');
    const now = Date.now();
    const state = this.#state(group, now);
    const { epoch, top } = state;
    const from = position.offset;
    if (position.epoch !== epoch || !Number.isSafeInteger(from) || from < 0 || from > top || top - from > this.options.maxEvents) {
      return { recovered: false, epoch, offset: top };
    }
    const events: HistoryEvent[] = [];
    for (let offset = from + 1; offset <= top; offset++) {
      const entry = state.ring[offset % this.options.maxEvents];
      // The first missed event decides: later ones are younger.
      if (entry === undefined || entry.event.offset !== offset || (offset === from + 1 && entry.time < now - this.options.ttlMs)) {
        return { recovered: false, epoch, offset: top };
      }
      events.push(entry.event);
    }
    return { recovered: true, epoch, offset: top, events };
  }

  async position(group: string): Promise<HistoryPosition> {
    validateGroupName(group, 'history.position');
    const state = this.#state(group, Date.now());
    return { epoch: state.epoch, offset: state.top };
  }

  async flush(): Promise<void> {
    this.#groups.clear();
  }

  async close(): Promise<void> {
    this.#groups.clear();
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #state(group: string, now: number): GroupState {
    let state = this.#groups.get(group);
    if (state === undefined || now - state.lastUse > this.options.metaTtlMs) {
      state = { epoch: newEpoch(), top: 0, ring: new Array<Entry | undefined>(this.options.maxEvents), lastAppend: now, lastUse: now };
      this.#groups.set(group, state);
      this.#startSweep();
    }
    state.lastUse = now;
    return state;
  }

  /** Drops events of groups idle for `ttlMs` and groups unused for `metaTtlMs`. */
  #startSweep(): void {
    if (this.#sweep !== undefined) return;
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const [group, state] of this.#groups) {
        if (now - state.lastUse > this.options.metaTtlMs) this.#groups.delete(group);
        else if (now - state.lastAppend > this.options.ttlMs && state.ring.some((e) => e !== undefined)) state.ring = new Array(this.options.maxEvents);
      }
      if (this.#groups.size === 0) {
        clearInterval(this.#sweep);
        this.#sweep = undefined;
      }
    }, Math.max(1_000, Math.min(this.options.ttlMs, 60_000)));
    this.#sweep.unref();
  }
}
