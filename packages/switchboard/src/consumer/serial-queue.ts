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

/** What the queue runs items with. */
export interface SerialQueueHost {
  /** Runs lifecycle work; may return a promise. */
  work(work: Work): unknown;
  /** Runs a layer event's handler; may return a promise. */
  event(message: LayerMessage): unknown;
  /** A run threw or its promise rejected. */
  fail(err: unknown): void;
}

export function isWork(item: LayerMessage | Work): item is Work {
  return (item as { kind?: unknown }).kind !== undefined && (item as { type?: unknown }).type === undefined;
}

export class SerialQueue {
  readonly #host: SerialQueueHost;
  readonly #maxEvents: number;
  #items: Array<LayerMessage | Work> = [];
  #events = 0;
  /** A handler's promise is pending (or the owner holds the queue): new work waits. */
  busy = false;
  readonly #settled = (): void => {
    this.busy = false;
    this.drain();
  };
  readonly #rejected = (err: unknown): void => {
    this.busy = false;
    this.#host.fail(err);
    this.drain();
  };

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
      this.#run(message);
      return true;
    }
    if (this.#events >= this.#maxEvents) return false;
    this.#events++;
    this.#items.push(message);
    return true;
  }

  /** Runs `work` now when idle; else queues it. */
  push(work: Work): void {
    if (this.busy) this.#items.push(work);
    else this.#run(work);
  }

  /** Puts work first (connect, then the features' hook, before events that arrived while joining). */
  unshift(...work: Work[]): void {
    this.#items.unshift(...work);
  }

  /** Drops everything queued but the items `keep` selects. */
  clear(keep: (work: Work) => boolean = () => false): void {
    this.#items = this.#items.filter((i) => isWork(i) && keep(i));
    this.#events = 0;
  }

  drain(): void {
    while (!this.busy && this.#items.length > 0) {
      const item = this.#items.shift()!;
      if (!isWork(item)) this.#events--;
      this.#run(item);
    }
  }

  #run(item: LayerMessage | Work): void {
    let result: unknown;
    try {
      result = isWork(item) ? this.#host.work(item) : this.#host.event(item);
    } catch (err) {
      this.#host.fail(err);
      return;
    }
    if (result !== undefined && typeof (result as Promise<unknown>).then === 'function') {
      this.busy = true;
      (result as Promise<unknown>).then(this.#settled, this.#rejected);
    }
  }
}
