/**
 * Layer-wide event listeners (`onLayerEvent`, docs/channel-layer-spec.md §8), shared by every
 * layer so subscribing, unsubscribing and a throwing listener behave the same everywhere.
 */
import type { LayerEventListener, LayerMessage } from './channel-layer.js';

/** The listeners of one layer. */
export class LayerEvents {
  readonly #listeners = new Set<LayerEventListener>();

  /**
   * Adds `listener`; returns a function that removes it (idempotent).
   * @throws TypeError when `listener` is not a function.
   */
  subscribe(listener: LayerEventListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onLayerEvent: the listener must be a function');
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Calls every listener with `event`; a listener that throws is reported to `onThrow`, the rest still run. */
  emit(event: LayerMessage, onThrow: (err: unknown) => void): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        onThrow(err);
      }
    }
  }

  /** Removes every listener (close). */
  clear(): void {
    this.#listeners.clear();
  }
}
