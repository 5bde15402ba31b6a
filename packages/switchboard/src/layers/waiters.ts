/**
 * Pending `receive()` calls, in line per channel, that an `AbortSignal` can take out of the line
 * (docs/channel-layer-spec.md §3): an aborted waiter is removed before its promise rejects, so it
 * never takes a message; the next one goes to the next waiter or the queue.
 */
import type { LayerMessage } from './channel-layer.js';

/** One pending `receive()`. */
export interface Waiter {
  resolve(message: LayerMessage): void;
  reject(error: unknown): void;
}

/**
 * Appends a waiter to `line` and returns its promise. When `signal` aborts first, the waiter
 * leaves the line, `left()` runs (to forget an empty channel) and the promise rejects with
 * `signal.reason`. An already aborted signal rejects at once and joins nothing.
 */
export function waitInLine(line: Waiter[], signal: AbortSignal | undefined, left?: () => void): Promise<LayerMessage> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<LayerMessage>((resolve, reject) => {
    if (signal === undefined) {
      line.push({ resolve, reject });
      return;
    }
    const onAbort = (): void => {
      const at = line.indexOf(waiter);
      if (at < 0) return;
      line.splice(at, 1);
      left?.();
      reject(signal.reason);
    };
    const waiter: Waiter = {
      resolve(message) {
        signal.removeEventListener('abort', onAbort);
        resolve(message);
      },
      reject(error) {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    };
    line.push(waiter);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
