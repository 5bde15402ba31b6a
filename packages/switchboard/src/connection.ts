/**
 * The boundary between a consumer and its socket. Consumers never hold the `ws` object: they talk
 * to a {@link ConnectionHandle}, implemented by the transport (a real socket) and by
 * `WebsocketCommunicator` (in-process tests).
 */
import type { SwitchboardError } from './errors.js';

/**
 * A text message encoded once and sent to many connections. The transport caches the WebSocket
 * frame it builds for it in {@link PreparedMessage.frame}, so a group event forwarded to 1,000
 * members is framed once (DESIGN.md §7).
 */
export class PreparedMessage {
  /** The text payload. */
  readonly text: string;
  /** Transport-owned cache of the framed bytes (header + payload); do not set it yourself. */
  frame: readonly Buffer[] | undefined = undefined;
  /**
   * Transport-owned cache of the permessage-deflate frame (RFC 7692) for connections that
   * negotiated it; `null` when the message is sent uncompressed. Do not set it yourself.
   */
  compressedFrame: Buffer | null | undefined = undefined;
  /** Payload length in bytes, computed when first framed. */
  byteLength = -1;

  constructor(text: string) {
    this.text = text;
  }
}

/** What a consumer may do to its connection. */
export interface ConnectionHandle {
  /**
   * Completes the handshake (HTTP 101). `subprotocol` must be one the client offered.
   * Called at most once, and only before `close`.
   */
  accept(subprotocol?: string): void;
  /** Sends a text frame. Dropped silently when the connection is not open. */
  sendText(text: string): void;
  /** Sends a binary frame. Dropped silently when the connection is not open. */
  sendBytes(bytes: Uint8Array): void;
  /** Sends a text frame whose framing is cached on `message` and shared between connections. */
  sendPrepared(message: PreparedMessage): void;
  /**
   * Closes the connection. Before `accept`, refuses the handshake with HTTP 403 instead.
   * @param code - a close code from `close-codes.ts` (never 1005, 1006, 1015).
   * @param reason - at most 123 bytes of UTF-8 (RFC 6455 §5.5); longer reasons are cut.
   */
  close(code: number, reason?: string): void;
  /**
   * Told when a handler (or `connect()`, `disconnect()`) threw an error that is not a
   * {@link SwitchboardError} with a `closeCode`, after the consumer logged it and before it closes
   * the connection with 1011. Optional: the transport does not need it; `WebsocketCommunicator`
   * uses it to make the test's next `receive…()` reject with the error.
   */
  handlerFailed?(err: unknown): void;
  /**
   * Bindings of the consumer's child logger when `ConsumerInit.loggerBindings` gives none, asked
   * for once, when the consumer first logs (the server's connection: `{ path, peer }`). Optional.
   */
  logBindings?(): Record<string, unknown>;
}
