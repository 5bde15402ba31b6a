/**
 * A consumer's serial queue: frames, layer events and lifecycle work run one at a time, in arrival
 * order. Work runs at once when the queue is idle (a synchronous handler is a plain call, no
 * promise and no allocation: DESIGN.md §7); while a handler's promise is pending, new work waits.
 * Layer events waiting are bounded: past the bound the consumer is told (`onOverflow`), never a
 * silent drop (docs/architecture.md, "Consumer queues").
 */
import type { LayerMessage } from '../layers/channel-layer.js';
import type { ReceivedFrame } from './types.js';

/** Work other than layer events, which are queued as the message object itself (no wrapper). */
export type Work =
  | { readonly kind: 'connect' }
  | { readonly kind: 'features' }
  | { readonly kind: 'frame'; readonly frame: ReceivedFrame }
  | { readonly kind: 'disconnect'; readonly code: number }
  | { readonly kind: 'fail'; readonly error: Error };

/** Runs lifecycle work; may return a promise. */
export const kWork = Symbol('switchboard.work');
/** Runs a layer event's handler; may return a promise. */
export const kEvent = Symbol('switchboard.event');
/** A run threw or its promise rejected. */
export const kFail = Symbol('switchboard.fail');

/**
 * What the queue runs items with: the consumer itself, through symbol-keyed methods (no closure
 * per connection, and no name a handler could collide with).
 */
export interface SerialQueueHost {
  [kWork](work: Work): unknown;
  [kEvent](message: LayerMessage): unknown;
  [kFail](err: unknown): void;
}

const NO_ITEMS: ReadonlyArray<LayerMessage | Work> = Object.freeze([]);

export function isWork(item: LayerMessage | Work): item is Work {
  return (item as { kind?: unknown }).kind !== undefined && (item as { type?: unknown }).type === undefined;
}

export class SerialQueue {
  readonly #host: SerialQueueHost;
  readonly #maxEvents: number;
  /** Work waiting; a shared empty array until something has to wait (most consumers never do). */
  #items: Array<LayerMessage | Work> = NO_ITEMS as Array<LayerMessage | Work>;
  #events = 0;
  /** A handler's promise is pending (or the owner holds the queue): new work waits. */
  busy = false;
  /** Promise callbacks, made the first time a handler returns a promise. */
  #settled: (() => void) | undefined;
  #rejected: ((err: unknown) => void) | undefined;

  constructor(host: SerialQueueHost, maxEvents: number) {
    this.#host = host;
    this.#maxEvents = maxEvents;
  }

  /** Layer events waiting now. */
  get waitingEvents(): number {
    return this.#events;
  }

  /** Runs `message` now when idle; else queues it. `false` when `maxEvents` are already waiting. */
  offerEvent(message: LayerMessage): boolean {
    if (!this.busy) {
      // The common case, a group event for an idle consumer: no `isWork` test.
      this.#runEvent(message);
      return true;
    }
    if (this.#events >= this.#maxEvents) return false;
    this.#events++;
    this.#waiting().push(message);
    return true;
  }

  /** Runs `work` now when idle; else queues it. */
  push(work: Work): void {
    if (this.busy) this.#waiting().push(work);
    else this.#run(work);
  }

  /** Puts work first (connect, then the features' hook, before events that arrived while joining). */
  unshift(...work: Work[]): void {
    this.#waiting().unshift(...work);
  }

  /** Drops everything queued but the items `keep` selects. */
  clear(keep?: (work: Work) => boolean): void {
    if (this.#items.length > 0) {
      const kept = keep === undefined ? [] : this.#items.filter((i) => isWork(i) && keep(i));
      this.#items = kept.length === 0 ? (NO_ITEMS as Array<LayerMessage | Work>) : kept;
    }
    this.#events = 0;
  }

  #waiting(): Array<LayerMessage | Work> {
    if (this.#items === NO_ITEMS) this.#items = [];
    return this.#items;
  }

  drain(): void {
    while (!this.busy && this.#items.length > 0) {
      const item = this.#items.shift()!;
      if (!isWork(item)) this.#events--;
      this.#run(item);
    }
    // An emptied queue gives its array back (an idle connection then holds none).
    if (this.#items.length === 0) this.#items = NO_ITEMS as Array<LayerMessage | Work>;
  }

  #run(item: LayerMessage | Work): void {
    if (isWork(item)) this.#call(item, false);
    else this.#runEvent(item);
  }

  #runEvent(message: LayerMessage): void {
    this.#call(message, true);
  }

  #call(item: LayerMessage | Work, event: boolean): void {
    let result: unknown;
    try {
      result = event ? this.#host[kEvent](item as LayerMessage) : this.#host[kWork](item as Work);
    } catch (err) {
      this.#host[kFail](err);
      return;
    }
    if (result !== undefined && typeof (result as Promise<unknown>).then === 'function') this.#wait(result as Promise<unknown>);
  }

  /** Holds the queue until `pending` settles. */
  #wait(pending: Promise<unknown>): void {
    this.busy = true;
    this.#settled ??= (): void => {
      this.busy = false;
      this.drain();
    };
    this.#rejected ??= (err: unknown): void => {
      this.busy = false;
      this.#host[kFail](err);
      this.drain();
    };
    pending.then(this.#settled, this.#rejected);
  }
}
