/**
 * One WebSocket connection on a real socket: the {@link ConnectionHandle} a consumer talks to.
 * Before `accept()` it holds the raw upgrade request; `accept()` completes the handshake through
 * `ws` (noServer mode); `close()` before that answers HTTP 403 (500 after a handler error).
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket as WebSocketClass, type WebSocket, type WebSocketServer } from 'ws';
import { CloseCode } from '../close-codes.js';
import type { ConnectionHandle, PreparedMessage } from '../connection.js';
import { kClosed, type WebsocketConsumer } from '../consumer/websocket.js';
import type { Scope } from '../scope.js';
import { formatPeer } from './access-log.js';
import { binaryFrame, flushCollected, preparedFrame, textFrame, writeCollected, type CollectTarget } from './frame-writer.js';
import { kConnection, type ServerWebSocket } from './server-websocket.js';
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
export class WebsocketConnection implements ConnectionHandle, CollectTarget {
  state: 'handshake' | 'open' | 'closing' | 'closed' = 'handshake';
  /** Set by the heartbeat sweep; cleared when a pong or frame arrives. */
  alive = true;
  consumer: WebsocketConsumer | undefined;
  ws: WebSocket | undefined;
  /** Frames held for the end of this tick (`frame-writer.ts`). */
  collected: Buffer | Buffer[] | undefined = undefined;
  collectedBytes = 0;
  /** `0`, or the server window bits of the permessage-deflate this socket negotiated (shared-deflate.ts). */
  deflateWindowBits = 0;
  /** Close code of a handshake refused before `consumer` was set (run its disconnect later). */
  refusedCode: number | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  /** Pongs written whose write has not completed yet (a client flooding pings without reading). */
  #pendingPongs = 0;
  /** Made at the first ping (most connections never get one between sweeps... or ever). */
  #pongWritten: (() => void) | undefined;
  /** The upgrade request and its first bytes: kept until the handshake is answered, then dropped. */
  #req: IncomingMessage | undefined;
  #head: Buffer | undefined;

  constructor(
    readonly host: ConnectionHost,
    req: IncomingMessage,
    readonly socket: Duplex,
    head: Buffer,
    readonly scope: Scope,
  ) {
    this.#req = req;
    this.#head = head;
  }

  /** `host:port` of the client, for logs (made when asked for: an idle connection holds no copy). */
  get peer(): string {
    return formatPeer(this.scope.client?.host, this.scope.client?.port);
  }

  /** The consumer's logger bindings (`ConnectionHandle.logBindings`). */
  logBindings(): Record<string, unknown> {
    return { path: this.scope.path, peer: this.peer };
  }

  /** The upgrade request, until the handshake was answered (101 or refused); then `undefined`. */
  get req(): IncomingMessage | undefined {
    return this.#req;
  }

  accept(subprotocol?: string): void {
    const req = this.#req;
    if (this.state !== 'handshake' || this.socket.destroyed || req === undefined) return;
    if (subprotocol !== undefined) this.host.selectedProtocols.set(req, subprotocol);
    const head = this.#head!;
    this.#req = undefined;
    this.#head = undefined;
    this.host.wss.handleUpgrade(req, this.socket, head, (ws) => this.#opened(ws));
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
    // ServerWebSocket.close writes the frames sent before close() ahead of the close frame.
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
    this.#req = undefined;
    this.#head = undefined;
    abortHandshake(this.socket, status);
    this.host.onReject(this, status, reason);
    if (this.consumer) this.consumer[kClosed](code);
    else this.refusedCode = code;
  }

  /** The client went away before the handshake completed. */
  abandon(): void {
    if (this.state !== 'handshake') return;
    this.state = 'closed';
    this.#req = undefined;
    this.#head = undefined;
    if (this.consumer) this.consumer[kClosed](1006);
    else this.refusedCode = 1006;
  }

  /** Whether held frames may still be written: `ws` has not sent a close frame on its own. */
  get writable(): boolean {
    return this.ws !== undefined && this.ws.readyState === WebSocketClass.OPEN;
  }

  /** Sends a ping (the heartbeat), after the frames held for this tick. */
  ping(): void {
    flushCollected(this);
    this.ws!.ping();
  }

  #write(bytes: Buffer): void {
    const buffered = writeCollected(this, bytes);
    if (buffered > this.host.maxSendQueueBytes) this.host.onSlowClient(this, buffered);
  }

  /**
   * Answers a ping (RFC 6455 §5.5.2) unless more than {@link MAX_PENDING_PONGS} pongs are still
   * being written: a client that floods pings without reading is closed with 4429.
   * @internal `ws` 'ping' (see {@link onWsPing}).
   */
  onPing(ws: WebSocket, data: Buffer): void {
    this.alive = true;
    if (this.state !== 'open') return;
    if (this.#pendingPongs >= MAX_PENDING_PONGS) {
      this.close(CloseCode.RATE_LIMITED, `ping flood: over ${MAX_PENDING_PONGS} pongs unsent`);
      return;
    }
    this.#pendingPongs++;
    flushCollected(this);
    this.#pongWritten ??= (): void => {
      this.#pendingPongs--;
    };
    ws.pong(data, false, this.#pongWritten);
  }

  /** @internal `ws` 'error': it has sent a close frame (see {@link onWsError}). */
  onProtocolError(err: Error & { code?: string }): void {
    // ws has sent a close frame (1002 protocol error, 1007, 1008 too many fragments, 1009;
    // docs/close-codes.md); the 'close' event reports the code. ws itself waits 30 s for the
    // peer's close frame, we wait closeTimeoutMs.
    if (this.state === 'open') this.state = 'closing';
    this.host.onProtocolError(this, err);
    this.#cutAfterCloseTimeout();
  }

  /** @internal `ws` 'close'. */
  onClosed(code: number): void {
    clearTimeout(this.#closeTimer);
    this.state = 'closed';
    this.host.onClosed(this, code);
    this.consumer?.[kClosed](code);
  }

  #opened(ws: WebSocket): void {
    if (this.state !== 'handshake') {
      ws.terminate();
      return;
    }
    this.ws = ws;
    this.state = 'open';
    if (this.host.sharedDeflate !== null) this.deflateWindowBits = negotiatedWindowBits(ws);
    // From now on `ws`'s events come to this connection (server-websocket.ts).
    (ws as ServerWebSocket)[kConnection] = this;
    this.host.onOpen(this);
  }
}
