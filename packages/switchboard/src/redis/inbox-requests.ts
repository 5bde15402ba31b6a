/**
 * Requests this layer sent to other processes through their inboxes that wait for a
 * confirmation: a `groupAdd` / `groupDiscard` of another process's channel (resolved once the
 * owner has subscribed / removed the member, so a `groupSend` right after reaches / skips it) and
 * `flush` (resolved once every other process has cleared its state). The confirmations come
 * back as `Ack` frames in this layer's inbox, possibly before the PUBLISH reply that says how
 * many to expect, so a request counts acks from the moment it is opened.
 */
import { randomBytes } from 'node:crypto';

/** One open request. */
export interface InboxRequest {
  /** Sent in the request frame; the owner echoes it in its ack. */
  readonly id: string;
  /**
   * Resolves once `expected` acks arrived (at once when `expected <= 0`); rejects with
   * `onTimeout()` after `timeoutMs`. The request is closed either way.
   */
  wait(expected: number, timeoutMs: number, onTimeout: () => Error): Promise<void>;
  /** Closes the request without waiting (nobody was reached). */
  cancel(): void;
}

interface Pending {
  acks: number;
  expected: number;
  resolve: (() => void) | undefined;
}

/** The open requests of one layer. */
export class InboxRequests {
  readonly #prefix = randomBytes(4).toString('base64url');
  readonly #pending = new Map<string, Pending>();
  readonly #rejects = new Set<(err: Error) => void>();
  #next = 0;

  /** Opens a request; acks for its id count from now on. */
  open(): InboxRequest {
    const id = `${this.#prefix}.${(this.#next++).toString(36)}`;
    const pending: Pending = { acks: 0, expected: Number.POSITIVE_INFINITY, resolve: undefined };
    this.#pending.set(id, pending);
    return {
      id,
      wait: (expected, timeoutMs, onTimeout) => {
        pending.expected = expected;
        if (pending.acks >= expected) {
          this.#pending.delete(id);
          return Promise.resolve();
        }
        return new Promise<void>((resolve, reject) => {
          const fail = (err: Error): void => {
            clearTimeout(timer);
            this.#pending.delete(id);
            this.#rejects.delete(fail);
            reject(err);
          };
          const timer = setTimeout(() => fail(onTimeout()), timeoutMs);
          timer.unref();
          this.#rejects.add(fail);
          pending.resolve = () => {
            clearTimeout(timer);
            this.#rejects.delete(fail);
            resolve();
          };
        });
      },
      cancel: () => {
        this.#pending.delete(id);
      },
    };
  }

  /** An ack for `id` arrived (unknown ids, e.g. of a timed-out request, are ignored). */
  ack(id: string): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    pending.acks++;
    if (pending.acks < pending.expected) return;
    this.#pending.delete(id);
    pending.resolve?.();
  }

  /** Rejects every waiting request with `err` (close). */
  rejectAll(err: Error): void {
    for (const reject of [...this.#rejects]) reject(err);
    this.#pending.clear();
  }
}
