/**
 * Benchmark load generator, run as a child process (on core 1 when the runner pins): opens N
 * WebSocket clients and counts the messages they receive; can make them send. IPC commands:
 *
 * - `{cmd:'connect', url, n, protocol?, deflate?, rooms?, lite?}` → `{ok:'connected', deflate}`:
 *   opens `n` clients, 100 handshakes in flight at a time; `lite: true` opens receive-only
 *   clients of bench/raw-client.ts (they count frames without decoding them) instead of `ws` ones. `deflate: true` offers permessage-deflate
 *   (RFC 7692); the reply counts the clients whose server accepted it. With `rooms`, client `i`
 *   is in room `i % rooms`: `{room}` in a `ws` URL is replaced by it, and a Socket.IO client adds
 *   `&room=<n>` to its handshake query.
 * - `{cmd:'arm'}` → `{ok:'armed'}`: counts from zero again, and times from now.
 * - `{cmd:'count'}` → `{ok:'count', received, ms}`: messages received since `arm`, and the ms
 *   from `arm` to the last of them.
 * - `{cmd:'send', rate, seconds}` → `{ok:'sent', sent}`: every client sends `rate` chat messages
 *   per second for `seconds`, spread evenly (a 5 ms timer sends what is due, round-robin).
 * - `{cmd:'expect', total}` → `{ok:'armed'}`, later `{ok:'received', ms}` once `total` arrived.
 * - `{cmd:'close'}` → `{ok:'closed'}`; `{cmd:'exit'}`.
 *
 * `protocol: 'socketio'` speaks Socket.IO v5 over Engine.IO v4 on the WebSocket transport (no
 * socket.io-client): the URL is the server's base (`ws://host:port`) and each client connects to
 * `/socket.io/?EIO=4&transport=websocket`. The server sends the Engine.IO open packet `0{...}`,
 * the client sends `40` (CONNECT to the default namespace), the server answers `40{"sid":...}`;
 * then the client answers each server ping `2` with pong `3`, and counts only event packets
 * (`42[...]`), not the control frames. One Engine.IO packet per WebSocket frame. It sends
 * `42["chat",{...}]`.
 */
import { WebSocket } from 'ws';
import { rawClient, type RawClient } from './raw-client.js';
import { chat } from './scenarios/messages.js';

type Protocol = 'ws' | 'socketio';
let clients: Array<{ ws: WebSocket; protocol: Protocol }> = [];
let raws: RawClient[] = [];
let received = 0;
let expected = Infinity;
let armedAt = 0;
let lastAt = 0;

const countMessage = (): void => {
  received++;
  lastAt = performance.now();
  if (received >= expected) {
    expected = Infinity;
    process.send!({ ok: 'received', ms: lastAt - armedAt, received });
  }
};

/** A plain WebSocket client: every message counts; ready on open. */
function plainClient(url: string, deflate: boolean): { ws: WebSocket; ready: Promise<void> } {
  const ws = new WebSocket(url, { perMessageDeflate: deflate });
  ws.on('message', countMessage);
  return { ws, ready: new Promise((resolve) => ws.once('open', () => resolve())) };
}

// Engine.IO v4 packet types (engine.io-parser) and Socket.IO v5 ones (socket.io-parser), as the
// first characters of a text frame: '0' open, '2' ping, '3' pong, '4' message; inside a message,
// '0' CONNECT, '2' EVENT, '4' CONNECT_ERROR.
const EIO_OPEN = 0x30;
const EIO_PING = 0x32;
const EIO_MESSAGE = 0x34;
const SIO_CONNECT = 0x30;
const SIO_EVENT = 0x32;
const SIO_CONNECT_ERROR = 0x34;

/** A Socket.IO client on the WebSocket transport: counts `42[...]` events; ready once connected to `/`. */
/** The Engine.IO v4 WebSocket-transport URL under a server's base URL, with the room in the query. */
const socketIoUrl = (base: string, room: number | undefined): string =>
  `${base.replace(/\/+$/, '')}/socket.io/?EIO=4&transport=websocket${room === undefined ? '' : `&room=${room}`}`;

function socketIoClient(base: string, deflate: boolean, room: number | undefined): { ws: WebSocket; ready: Promise<void> } {
  const ws = new WebSocket(socketIoUrl(base, room), { perMessageDeflate: deflate });
  const ready = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary || data.length === 0) return;
      const type = data[0];
      if (type === EIO_MESSAGE) {
        const sio = data[1];
        if (sio === SIO_EVENT) countMessage();
        else if (sio === SIO_CONNECT) resolve();
        else if (sio === SIO_CONNECT_ERROR) process.send!({ error: `socket.io connect error: ${data.toString()}` });
      } else if (type === EIO_PING) {
        ws.send('3');
      } else if (type === EIO_OPEN) {
        ws.send('40');
      }
    });
  });
  return { ws, ready };
}

interface ConnectCommand {
  url: string;
  n: number;
  protocol?: Protocol;
  deflate?: boolean;
  rooms?: number;
  lite?: boolean;
}

/** Opens `n` clients with `open(i)` (which resolves once client `i` is ready), 100 handshakes in flight at a time. */
async function openAll(n: number, open: (i: number) => Promise<void>): Promise<void> {
  const opened: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    opened.push(open(i));
    if (i % 100 === 99) await Promise.all(opened.slice(-100));
  }
  await Promise.all(opened);
}

const reportError = (err: unknown): void => void process.send!({ error: String(err) });

/** Opens the clients of a connect command; resolves with how many negotiated permessage-deflate. */
async function connect(msg: ConnectCommand): Promise<number> {
  const protocol = msg.protocol ?? 'ws';
  const deflate = msg.deflate === true;
  if (msg.lite) {
    const url = protocol === 'socketio' ? socketIoUrl(msg.url, undefined) : msg.url;
    await openAll(msg.n, () => {
      const raw = rawClient(url, { deflate, socketio: protocol === 'socketio' }, countMessage, reportError);
      raws.push(raw);
      return raw.ready;
    });
    return raws.filter((r) => r.deflate()).length;
  }
  await openAll(msg.n, (i) => {
    const room = msg.rooms ? i % msg.rooms : undefined;
    const { ws, ready } = protocol === 'socketio' ? socketIoClient(msg.url, deflate, room) : plainClient(msg.url.replace('{room}', String(room ?? '')), deflate);
    ws.on('error', reportError);
    clients.push({ ws, protocol });
    return ready;
  });
  return clients.filter((c) => c.ws.extensions.includes('permessage-deflate')).length;
}

/** Every client sends `rate` messages/s for `seconds`; resolves with the number sent. */
function send(rate: number, seconds: number): Promise<number> {
  const total = Math.floor(clients.length * rate * seconds);
  const started = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate * clients.length));
      for (; sent < due; sent++) {
        const { ws, protocol } = clients[sent % clients.length]!;
        const text = JSON.stringify(chat(sent));
        if (ws.readyState === WebSocket.OPEN) ws.send(protocol === 'socketio' ? `42["chat",${text}]` : text);
      }
      if (sent >= total) resolve(sent);
      else setTimeout(tick, 5);
    };
    tick();
  });
}

const closeAll = (): Promise<void[]> =>
  Promise.all([
    ...raws.map((r) => r.close()),
    ...clients.map(({ ws }) => new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once('close', () => resolve());
      ws.close();
    })),
  ]);

const arm = (): void => {
  received = 0;
  armedAt = lastAt = performance.now();
};

process.on('message', async (msg: { cmd: string; total?: number; rate?: number; seconds?: number } & Partial<ConnectCommand>) => {
  try {
    if (msg.cmd === 'connect') {
      const deflate = await connect(msg as ConnectCommand);
      process.send!({ ok: 'connected', deflate });
    } else if (msg.cmd === 'arm') {
      arm();
      process.send!({ ok: 'armed' });
    } else if (msg.cmd === 'count') {
      process.send!({ ok: 'count', received, ms: lastAt - armedAt });
    } else if (msg.cmd === 'send') {
      process.send!({ ok: 'sent', sent: await send(msg.rate!, msg.seconds!) });
    } else if (msg.cmd === 'expect') {
      arm();
      expected = msg.total!;
      process.send!({ ok: 'armed' });
    } else if (msg.cmd === 'close') {
      await closeAll();
      clients = [];
      raws = [];
      process.send!({ ok: 'closed' });
    } else if (msg.cmd === 'exit') {
      process.exit(0);
    }
  } catch (err) {
    process.send!({ error: `${msg.cmd}: ${String(err)}` });
  }
});
process.on('disconnect', () => process.exit(0));
