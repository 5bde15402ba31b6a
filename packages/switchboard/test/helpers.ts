/** Shared helpers for the framework's real-socket tests: a server on 127.0.0.1 port 0, the clients of @switchboard/test-support. */
export { connectClient, handshakeStatus, type TestClient } from '@switchboard/test-support';
import { InMemoryChannelLayer, type LayerEventListener, type LayerMessage } from 'switchboard';
export { startTestServer, type TestServer } from 'switchboard/testing';

/** The in-memory layer plus a way to emit a layer-wide event, as the Redis layer does after an outage. */
export class EmittingLayer extends InMemoryChannelLayer {
  readonly #listeners = new Set<LayerEventListener>();
  override onLayerEvent(listener: LayerEventListener): () => void {
    const off = super.onLayerEvent(listener);
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      off();
    };
  }
  emit(event: LayerMessage): void {
    for (const listener of this.#listeners) listener(event);
  }
  get listenerCount(): number {
    return this.#listeners.size;
  }
}
