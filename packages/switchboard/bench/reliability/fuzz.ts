/**
 * Part 1 of `npm run bench:reliability`: malformed frames over every route from several clients
 * at once, while a bystander on `ws/feed/` receives a steady stream it must get in full.
 *
 * Each fuzz client opens a connection to the next route, sends malformed frames in bursts of 10
 * (a ping round trip between bursts, so the server keeps up) until the server closes it, records
 * the close code and reconnects. A raw-socket client sends frames `ws` itself cannot produce
 * (reserved bits, unknown opcodes, unmasked or fragmented control frames, RFC 6455 §5.2, §5.5),
 * one per connection, and reads the server's close frame.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { BenchApp } from './app.js';
import { ROUTES } from './app.js';
import { closeClient, count, formatCodes, openClient, settle, type PartResult } from './util.js';

/** A malformed frame: text (a string, or bytes sent as a text frame) or binary bytes. */
interface BadFrame {
  readonly data: string | Buffer;
  readonly binary: boolean;
}

const text = (data: string | Buffer): BadFrame => ({ data, binary: false });

/** Cheap malformed frames, drawn at random. */
const CHEAP: readonly BadFrame[] = [
  text('not json'),
  text('{"message":'),
  text('\u0000\u0001\u0002'),
  text(''),
  text('null'),
  text('[]'),
  text('"a string"'),
  text('1e999'),
  text('{"message":42}'),
  text('{"__proto__":{"polluted":true},"message":1}'),
  text('{"type":"echo","requestId":-1}'), // not a request envelope: a message without "message"
  text('{"type":"echo","requestId":1.5}'),
  text('{"type":42,"requestId":1}'),
  text('{"type":"echo","requestId":9007199254740993}'),
  text('{"type":"no.such.request","requestId":7}'), // unknown request type
  text('{"type":"_private","requestId":8}'),
  text('{"type":"connect","requestId":9}'),
  text('{"type":"burst.message","requestId":10,"data":{}}'),
  text('{"type":"feed.item","payload":{"n":-1}}'), // a layer event type from a client
  text('['.repeat(100_000) + ']'.repeat(100_000)), // huge nesting
  text('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)),
  text(Buffer.from([0xc3, 0x28, 0xff])), // invalid UTF-8 in a text frame: 1007
  { data: Buffer.from([0x00, 0xff, 0x10]), binary: true }, // binary to a JSON consumer: 1003
];

/** Expensive ones, one frame in RARE_EVERY: over `maxPayloadBytes` (1009), and just under it. */
const RARE: readonly BadFrame[] = [text(Buffer.alloc(1_100_000, 0x61)), text(`{"message":"${'x'.repeat(900_000)}"}`)];
const RARE_EVERY = 250;
const BURST = 10;

/** Frames `ws` refuses to send, each written on a raw socket after a handshake by hand. */
const RAW_FRAMES: readonly Buffer[] = [
  maskedFrame(0xc1, 'hi'), // FIN + RSV1 on a connection without extensions
  maskedFrame(0x83, 'hi'), // reserved opcode 3
  Buffer.from([0x81, 0x02, 0x68, 0x69]), // an unmasked client frame
  maskedFrame(0x09, ''), // a fragmented ping
  maskedFrame(0x89, 'x'.repeat(126)), // a control frame over 125 bytes
  maskedFrame(0x88, Buffer.from([0x03, 0xe7])), // close code 999
  maskedFrame(0x80, 'orphan'), // a continuation with nothing to continue
];

/** The client's answer to the server's close frame: a close frame without a code. */
const CLOSE_REPLY = maskedFrame(0x88, '');

/** A client frame (RFC 6455 §5.2) with the all-zero masking key, so the payload stays readable. */
function maskedFrame(first: number, payload: string | Buffer): Buffer {
  const body = Buffer.from(payload);
  const length = body.length < 126 ? Buffer.from([0x80 | body.length]) : Buffer.from([0x80 | 126, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([first]), length, Buffer.alloc(4), body]);
}

/** What the fuzz saw. */
interface FuzzTally {
  frames: number;
  connections: number;
  refused: number;
  readonly codes: Map<number | string, number>;
}

const tallyCode = (tally: FuzzTally, code: number | string): void => void tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);

/** Resolves after a ping's pong, or once `ws` is closing or closed. */
function roundTrip(ws: WebSocket): Promise<void> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      ws.off('pong', done);
      ws.off('close', done);
      resolve();
    };
    ws.once('pong', done);
    ws.once('close', done);
    ws.ping();
  });
}

/** One fuzz client: connections to the routes in turn until `target` frames are sent overall. */
async function fuzzClient(app: BenchApp, tally: FuzzTally, target: number, first: number): Promise<void> {
  for (let r = first; tally.frames < target; r++) {
    let ws: WebSocket;
    try {
      ws = await openClient(app.base + ROUTES[r % ROUTES.length]);
    } catch {
      tally.refused++;
      continue;
    }
    tally.connections++;
    let closingByUs = false;
    const closed = once(ws, 'close').then(([code]) => {
      if (!closingByUs) tallyCode(tally, code as number);
    });
    while (ws.readyState === WebSocket.OPEN && tally.frames < target) {
      for (let i = 0; i < BURST && ws.readyState === WebSocket.OPEN; i++) {
        const n = tally.frames++;
        const frame = n % RARE_EVERY === RARE_EVERY - 1 ? RARE[Math.floor(n / RARE_EVERY) % RARE.length]! : CHEAP[Math.floor(Math.random() * CHEAP.length)]!;
        ws.send(frame.data, { binary: frame.binary });
      }
      await roundTrip(ws);
    }
    if (ws.readyState === WebSocket.OPEN) {
      closingByUs = true;
      tallyCode(tally, 'closed by the client');
    }
    await closeClient(ws);
    await closed;
  }
}

/** Handshakes by hand on a raw socket, writes `frame`, and resolves with the server's close code. */
async function rawProtocolError(port: number, frame: Buffer): Promise<number | string> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setTimeout(10_000, () => socket.destroy());
  try {
    await once(socket, 'connect');
    socket.write(`GET /ws/raw/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let received = Buffer.alloc(0);
    let sent = false;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (!sent && end >= 0) {
        sent = true;
        socket.write(frame);
      } else if (sent && received[end + 4] === 0x88) {
        socket.end(CLOSE_REPLY); // answer the server's close frame, as a peer should
      }
    });
    await once(socket, 'close');
    const end = received.indexOf('\r\n\r\n');
    if (!received.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) return `HTTP ${received.subarray(9, 12).toString()}`;
    const reply = received.subarray(end + 4);
    // The server's close frame: 0x88, a 7-bit length (no mask), then the code (RFC 6455 §5.5.1).
    return reply[0] === 0x88 && reply.length >= 4 ? reply.readUInt16BE(2) : 'no close frame';
  } finally {
    socket.destroy();
  }
}

/** Runs part 1: `frames` malformed frames from `clients` clients, a bystander on the feed. */
export async function fuzzWithBystander(app: BenchApp, frames: number, clients: number): Promise<PartResult> {
  const port = Number(new URL(app.base).port);
  const bystander = await openClient(`${app.base}ws/feed/`);
  const seen: number[] = [];
  bystander.on('message', (data: Buffer) => seen.push((JSON.parse(data.toString()) as { n: number }).n));
  let bystanderClosed: number | undefined;
  bystander.once('close', (code: number) => (bystanderClosed = code));

  // The steady stream: 10 events every 10 ms, until the fuzz is over.
  let sent = 0;
  let fuzzing = true;
  const stream = (async () => {
    while (fuzzing) {
      for (let i = 0; i < 10; i++) await app.layer.groupSend('feed', { type: 'feed.item', payload: { n: sent++ } });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();

  const tally: FuzzTally = { frames: 0, connections: 0, refused: 0, codes: new Map() };
  const raw: FuzzTally = { frames: 0, connections: 0, refused: 0, codes: new Map() };
  const rawCount = Math.max(RAW_FRAMES.length, Math.floor(frames / 100));
  const rawClient = (async () => {
    for (let i = 0; i < rawCount; i++) {
      raw.frames++;
      tallyCode(raw, await rawProtocolError(port, RAW_FRAMES[i % RAW_FRAMES.length]!));
    }
  })();
  const started = performance.now();
  await Promise.all([...Array.from({ length: clients }, (_, i) => fuzzClient(app, tally, frames, i)), rawClient]);
  const seconds = (performance.now() - started) / 1000;
  fuzzing = false;
  await stream;

  const complete = await settle(() => seen.length >= sent, 10_000);
  const inOrder = seen.every((n, i) => n === i);
  // Still serving: a new client's request is answered, and only the bystander is left open.
  const probe = await openClient(`${app.base}ws/json/`);
  const reply = once(probe, 'message');
  probe.send(JSON.stringify({ type: 'echo', requestId: 1, data: 'still here' }));
  const [answer] = (await Promise.race([reply, new Promise((resolve) => setTimeout(() => resolve(['{}']), 5_000))])) as [Buffer | string];
  const serving = (JSON.parse(answer.toString()) as { data?: unknown }).data === 'still here';
  await closeClient(probe);
  const drained = await settle(() => app.server.stats.connectionsOpen === 1, 10_000);
  const polluted = 'polluted' in Object.prototype;
  const bystanderOpen = bystanderClosed === undefined;
  await closeClient(bystander);

  const figures = `${count(tally.frames)} frames + ${count(raw.frames)} raw over ${count(tally.connections + raw.frames)} connections in ${seconds.toFixed(1)} s`;
  console.log(`fuzz: ${figures}; refused handshakes ${tally.refused}`);
  console.log(`fuzz: close codes ${formatCodes(tally.codes)}; raw frames ${formatCodes(raw.codes)}`);
  console.log(`fuzz: bystander received ${count(seen.length)}/${count(sent)}${inOrder ? ' in order' : ' OUT OF ORDER'}${bystanderOpen ? '' : `, closed ${bystanderClosed}`}; server still serving: ${serving && drained ? 'yes' : 'NO'}`);
  const ok = complete && inOrder && seen.length === sent && bystanderOpen && serving && drained && !polluted && !tally.codes.has(1006) && !raw.codes.has('no close frame');
  return { part: 'fuzz with a bystander', figure: `${count(tally.frames + raw.frames)} bad frames; bystander ${count(seen.length)}/${count(sent)}`, expected: 'bystander got all, in order; still serving; no 1006', ok };
}
