/**
 * A real server for real-socket tests: a {@link SwitchboardServer} on 127.0.0.1, a free port,
 * with its own in-memory layer (fastify and ws tests listen on port 0 the same way).
 */
import { InMemoryChannelLayer } from '../layers/in-memory.js';
import { ProtocolTypeRouter } from '../routing/protocol-type-router.js';
import type { WebsocketTarget } from '../routing/application.js';
import { SwitchboardServer, type ServerOptions } from '../transport/server.js';

/** A running test server. */
export interface TestServer {
  server: SwitchboardServer;
  /** The layer its consumers use (given or created). */
  layer: InMemoryChannelLayer;
  /** `ws://127.0.0.1:<port>`: append the path. */
  url: string;
  /** Closes the server, then the layer. */
  close(): Promise<void>;
}

/**
 * Starts a server for `websocket` on 127.0.0.1, port 0 (a free one).
 * @example
 * ```ts
 * const srv = await startTestServer(new URLRouter([path('ws/chat/<room>/', ChatConsumer)]));
 * const ws = new WebSocket(`${srv.url}/ws/chat/lobby/`);
 * // ...
 * await srv.close();
 * ```
 */
export async function startTestServer(websocket: WebsocketTarget, options: Omit<ServerOptions, 'channelLayer' | 'port'> & { channelLayer?: InMemoryChannelLayer } = {}): Promise<TestServer> {
  const layer = options.channelLayer ?? new InMemoryChannelLayer();
  const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket }), { host: '127.0.0.1', ...options, port: 0, channelLayer: layer });
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
