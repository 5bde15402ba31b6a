/**
 * Writes server frames straight to sockets, framed once per message and corked per tick
 * (DESIGN.md §7): a group event for 1,000 members is framed once, and all frames for one socket
 * within a tick leave in one write.
 *
 * Frames are built with `ws`'s own `Sender.frame` (RFC 6455 §5.2; server frames are unmasked).
 * This bypasses `ws`'s sender, which is safe because `ws` never compresses on our sockets: data
 * frames never go through it, and with `sharedCompression` on, the compressed frames are built
 * here too (shared-deflate.ts). `ws`'s sender queues sends only while a deflate or a Blob read of
 * its own is pending; it writes its control frames (pong, close, ping) to the socket
 * synchronously, into the same corked socket, so order holds.
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

/** The framed bytes of a prepared text message, built on first use and cached on it. */
export function preparedFrame(message: PreparedMessage): Buffer {
  let f = message.frame;
  if (f === undefined) {
    const payload = Buffer.from(message.text);
    message.byteLength = payload.length;
    f = [frame(payload, OPCODE_TEXT)];
    message.frame = f;
  }
  return f[0]!;
}

/** Frames a one-off text message. */
export function textFrame(text: string): Buffer {
  return frame(Buffer.from(text), OPCODE_TEXT);
}

/** Frames a one-off binary message. */
export function binaryFrame(bytes: Uint8Array): Buffer {
  return frame(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), OPCODE_BINARY);
}

/** Something with a socket that can be corked for the rest of the tick. */
export interface CorkTarget {
  readonly socket: Duplex;
  /** Whether `socket` is corked by {@link writeCorked} for the current tick. */
  corked: boolean;
}

const corked: CorkTarget[] = [];
let uncorkScheduled = false;

function uncorkAll(): void {
  uncorkScheduled = false;
  for (let i = 0; i < corked.length; i++) {
    const target = corked[i]!;
    target.corked = false;
    target.socket.uncork();
  }
  corked.length = 0;
}

/**
 * Writes `bytes` to `target.socket`, corking it until the end of the current tick.
 * @returns the socket's buffered byte count after the write (for the send-queue bound).
 */
export function writeCorked(target: CorkTarget, bytes: Buffer): number {
  if (!target.corked) {
    target.corked = true;
    target.socket.cork();
    corked.push(target);
    if (!uncorkScheduled) {
      uncorkScheduled = true;
      process.nextTick(uncorkAll);
    }
  }
  target.socket.write(bytes);
  return target.socket.writableLength;
}
