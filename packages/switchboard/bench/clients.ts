/**
 * Benchmark load generator, run as a child process: opens N WebSocket clients to a URL and counts
 * the messages they receive. Controlled over IPC: {cmd:'connect', url, n} → {ok:'connected'};
 * {cmd:'expect', total} → {ok:'received', ms} when `total` messages arrived across all clients;
 * {cmd:'close'} → closes every client → {ok:'closed'}.
 *
 * `protocol: 'socketio'` in the connect command speaks Socket.IO v5 over Engine.IO v4 on the
 * WebSocket transport (no socket.io-client): the URL is the server's base (`ws://host:port`) and
 * each client connects to `/socket.io/?EIO=4&transport=websocket`. The server sends the Engine.IO
 * open packet `0{...}`, the client sends `40` (CONNECT to the default namespace), the server
 * answers `40{"sid":...}`; then the client answers each server ping `2` with pong `3`, and counts
 * only event packets (`42[...]`), not the control frames. One Engine.IO packet per WebSocket frame.
 */
import { WebSocket } from 'ws';

let clients: WebSocket[] = [];
let received = 0;
let expected = Infinity;
let started = 0;

function check(): void {
  if (received >= expected) {
    expected = Infinity;
    process.send!({ ok: 'received', ms: performance.now() - started, received });
  }
}

const countMessage = (): void => {
  received++;
  if (received >= expected) check();
};

/** A plain WebSocket client: every message counts; ready on open. */
function plainClient(url: string): { ws: WebSocket; ready: Promise<void> } {
  const ws = new WebSocket(url, { perMessageDeflate: false });
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
function socketIoClient(base: string): { ws: WebSocket; ready: Promise<void> } {
  const ws = new WebSocket(`${base.replace(/\/+$/, '')}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
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

process.on('message', async (msg: { cmd: string; url?: string; n?: number; total?: number; protocol?: 'ws' | 'socketio' }) => {
  if (msg.cmd === 'connect') {
    const opened: Promise<void>[] = [];
    for (let i = 0; i < msg.n!; i++) {
      const { ws, ready } = msg.protocol === 'socketio' ? socketIoClient(msg.url!) : plainClient(msg.url!);
      ws.on('error', (err) => process.send!({ error: String(err) }));
      opened.push(ready);
      clients.push(ws);
      if (i % 100 === 99) await Promise.all(opened.slice(-100));
    }
    await Promise.all(opened);
    process.send!({ ok: 'connected' });
  } else if (msg.cmd === 'expect') {
    received = 0;
    started = performance.now();
    expected = msg.total!;
    process.send!({ ok: 'armed' });
  } else if (msg.cmd === 'close') {
    await Promise.all(
      clients.map((ws) => new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      })),
    );
    clients = [];
    process.send!({ ok: 'closed' });
  } else if (msg.cmd === 'exit') {
    process.exit(0);
  }
});
