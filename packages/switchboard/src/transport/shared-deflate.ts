/**
 * Shared compression (the `sharedCompression` server option): permessage-deflate (RFC 7692)
 * negotiated through `ws` with `server_no_context_takeover`, so every message the server sends is
 * a deflate stream of its own (RFC 7692 §7.1.1.1) and the same compressed bytes are valid for
 * every client. A {@link PreparedMessage} (a group event sent to 1,000 members) is compressed once
 * and its compressed frame cached next to the plain one; connections that did not negotiate the
 * extension get the plain frame (docs/architecture.md, "Shared compression").
 *
 * Window sizes: a client may offer `server_max_window_bits` below 15 (RFC 7692 §7.1.2.1), and
 * `ws` accepts the offer (declining it would answer the handshake 400, as `ws` does for any offer
 * it cannot accept). A deflate stream of one message never refers further back than the
 * message's length, so the frame compressed with a 32 KiB window is valid for a client with a
 * `2^bits`-byte window whenever the payload is at most `2^bits` bytes; longer payloads are
 * compressed again for that window size, once per message and size (cached beside the message).
 */
import { constants, deflateRawSync } from 'node:zlib';
import type { WebSocket } from 'ws';
import type { PreparedMessage } from '../connection.js';
import { frame, OPCODE_TEXT, preparedFrame } from './frame-writer.js';

/** The `sharedCompression` server option's object form. */
export interface SharedCompressionOptions {
  /**
   * Payloads smaller than this many bytes are sent uncompressed. Default 256: below it a message
   * fits one TCP segment either way and deflate saves a few tens of bytes, fewer than the TCP/IP
   * headers of the packet that carries it, while every client still pays an inflate.
   */
  threshold?: number;
  /** zlib compression level, 0 (store) to 9 (smallest), or -1 for zlib's default (6). Default 6. */
  level?: number;
}

/** {@link SharedCompressionOptions} with defaults filled in. */
export interface ResolvedSharedCompression {
  readonly threshold: number;
  readonly level: number;
}

/** Defaults of {@link SharedCompressionOptions}. */
export const SHARED_COMPRESSION_DEFAULTS: ResolvedSharedCompression = { threshold: 256, level: 6 };

/** Where compressions are counted (the server's stats). */
export interface CompressionStats {
  /** Messages deflated: once per shared message (per window size), once per compressed one-off send. */
  messagesCompressed?: number;
}

/** Largest LZ77 window (RFC 7692 §7.1.2.1): 15 bits, 32 KiB. */
const MAX_WINDOW_BITS = 15;
/** RFC 7692 §7.2.1: a sync flush ends with an empty stored block, 0x00 0x00 0xff 0xff, removed before framing. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Checks and fills in the `sharedCompression` option; `null` when it is off.
 * @throws RangeError naming the option for a value that is not `true`, `false`, or
 *   `{ threshold?: integer >= 0, level?: integer -1..9 }`.
 */
export function resolveSharedCompression(value: boolean | SharedCompressionOptions | undefined): ResolvedSharedCompression | null {
  if (value === undefined || value === false) return null;
  if (value === true) return SHARED_COMPRESSION_DEFAULTS;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RangeError(`server option sharedCompression must be true, false or { threshold?, level? }, got ${String(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (key !== 'threshold' && key !== 'level') throw new RangeError(`server option sharedCompression has no field ${key} (threshold, level)`);
  }
  const threshold = value.threshold ?? SHARED_COMPRESSION_DEFAULTS.threshold;
  const level = value.level ?? SHARED_COMPRESSION_DEFAULTS.level;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new RangeError(`server option sharedCompression.threshold must be an integer >= 0 (bytes), got ${String(threshold)}`);
  }
  if (!Number.isInteger(level) || level < -1 || level > 9) {
    throw new RangeError(`server option sharedCompression.level must be an integer from -1 to 9 (zlib level), got ${String(level)}`);
  }
  return { threshold, level };
}

/**
 * The `ws` `perMessageDeflate` option for shared compression. `serverNoContextTakeover` makes the
 * compressed bytes the same for every client. `clientNoContextTakeover` asks clients to compress
 * each message on its own too (RFC 7692 §7.1.1.2; clients must accept it), so the server's
 * inflater carries nothing from one client message to the next. `client_max_window_bits` is not
 * requested: `ws` refuses (HTTP 400) a client whose offer lacks it, as Firefox's bare
 * `permessage-deflate` offer does. The inflated size of a client message is bounded by
 * `maxPayloadBytes` (`ws` closes with 1009, docs/close-codes.md). A connection that sent
 * compressed data keeps its zlib inflater until it closes; its output buffer is
 * {@link INFLATE_CHUNK_BYTES} instead of zlib's 16 KiB. `ws` itself never compresses here: data
 * frames bypass its sender (frame-writer.ts) and control frames are never compressed.
 */
export function wsDeflateOptions(): { serverNoContextTakeover: true; clientNoContextTakeover: true; zlibInflateOptions: { chunkSize: number } } {
  return { serverNoContextTakeover: true, clientNoContextTakeover: true, zlibInflateOptions: { chunkSize: INFLATE_CHUNK_BYTES } };
}

/**
 * Output chunk of the inflater `ws` keeps per connection that sent compressed data. Client
 * messages are mostly small; 1 KiB instead of zlib's 16 KiB default took such a connection from
 * 15.6 to 11.5 KiB of RSS (1,000 raw clients, one compressed message each), at the price of one
 * `data` event per KiB when a large message is inflated.
 */
export const INFLATE_CHUNK_BYTES = 1024;

/** The negotiated permessage-deflate parameters `ws` keeps on a socket (not in @types/ws). */
interface WsExtensions {
  _extensions?: Record<string, { params?: { server_max_window_bits?: number } | null } | undefined>;
}

/**
 * `0` when `ws` did not negotiate permessage-deflate on this socket, else the server's LZ77
 * window size in bits the client accepts (8 to 15; 15 when it did not offer `server_max_window_bits`).
 */
export function negotiatedWindowBits(ws: WebSocket): number {
  const deflate = (ws as unknown as WsExtensions)._extensions?.['permessage-deflate'];
  if (deflate === undefined) return 0;
  return deflate.params?.server_max_window_bits ?? MAX_WINDOW_BITS;
}

/**
 * Compresses messages for the connections that negotiated permessage-deflate (see the file
 * comment); one per server.
 */
export class SharedDeflate {
  /** Compressed frames of messages longer than a small window, per message: index = window bits. */
  readonly #smallWindows = new WeakMap<PreparedMessage, Array<Buffer | null>>();

  constructor(
    readonly options: ResolvedSharedCompression,
    readonly stats: CompressionStats,
  ) {}

  /**
   * The frame of `message` for a connection with a `windowBits` window: compressed (RSV1 set,
   * RFC 7692 §6) once per message and cached on it, or the plain frame when the payload is under
   * the threshold or does not shrink.
   */
  preparedFrame(message: PreparedMessage, windowBits: number): Buffer {
    let compressed = message.compressedFrame;
    if (compressed === undefined) {
      const plain = preparedFrame(message);
      compressed = message.byteLength < this.options.threshold ? null : this.#compress(plain.subarray(plain.length - message.byteLength), MAX_WINDOW_BITS);
      message.compressedFrame = compressed;
    }
    if (compressed !== null && windowBits < MAX_WINDOW_BITS && message.byteLength > 2 ** windowBits) {
      compressed = this.#forSmallWindow(message, windowBits);
    }
    return compressed ?? preparedFrame(message);
  }

  /** The frame of a one-off text message for a connection with a `windowBits` window. */
  textFrame(text: string, windowBits: number): Buffer {
    const payload = Buffer.from(text);
    if (payload.length < this.options.threshold) return frame(payload, OPCODE_TEXT);
    return this.#compress(payload, windowBits) ?? frame(payload, OPCODE_TEXT);
  }

  #forSmallWindow(message: PreparedMessage, windowBits: number): Buffer | null {
    let byBits = this.#smallWindows.get(message);
    if (byBits === undefined) {
      byBits = [];
      this.#smallWindows.set(message, byBits);
    }
    let compressed = byBits[windowBits];
    if (compressed === undefined) {
      const plain = preparedFrame(message);
      compressed = this.#compress(plain.subarray(plain.length - message.byteLength), windowBits);
      byBits[windowBits] = compressed;
    }
    return compressed;
  }

  /**
   * Deflates `payload` as one message (RFC 7692 §7.2.1) and frames it with RSV1 set; `null` when
   * it does not shrink. zlib has no raw 8-bit window; its 9-bit window never refers more than
   * 250 bytes back (window size minus 262), within an 8-bit window, so 8 is compressed with 9.
   */
  #compress(payload: Buffer, windowBits: number): Buffer | null {
    this.stats.messagesCompressed = (this.stats.messagesCompressed ?? 0) + 1;
    const deflated = deflateRawSync(payload, {
      level: this.options.level,
      windowBits: Math.max(9, windowBits),
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    const end = deflated.length - TRAILER.length;
    const body = end >= 0 && deflated.subarray(end).equals(TRAILER) ? deflated.subarray(0, end) : deflated;
    if (body.length >= payload.length) return null;
    return frame(body, OPCODE_TEXT, true);
  }
}
