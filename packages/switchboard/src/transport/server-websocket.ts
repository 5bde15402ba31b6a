/**
 * The `ws` socket class of Switchboard's server (`ws`'s documented `WebSocketServer` option
 * `WebSocket`, "the WebSocket class or a class that extends it"). It hands `ws`'s events to the
 * connection by overriding `emit`, with no listener registered: `ws` keeps listeners in a
 * null-prototype object that V8 holds as a hash table, which five events grow by about 100 bytes
 * per socket, where this costs one symbol-keyed property (docs/architecture.md, "Memory per
 * connection"). Before a connection owns the socket, and for any other event, `emit` is
 * EventEmitter's.
 */
import { WebSocket } from 'ws';
import { kFrame } from '../consumer/websocket.js';
import { flushCollected } from './frame-writer.js';
import type { WebsocketConnection } from './connection.js';

/** The connection that owns a socket (set when the handshake completed). */
export const kConnection = Symbol('switchboard.connection');

/** A server-side `ws` socket that reports to its {@link WebsocketConnection}. */
export class ServerWebSocket extends WebSocket {
  [kConnection]: WebsocketConnection | undefined = undefined;

  /**
   * `ws`'s events, straight to the connection: `message` (data, isBinary), `ping` and `pong`
   * (data), `error` (err) and `close` (code). Every other event, and all of them before the
   * connection owns the socket, go to EventEmitter.
   */
  override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
    const conn = this[kConnection];
    if (conn === undefined) return arguments.length > 1 ? super.emit(event, a, b) : super.emit(event);
    switch (event) {
      case 'message':
        conn.alive = true;
        conn.consumer?.[kFrame](b === true ? { bytes: a as Buffer } : { text: (a as Buffer).toString() });
        return true;
      case 'pong':
        conn.alive = true;
        return true;
      case 'ping':
        conn.onPing(this, a as Buffer);
        return true;
      case 'error':
        conn.onProtocolError(a as Error & { code?: string });
        return true;
      case 'close':
        conn.onClosed(a as number);
        return true;
      default:
        return super.emit(event, a, b);
    }
  }

  /**
   * Closes after the frames held for this tick went out: `ws` calls `close()` to answer the
   * peer's close frame and after a protocol error, and the connection calls it from its own
   * `close()`, so its close frame comes after them, as it did when each frame was written at
   * once (RFC 6455 §5.5.1).
   */
  override close(code?: number, reason?: string | Buffer): void {
    const conn = this[kConnection];
    if (conn !== undefined) flushCollected(conn);
    super.close(code, reason);
  }
}
