/**
 * Raw TCP clients for the transport's edge tests: half-open and slowloris connections, a
 * hand-made WebSocket handshake, and hand-made frames (RFC 6455 §5.2), the way a hostile or broken
 * client sends them, plus the process's open file-descriptor count.
 */
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/** Open file descriptors of this process (Linux `/proc/self/fd`). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A raw TCP client and everything it has received. */
export interface RawClient {
  socket: Socket;
  received(): Buffer;
  /** Resolves once the server closed the connection (or it errored). */
  closed: Promise<void>;
}

/**
 * Connects to 127.0.0.1:`port`, from `localAddress` (e.g. `127.0.0.2`, another client address).
 * With `allowHalfOpen` the client ignores the server's FIN, as a hostile peer would: only the
 * server cutting the socket ends it.
 */
export async function rawConnect(port: number, { localAddress, allowHalfOpen = false }: { localAddress?: string; allowHalfOpen?: boolean } = {}): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen, ...(localAddress === undefined ? {} : { localAddress }) });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** The first lines of an upgrade request, without the blank line that ends it (slowloris). */
export function partialUpgrade(path = '/ws/'): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
}

/** A complete upgrade request (RFC 6455 §4.1). */
export function fullUpgrade(path = '/ws/'): string {
  return `${partialUpgrade(path)}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

/** Opens a WebSocket by hand, from a client that never answers a close; resolves once the 101 response is in. */
export async function rawWebsocket(port: number, path = '/ws/'): Promise<RawClient> {
  const client = await rawConnect(port, { allowHalfOpen: true });
  client.socket.write(fullUpgrade(path));
  const deadline = Date.now() + 5_000;
  while (!client.received().includes('\r\n\r\n')) {
    if (Date.now() > deadline || client.socket.destroyed) throw new Error(`no handshake answer: ${client.received().toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (!client.received().toString().startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${client.received().toString()}`);
  return client;
}

/** A client frame: FIN set, masked with a zero key (RFC 6455 §5.3), `extraBits` OR-ed into the first byte. */
export function clientFrame(opcode: number, payload: Buffer, { masked = true, extraBits = 0 }: { masked?: boolean; extraBits?: number } = {}): Buffer {
  if (payload.length > 125) throw new RangeError('clientFrame: payloads up to 125 bytes');
  const header = Buffer.from([0x80 | extraBits | opcode, (masked ? 0x80 : 0) | payload.length]);
  return Buffer.concat([header, masked ? Buffer.alloc(4) : Buffer.alloc(0), payload]);
}

/** The close code of the first close frame (opcode 8) in what the server sent after the 101, if any. */
export function closeCodeReceived(client: RawClient): number | undefined {
  const bytes = client.received();
  let at = bytes.indexOf('\r\n\r\n') + 4;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    }
    if (opcode === 8) return length >= 2 ? bytes.readUInt16BE(start) : undefined;
    at = start + length;
  }
  return undefined;
}

/** A server frame parsed from the wire (RFC 6455 §5.2; server frames are unmasked). */
export interface WireFrame {
  fin: boolean;
  /** Set on a compressed message (RFC 7692 §6). */
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/** The server's frames a raw client received after the 101 response, in order (complete ones only). */
export function serverFrames(client: RawClient): WireFrame[] {
  const bytes = client.received();
  let at = bytes.indexOf('\r\n\r\n') + 4;
  const frames: WireFrame[] = [];
  while (at + 2 <= bytes.length) {
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      start = at + 10;
    }
    if (start + length > bytes.length) break;
    frames.push({ fin: (bytes[at]! & 0x80) !== 0, rsv1: (bytes[at]! & 0x40) !== 0, opcode: bytes[at]! & 0x0f, payload: bytes.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}
