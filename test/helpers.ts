/** Shared helpers for real-socket tests: a server on 127.0.0.1 port 0 and a `ws` client. */
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { InMemoryChannelLayer, ProtocolTypeRouter, SwitchboardServer, type LayerEventListener, type LayerMessage, type ServerOptions, type WebsocketTarget } from 'switchboard';

export interface TestServer {
  server: SwitchboardServer;
  layer: InMemoryChannelLayer;
  url: string;
  close(): Promise<void>;
}

/** Starts a server for `websocket` on a free port. */
export async function startTestServer(websocket: WebsocketTarget, options: Omit<ServerOptions, 'channelLayer'> & { channelLayer?: InMemoryChannelLayer } = {}): Promise<TestServer> {
  const layer = options.channelLayer ?? new InMemoryChannelLayer();
  const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket }), { port: 0, ...options, channelLayer: layer });
  const { port } = await server.listen();
  return {
    server,
    layer,
    url: `ws://127.0.0.1:${port}`,
    async close() {
      await server.close();
      await layer.close();
    },
  };
}

/** A client that records what it receives. */
export interface TestClient {
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Connects; resolves once open, rejects with the HTTP status on a refused handshake. */
export async function connectClient(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<TestClient> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
  const messages: string[] = [];
  ws.on('message', (data) => messages.push(data.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`handshake refused: HTTP ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.once('error', reject);
  });
  return { ws, messages, closed };
}

/** The HTTP status of a refused handshake (or 101 when it was accepted, then closes). */
export async function handshakeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const c = await connectClient(url, { headers });
    c.ws.close();
    await once(c.ws, 'close');
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

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
