/**
 * `npm run bench`: fan-out of one group to 1,000 receivers, as messages delivered per second,
 * for a bare `ws` broadcast loop, for Socket.IO (the most common peer) and for Switchboard on the
 * in-memory and Redis layers, measured in the same run, each reported as a ratio to the bare loop
 * (absolute numbers drift on shared machines; the ratio is the figure to compare).
 *
 * The receivers run in a child process (bench/clients.ts) so the server process has its own core.
 * Options (env): BENCH_CLIENTS (1000), BENCH_MESSAGES (200 broadcasts per run), BENCH_RUNS (3),
 * REDIS_URL (default redis://127.0.0.1:6379/0; the Redis scenario is skipped when unreachable).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Server as SocketIoServer } from 'socket.io';
import * as wsModule from 'ws';
import { WebSocketServer, WebSocket } from 'ws';
import {
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  SwitchboardServer,
  URLRouter,
  path,
  type ChannelLayer,
  type LayerMessage,
} from 'switchboard';
import { ask } from './ipc.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const BATCH = 10; // broadcasts per event-loop turn

const payload = { message: 'x'.repeat(64), username: 'bench' };

/** Sends `MESSAGES` broadcasts with `broadcast(i)`, BATCH at once per turn; returns delivered msgs/s. */
async function measure(child: ChildProcess, broadcast: (i: number) => void | Promise<unknown>): Promise<number> {
  const total = CLIENTS * MESSAGES;
  await ask(child, { cmd: 'expect', total }, 'armed');
  const done = ask(child, { cmd: 'noop' }, 'received');
  for (let i = 0; i < MESSAGES; i += BATCH) {
    // BATCH concurrent broadcasts per turn, as BATCH producers (consumers, workers) would send;
    // awaiting each one before the next would measure the Redis round trip, not fan-out.
    const sends: Array<void | Promise<unknown>> = [];
    for (let j = i; j < Math.min(i + BATCH, MESSAGES); j++) sends.push(broadcast(j));
    await Promise.all(sends);
    await new Promise((r) => setImmediate(r));
  }
  const { ms } = await done;
  return total / (ms! / 1000);
}

/** The usual loop: encode per broadcast, `ws.send(text)` per socket (framed per socket). */
const usualLoop = (wss: WebSocketServer, i: number): void => {
  const text = JSON.stringify({ ...payload, n: i });
  for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(text);
};

/** A tuned loop: the UTF-8 bytes made once per broadcast, still framed by `ws` per socket. */
const tunedLoop = (wss: WebSocketServer, i: number): void => {
  const bytes = Buffer.from(JSON.stringify({ ...payload, n: i }));
  for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary: false });
};

/** `ws`'s Sender (exported at run time, missing from @types/ws). */
const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, o: object): Buffer[] } }).Sender;

/**
 * The best hand-written loop: framed once per broadcast (RFC 6455 §5.2, unmasked), the same bytes
 * written to every socket, each socket corked until the next tick so a tick's frames leave in one
 * write: Switchboard's fan-out path without the framework (reaches into `ws`'s private `_socket`).
 */
const framedLoop = (wss: WebSocketServer, i: number): void => {
  const parts = Sender.frame(Buffer.from(JSON.stringify({ ...payload, n: i })), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false });
  const frame = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  for (const ws of wss.clients) {
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    if (ws.readyState !== WebSocket.OPEN) continue;
    if (socket.writableCorked === 0) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    socket.write(frame);
  }
};

async function bareWs(child: ChildProcess, loop: (wss: WebSocketServer, i: number) => void = usualLoop): Promise<number[]> {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await ask(child, { cmd: 'connect', url: `ws://127.0.0.1:${port}/`, n: CLIENTS }, 'connected');
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    rates.push(
      await measure(child, (i) => loop(wss, i)),
    );
  }
  await ask(child, { cmd: 'close' }, 'closed');
  wss.close();
  server.close();
  return rates;
}

/**
 * Socket.IO 4 (dev dependency), WebSocket transport only, no compression: every socket joins room
 * 'bench' on connection and a broadcast is `io.to('bench').emit('chat', payload)`. The receivers
 * speak the Engine.IO/Socket.IO framing themselves (bench/clients.ts, `protocol: 'socketio'`) and
 * count only the `42[...]` event frames.
 */
async function socketIo(child: ChildProcess): Promise<number[]> {
  const server = createServer();
  const io = new SocketIoServer(server, { perMessageDeflate: false, transports: ['websocket'], serveClient: false });
  io.on('connection', (socket) => {
    socket.join('bench');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await ask(child, { cmd: 'connect', url: `ws://127.0.0.1:${port}`, n: CLIENTS, protocol: 'socketio' }, 'connected');
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    rates.push(await measure(child, (i) => void io.to('bench').emit('chat', { ...payload, n: i })));
  }
  await ask(child, { cmd: 'close' }, 'closed');
  await io.close(); // also closes the http server
  return rates;
}

class RoomConsumer extends JsonWebsocketConsumer {
  override groups = ['bench'];
  benchMessage(event: LayerMessage): void {
    this.sendJson(event.payload);
  }
}

/**
 * Switchboard with its receivers on `layer`; broadcasts go through `sender` (default: the same
 * layer). A second Redis layer as `sender` is another process as far as the layer can tell: its
 * groupSend travels PUBLISH → Redis → the receivers' subscription → local fan-out.
 */
async function switchboard(child: ChildProcess, layer: ChannelLayer, sender: ChannelLayer = layer): Promise<number[]> {
  const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket: new URLRouter([path('ws/', RoomConsumer)]) }), {
    port: 0,
    channelLayer: layer,
    heartbeatIntervalMs: 0,
  });
  const { port } = await server.listen();
  await ask(child, { cmd: 'connect', url: `ws://127.0.0.1:${port}/ws/`, n: CLIENTS }, 'connected');
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    rates.push(await measure(child, (i) => sender.groupSend('bench', { type: 'bench.message', payload: { ...payload, n: i } })));
  }
  await ask(child, { cmd: 'close' }, 'closed');
  await server.close();
  return rates;
}

async function redisLayer(): Promise<ChannelLayer | undefined> {
  try {
    const { RedisChannelLayer } = await import('switchboard/redis');
    // Capacity above the 200-message burst: the bench measures throughput, not drops.
    return await RedisChannelLayer.fromUrl(REDIS_URL, { prefix: `sbbench:${process.pid}:`, capacity: 10_000 });
  } catch (err) {
    console.log(`redis scenario skipped: ${(err as Error).message}`);
    return undefined;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number): string => `${Math.round(n).toLocaleString('en-US')} msg/s`.padStart(15);
/** One result line: label, rate, ratio to the bare loop, note. */
const line = (label: string, rate: number, bare: number, note = ''): void =>
  console.log(`${label.padEnd(30)} ${fmt(rate)}   ratio ${(rate / bare).toFixed(2)}${note ? `   (${note})` : ''}`);

async function main(): Promise<void> {
  const child = fork(fileURLToPath(new URL('./clients.js', import.meta.url)), { stdio: 'inherit' });
  try {
    console.log(`fan-out: ${CLIENTS} receivers in one group, ${MESSAGES} broadcasts of ~100 bytes, ${RUNS} runs each (median)`);
    const bare = median(await bareWs(child));
    line('bare ws loop', bare, bare, 'the usual ws.send per socket');
    const tuned = median(await bareWs(child, tunedLoop));
    line('ws loop, bytes once', tuned, bare);
    const framed = median(await bareWs(child, framedLoop));
    line('ws loop, framed once + cork', framed, bare, 'hand-written best case');
    const sio = median(await socketIo(child));
    line('socket.io io.to(room).emit', sio, bare, 'Socket.IO 4, websocket transport');
    const memory = new InMemoryChannelLayer();
    const mem = median(await switchboard(child, memory));
    await memory.close();
    line('switchboard in-memory', mem, bare);
    const redis = await redisLayer();
    if (redis) {
      const red = median(await switchboard(child, redis));
      line('switchboard redis, local send', red, bare, "groupSend in the receivers' process");
      const remote = await redisLayer();
      if (remote) {
        const rem = median(await switchboard(child, redis, remote));
        line('switchboard redis, remote send', rem, bare, 'groupSend from another layer: PUBLISH → subscription');
        await remote.close();
      }
      await redis.flush();
      await redis.close();
    }
  } finally {
    child.send({ cmd: 'exit' });
  }
}

await main();
