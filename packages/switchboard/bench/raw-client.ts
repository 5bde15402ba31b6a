/**
 * A lightweight receiver for the load generator: a WebSocket client on a bare TCP socket that
 * does the opening handshake (RFC 6455 §4.1) and then only walks the frame headers (§5.2),
 * counting complete messages without copying, decoding or inflating their payloads. With
 * 1,000 of them on one core the receivers cost a fraction of what `ws` clients cost per message,
 * so at saturation the server, not the load generator, sets the pace (as an independent load
 * generator written in a systems language would).
 *
 * It answers pings with pongs and a close with a close; it offers permessage-deflate
 * (RFC 7692) when asked and counts compressed messages as they come (RSV1 set, not inflated).
 * `socketio: true` reads the first two payload bytes of each message for the Engine.IO v4 /
 * Socket.IO v5 framing (see bench/clients.ts): counts `42…` events, answers `0…` with `40` and
 * pings `2` with `3`, and is ready on `40…`.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawClient {
  readonly ready: Promise<void>;
  /** Whether the server accepted permessage-deflate (known once ready). */
  deflate(): boolean;
  close(): Promise<void>;
}

/** A masked client frame (RFC 6455 §5.3) of `opcode` with a payload under 126 bytes. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const frame = Buffer.allocUnsafe(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/** Opens a raw client to `url` (`ws://host:port/path?query`); `onMessage` runs once per complete counted message. */
export function rawClient(url: string, options: { deflate: boolean; socketio: boolean }, onMessage: () => void, onError: (err: Error) => void): RawClient {
  const { hostname, port, pathname, search } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  socket.setNoDelay(true);
  let accepted = false;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const send = (opcode: number, text: string | Buffer): void => void socket.write(clientFrame(opcode, Buffer.from(text)));

  // Frame parser state: header bytes so far, payload bytes left to skip, the current frame's
  // opcode and FIN, and what is kept of its payload (control frames; Socket.IO's first 2 bytes).
  const head = Buffer.alloc(14);
  let headLen = 0;
  let need = 2;
  let remaining = 0;
  let opcode = 0;
  let fin = false;
  let keep: Buffer | null = null;
  let kept = 0;
  let first = ''; // Socket.IO: the first two characters of the current message

  const message = (): void => {
    if (!options.socketio) return onMessage();
    if (first.startsWith('42')) onMessage();
    else if (first.startsWith('40')) resolveReady();
    else if (first.startsWith('2')) send(0x1, '3');
    else if (first.startsWith('0')) send(0x1, '40');
    else if (first.startsWith('44')) onError(new Error('socket.io connect error'));
  };

  const frameDone = (): void => {
    if (opcode >= 0x8) {
      if (opcode === 0x9) send(0xa, keep ?? Buffer.alloc(0));
      else if (opcode === 0x8) {
        send(0x8, keep ?? Buffer.alloc(0));
        socket.end();
      }
    } else {
      if (opcode !== 0x0 && keep) first = keep.toString('latin1', 0, kept);
      if (fin) message();
    }
    keep = null;
    kept = 0;
  };

  const headerDone = (): void => {
    fin = (head[0]! & 0x80) !== 0;
    opcode = head[0]! & 0x0f;
    const l = head[1]! & 0x7f;
    remaining = l < 126 ? l : l === 126 ? head.readUInt16BE(2) : Number(head.readBigUInt64BE(2));
    headLen = 0;
    need = 2;
    if (opcode >= 0x8) keep = Buffer.alloc(remaining);
    else if (options.socketio && opcode !== 0x0) keep = Buffer.alloc(Math.min(2, remaining));
    if (remaining === 0) frameDone();
  };

  const feed = (chunk: Buffer, from: number): void => {
    let i = from;
    while (i < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - i);
        if (keep && kept < keep.length) kept += chunk.copy(keep, kept, i, i + Math.min(n, keep.length - kept));
        i += n;
        remaining -= n;
        if (remaining === 0) frameDone();
        continue;
      }
      head[headLen++] = chunk[i++]!;
      if (headLen === 2) need = 2 + ((head[1]! & 0x7f) === 126 ? 2 : (head[1]! & 0x7f) === 127 ? 8 : 0);
      if (headLen === need) headerDone();
    }
  };

  let response = '';
  const onData = (chunk: Buffer): void => {
    if (accepted) return feed(chunk, 0);
    response += chunk.toString('latin1');
    const end = response.indexOf('\r\n\r\n');
    if (end < 0) return;
    if (!/^HTTP\/1\.1 101 /.test(response)) return onError(new Error(`handshake refused: ${response.split('\r\n')[0]}`));
    accepted = true;
    const extensions = /\r\nsec-websocket-extensions:\s*([^\r\n]*)/i.exec(response)?.[1] ?? '';
    deflateAccepted = extensions.includes('permessage-deflate');
    const rest = Buffer.from(response.slice(end + 4), 'latin1');
    response = '';
    if (!options.socketio) resolveReady();
    feed(rest, 0);
  };
  let deflateAccepted = false;

  socket.on('data', onData);
  socket.on('error', onError);
  socket.once('connect', () => {
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        (options.deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' : '') +
        '\r\n',
    );
  });

  return {
    ready,
    deflate: () => deflateAccepted,
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        if (accepted) send(0x8, Buffer.from([0x03, 0xe8]));
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      }),
  };
}
