/**
 * One WebSocket connection on a real socket: the {@link ConnectionHandle} a consumer talks to.
 * Before `accept()` it holds the raw upgrade request; `accept()` completes the handshake through
 * `ws` (noServer mode); `close()` before that answers HTTP 403 (500 after a handler error).
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { CloseCode } from '../close-codes.js';
import type { ConnectionHandle, PreparedMessage } from '../connection.js';
import { kClosed, kFrame, type WebsocketConsumer } from '../consumer/websocket.js';
import type { Scope } from '../scope.js';
import { binaryFrame, preparedFrame, textFrame, writeCorked, type CorkTarget } from './frame-writer.js';
import { negotiatedWindowBits, type SharedDeflate } from './shared-deflate.js';

/** Most pongs being written at once before a ping flood is closed with 4429 (ws's `maxPendingAutoPongs` default). */
export const MAX_PENDING_PONGS = 60;

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly wss: WebSocketServer;
  readonly maxSendQueueBytes: number;
  readonly closeTimeoutMs: number;
  /** Compressor of the `sharedCompression` option, `null` when it is off. */
  readonly sharedDeflate: SharedDeflate | null;
  /** Subprotocol chosen per request, read by the `ws` `handleProtocols` hook. */
  readonly selectedProtocols: WeakMap<IncomingMessage, string>;
  onOpen(conn: WebsocketConnection): void;
  onReject(conn: WebsocketConnection, status: number, reason: string): void;
  onClosed(conn: WebsocketConnection, code: number): void;
  onSlowClient(conn: WebsocketConnection, bufferedBytes: number): void;
  /** `ws` found a protocol error in the client's frames and sent the close frame. */
  onProtocolError(conn: WebsocketConnection, err: Error & { code?: string }): void;
}

/**
 * Answers an upgrade request with an HTTP error instead of 101 (ws `abortHandshake`). The body is
 * the status text only, never an error's detail; with `requestId`, an `X-Request-Id` header and
 * the id in the body, so a user's report can be matched to the log line that has the detail.
 */
export function abortHandshake(socket: Duplex, status: number, message?: string, requestId?: string): void {
  if (socket.destroyed) return;
  const text = message ?? STATUS_CODES[status] ?? '';
  const body = requestId === undefined ? text : `${text} (request id ${requestId})`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      (requestId === undefined ? '' : `X-Request-Id: ${requestId}\r\n`) +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Cuts a close reason to 123 bytes of UTF-8 without splitting a character (RFC 6455 §5.5). */
export function truncateReason(reason: string | undefined): string {
  if (!reason) return '';
  if (Buffer.byteLength(reason) <= 123) return reason;
  let out = '';
  for (const ch of reason) {
    if (Buffer.byteLength(out + ch) > 123) break;
    out += ch;
  }
  return out;
}

/** A connection from upgrade request to close. */
export class WebsocketConnection implements ConnectionHandle, CorkTarget {
  state: 'handshake' | 'open' | 'closing' | 'closed' = 'handshake';
  /** Set by the heartbeat sweep; cleared when a pong or frame arrives. */
  alive = true;
  consumer: WebsocketConsumer | undefined;
  ws: WebSocket | undefined;
  /** Whether the socket is corked for the current tick. */
  corked = false;
  /** `0`, or the server window bits of the permessage-deflate this socket negotiated (shared-deflate.ts). */
  deflateWindowBits = 0;
  /** Close code of a handshake refused before `consumer` was set (run its disconnect later). */
  refusedCode: number | undefined;
  readonly peer: string;
  #closeTimer: NodeJS.Timeout | undefined;
  /** Pongs written whose write has not completed yet (a client flooding pings without reading). */
  #pendingPongs = 0;
  readonly #pongWritten = (): void => {
    this.#pendingPongs--;
  };

  constructor(
    readonly host: ConnectionHost,
    readonly req: IncomingMessage,
    readonly socket: Duplex,
    readonly head: Buffer,
    readonly scope: Scope,
  ) {
    this.peer = `${scope.client?.host ?? '?'}:${scope.client?.port ?? '?'}`;
  }

  accept(subprotocol?: string): void {
    if (this.state !== 'handshake' || this.socket.destroyed) return;
    if (subprotocol !== undefined) this.host.selectedProtocols.set(this.req, subprotocol);
    this.host.wss.handleUpgrade(this.req, this.socket, this.head, (ws) => this.#opened(ws));
  }

  sendText(text: string): void {
    if (this.state === 'open') this.#write(this.deflateWindowBits === 0 ? textFrame(text) : this.host.sharedDeflate!.textFrame(text, this.deflateWindowBits));
  }

  sendBytes(bytes: Uint8Array): void {
    if (this.state === 'open') this.#write(binaryFrame(bytes));
  }

  sendPrepared(message: PreparedMessage): void {
    if (this.state === 'open') this.#write(this.deflateWindowBits === 0 ? preparedFrame(message) : this.host.sharedDeflate!.preparedFrame(message, this.deflateWindowBits));
  }

  close(code: number, reason?: string): void {
    if (this.state === 'handshake') {
      const status = code === CloseCode.INTERNAL_ERROR ? 500 : 403;
      this.reject(status, reason ?? '', code);
      return;
    }
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.ws!.close(code, truncateReason(reason));
    this.#cutAfterCloseTimeout();
  }

  /** A peer that never answers the close frame (or stopped reading) is cut off after `closeTimeoutMs`. */
  #cutAfterCloseTimeout(): void {
    this.#closeTimer ??= setTimeout(() => this.ws?.terminate(), this.host.closeTimeoutMs);
    this.#closeTimer.unref();
  }

  /**
   * Refuses the handshake with an HTTP status; the consumer's `disconnect(code)` still runs so it
   * leaves its groups (Channels sends `websocket.disconnect` for a rejected handshake too).
   */
  reject(status: number, reason: string, code = 1006): void {
    if (this.state !== 'handshake') return;
    this.state = 'closed';
    abortHandshake(this.socket, status);
    this.host.onReject(this, status, reason);
    if (this.consumer) this.consumer[kClosed](code);
    else this.refusedCode = code;
  }

  /** The client went away before the handshake completed. */
  abandon(): void {
    if (this.state !== 'handshake') return;
    this.state = 'closed';
    if (this.consumer) this.consumer[kClosed](1006);
    else this.refusedCode = 1006;
  }

  #write(bytes: Buffer): void {
    const buffered = writeCorked(this, bytes);
    if (buffered > this.host.maxSendQueueBytes) this.host.onSlowClient(this, buffered);
  }

  /**
   * Answers a ping (RFC 6455 §5.5.2) unless more than {@link MAX_PENDING_PONGS} pongs are still
   * being written: a client that floods pings without reading is closed with 4429.
   */
  #onPing(ws: WebSocket, data: Buffer): void {
    this.alive = true;
    if (this.state !== 'open') return;
    if (this.#pendingPongs >= MAX_PENDING_PONGS) {
      this.close(CloseCode.RATE_LIMITED, `ping flood: over ${MAX_PENDING_PONGS} pongs unsent`);
      return;
    }
    this.#pendingPongs++;
    ws.pong(data, false, this.#pongWritten);
  }

  #opened(ws: WebSocket): void {
    if (this.state !== 'handshake') {
      ws.terminate();
      return;
    }
    this.ws = ws;
    this.state = 'open';
    if (this.host.sharedDeflate !== null) this.deflateWindowBits = negotiatedWindowBits(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.alive = true;
      this.consumer?.[kFrame](isBinary ? { bytes: data } : { text: data.toString() });
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('ping', (data: Buffer) => this.#onPing(ws, data));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws has sent a close frame (1002 protocol error, 1007, 1008 too many fragments, 1009;
      // docs/close-codes.md); the 'close' event reports the code. ws itself waits 30 s for the
      // peer's close frame, we wait closeTimeoutMs.
      if (this.state === 'open') this.state = 'closing';
      this.host.onProtocolError(this, err);
      this.#cutAfterCloseTimeout();
    });
    ws.on('close', (code: number) => {
      clearTimeout(this.#closeTimer);
      this.state = 'closed';
      this.host.onClosed(this, code);
      this.consumer?.[kClosed](code);
    });
    this.host.onOpen(this);
  }
}
