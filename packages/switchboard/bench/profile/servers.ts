/**
 * The servers the profile harnesses measure (bench/profile/): a bare `ws` server, and a
 * Switchboard server with one route, both on 127.0.0.1 with a free port and no logging.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { InMemoryChannelLayer, ProtocolTypeRouter, SwitchboardServer, URLRouter, path, silentLogger, type ConsumerClass } from 'switchboard';

/** A bare `ws` server (no compression, client tracking on) and its URL. */
export async function bareServer(onConnection?: (ws: WebSocket) => void): Promise<{ wss: WebSocketServer; url: string; close(): void }> {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  if (onConnection) wss.on('connection', onConnection);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { wss, url: `ws://127.0.0.1:${port}/`, close: () => { wss.close(); server.close(); } };
}

/**
 * A Switchboard server on the in-memory layer routing `ws/<room>` (and `ws/`) to `consumer`,
 * silent, without the heartbeat unless `heartbeat` (its sweep would run inside the counts).
 */
export async function switchboardServer(consumer: ConsumerClass, options: { heartbeat?: boolean } = {}): Promise<{ server: SwitchboardServer; layer: InMemoryChannelLayer; url: string }> {
  const layer = new InMemoryChannelLayer({ capacity: 1000 });
  const router = new ProtocolTypeRouter({ websocket: new URLRouter([path('ws/<room>', consumer), path('ws/', consumer)]) });
  const server = new SwitchboardServer(router, { port: 0, host: '127.0.0.1', channelLayer: layer, logger: silentLogger(), ...(options.heartbeat === true ? {} : { heartbeatIntervalMs: 0 }) });
  const { port } = await server.listen();
  return { server, layer, url: `ws://127.0.0.1:${port}/ws/` };
}

/** `ws`'s Sender (exported at run time, missing from @types/ws). */
const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, o: object): Buffer[] } }).Sender;

/** Frames `text` once as an unmasked final text frame (RFC 6455 §5.2). */
export function frameText(text: string): Buffer {
  const parts = Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Writes `frame` to every socket of `clients`, each corked until the next tick (the reference loop). */
export function writeFramedCorked(clients: Iterable<WebSocket>, frame: Buffer): void {
  for (const ws of clients) {
    const socket = (ws as unknown as { _socket: Socket })._socket;
    if (socket.writableCorked === 0) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    socket.write(frame);
  }
}
