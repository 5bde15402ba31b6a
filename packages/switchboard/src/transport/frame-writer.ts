/**
 * Writes server frames straight to sockets, framed once per message and collected per tick
 * (DESIGN.md §7): a group event for 1,000 members is framed once, and all frames for one socket
 * within a tick leave in one write of one buffer (docs/architecture.md, "Fan-out path").
 *
 * Frames are built with `ws`'s own `Sender.frame` (RFC 6455 §5.2; server frames are unmasked).
 * This bypasses `ws`'s sender, which is safe because `ws` never compresses on our sockets: data
 * frames never go through it, and with `sharedCompression` on, the compressed frames are built
 * here too (shared-deflate.ts). `ws`'s sender queues sends only while a deflate or a Blob read of
 * its own is pending; it writes its control frames (pong, close, ping) to the socket
 * synchronously, so the connection writes the frames it holds first ({@link flushCollected}).
 */
import type { Duplex } from 'node:stream';
import * as wsModule from 'ws';
import type { PreparedMessage } from '../connection.js';

/** `ws`'s Sender (exported at run time, missing from @types/ws). */
interface WsSender {
  frame(data: Buffer, options: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[];
}
const Sender = (wsModule as unknown as { Sender: WsSender }).Sender;

/** Opcode of a text frame (RFC 6455 §5.2). */
export const OPCODE_TEXT = 1;
const OPCODE_BINARY = 2;

/**
 * Frames `payload` as one unmasked, final frame (RFC 6455 §5.2) in a single buffer; `rsv1` marks
 * a compressed message (RFC 7692 §6).
 */
export function frame(payload: Buffer, opcode: number, rsv1 = false): Buffer {
  const parts = Sender.frame(payload, { fin: true, rsv1, opcode, mask: false, readOnly: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Frames `text` as one unmasked, final text frame (RFC 6455 §5.2) in one buffer: the header and
 * the UTF-8 payload written in place (no payload buffer, no concat). Same bytes as {@link frame}.
 */
function frameText(text: string, length: number = Buffer.byteLength(text)): Buffer {
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + length);
  out[0] = 0x80 | OPCODE_TEXT; // FIN, no RSV bits
  if (header === 2) out[1] = length;
  else if (header === 4) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  out.write(text, header, length, 'utf8');
  return out;
}

/** The framed bytes of a prepared text message, built on first use and cached on it. */
export function preparedFrame(message: PreparedMessage): Buffer {
  let f = message.frame;
  if (f === undefined) {
    const length = Buffer.byteLength(message.text);
    message.byteLength = length;
    f = [frameText(message.text, length)];
    message.frame = f;
  }
  return f[0]!;
}

/** Frames a one-off text message. */
export function textFrame(text: string): Buffer {
  return frameText(text);
}

/** Frames a one-off binary message. */
export function binaryFrame(bytes: Uint8Array): Buffer {
  return frame(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), OPCODE_BINARY);
}

/**
 * A connection whose frames {@link writeCollected} holds until the end of the tick. The frames
 * one connection gets within a tick leave in one `socket.write` (one buffer), not one write per
 * frame: `ws` never sees them, so before anything else writes to the socket (a pong, a ping, a
 * close frame) the owner calls {@link flushCollected}, and frames still held when `ws` closed on
 * its own (a protocol error, the peer's close) are dropped: no data frame after a close frame
 * (RFC 6455 §5.5.1).
 */
export interface CollectTarget {
  readonly socket: Duplex;
  /** Frames held for this tick: none, one buffer, or several. */
  collected: Buffer | Buffer[] | undefined;
  /** Bytes in `collected`. */
  collectedBytes: number;
  /** Whether the frames may still be written (false once a close frame went out). */
  readonly writable: boolean;
}

const dirty: CollectTarget[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  // A flush may run user code (a socket 'drain' or 'error' listener) that holds more frames: they
  // are appended to `dirty` and flushed by this same loop, which reads its length each time.
  for (let i = 0; i < dirty.length; i++) flushCollected(dirty[i]!);
  dirty.length = 0;
}

/** Writes what `target` holds now, in one write (or drops it when `target` is no longer writable). */
export function flushCollected(target: CollectTarget): void {
  const held = target.collected;
  if (held === undefined) return;
  target.collected = undefined;
  const bytes = target.collectedBytes;
  target.collectedBytes = 0;
  if (!target.writable || target.socket.destroyed) return;
  target.socket.write(Array.isArray(held) ? Buffer.concat(held, bytes) : held);
}

/**
 * Holds `frame` for `target` until the end of the current tick (see {@link CollectTarget}).
 * @returns the bytes waiting for this socket after it: the socket's buffer plus what is held (for
 *   the send-queue bound, `maxSendQueueBytes`).
 */
export function writeCollected(target: CollectTarget, frame: Buffer): number {
  const held = target.collected;
  if (held === undefined) {
    target.collected = frame;
    dirty.push(target);
    if (!flushScheduled) {
      flushScheduled = true;
      process.nextTick(flushAll);
    }
  } else if (Array.isArray(held)) held.push(frame);
  else target.collected = [held, frame];
  target.collectedBytes += frame.length;
  return target.socket.writableLength + target.collectedBytes;
}
