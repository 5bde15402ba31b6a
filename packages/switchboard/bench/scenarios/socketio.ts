/**
 * The Socket.IO 4 scenarios (dev dependency, the most common peer): WebSocket transport only,
 * `perMessageDeflate: false`, no HTTP long-polling. The receivers speak Engine.IO v4 / Socket.IO
 * v5 framing themselves (bench/clients.ts, `protocol: 'socketio'`).
 *
 * - `socketio`: every socket joins room `bench` on connection (and `lobby`, the idle shape);
 *   a broadcast is `io.to('bench').emit('chat', message)`.
 * - `socketio-rooms`: the room from the handshake query (`?room=<n>`); each `chat` event is
 *   checked and sent to the room with `io.to(room).emit('chat', …)`.
 * - `socketio-redis`: `socketio` with `@socket.io/redis-adapter` (on ioredis); the broadcasts
 *   come from another process (bench/publisher.ts, a Socket.IO server on the same adapter).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type ServerOptions } from 'socket.io';
import { chat, reading } from './messages.js';
import type { StartServer } from './types.js';

/** Redis pub/sub channel prefix shared by the scenario server and its publisher. */
export const SOCKETIO_REDIS_KEY = `sbbench-sio`;

async function listen(extra: Partial<ServerOptions> = {}): Promise<{ io: Server; port: number }> {
  const server = createServer();
  const io = new Server(server, { perMessageDeflate: false, transports: ['websocket'], serveClient: false, ...extra });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { io, port: (server.address() as AddressInfo).port };
}

/** The redis adapter on two ioredis connections (publish, subscribe), as its README sets it up. */
export async function redisAdapter(redisUrl: string): Promise<{ adapter: NonNullable<ServerOptions['adapter']>; close(): Promise<void> }> {
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const { Redis } = await import('ioredis');
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  await Promise.all([once(pub, 'ready'), once(sub, 'ready')]);
  return {
    adapter: createAdapter(pub, sub, { key: SOCKETIO_REDIS_KEY }),
    close: async () => {
      pub.disconnect();
      sub.disconnect();
    },
  };
}

const fanOut = (redis: boolean): StartServer => async (options) => {
  const adapter = redis ? await redisAdapter(options.redisUrl) : undefined;
  const { io, port } = await listen(adapter ? { adapter: adapter.adapter } : {});
  io.on('connection', (socket) => void socket.join(['bench', 'lobby']));
  const message = options.message === 'reading' ? reading : chat;
  return {
    port,
    path: '',
    protocol: 'socketio',
    broadcast: redis ? undefined : (i) => void io.to('bench').emit('chat', message(i)),
    open: () => io.engine.clientsCount,
    close: async () => {
      await io.close();
      await adapter?.close();
    },
  };
};

const rooms: StartServer = async () => {
  const { io, port } = await listen();
  io.on('connection', (socket) => {
    const room = socket.handshake.query.room;
    if (typeof room !== 'string') return void socket.disconnect(true);
    void socket.join(room);
    socket.on('chat', (content: unknown) => {
      if (typeof content !== 'object' || content === null || !('message' in content) || typeof content.message !== 'string') return;
      io.to(room).emit('chat', { message: content.message, username: 'username' in content ? content.username : '' });
    });
  });
  return { port, path: '', protocol: 'socketio', open: () => io.engine.clientsCount, close: () => io.close() };
};

/** The Socket.IO scenarios by name. */
export const socketIoScenarios: Record<string, StartServer> = {
  socketio: fanOut(false),
  'socketio-rooms': rooms,
  'socketio-redis': fanOut(true),
};
