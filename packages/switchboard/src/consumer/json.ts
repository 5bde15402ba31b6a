/**
 * `JsonWebsocketConsumer`: text frames decoded as JSON (Channels `AsyncJsonWebsocketConsumer`),
 * with request/reply (`request.ts`), optional schema validation, and a bad-input path: a protocol
 * violation (invalid JSON) costs one error frame, repeated ones close with 4400 (Centrifuge
 * `ErrorBadRequest` versus `DisconnectTooManyErrors`); application errors are answered and never
 * counted.
 */
import { InvalidJsonError, SwitchboardError, TooManyBadFramesError, UnsupportedFrameError, type RateLimitedError } from '../errors.js';
import type { RouteKwargs } from '../scope.js';
import { isRequestFrame } from '../wire/request.js';
import type { EventMap } from './events.js';
import { preparedJson } from './frame-cache.js';
import { registerFrameworkPrototype } from './handlers.js';
import { handleRequest } from './request.js';
import { validateWith, type StandardSchemaV1 } from './schema.js';
import { WebsocketConsumer, type ReceivedFrame } from './websocket.js';

/** The default `requestSchemas`: frozen and shared by every connection. */
const NO_SCHEMAS: Readonly<Record<string, StandardSchemaV1>> = Object.freeze({});

/** The error frame sent for a bad client message. */
export interface ErrorFrame {
  readonly type: 'error';
  /** `SB_ERR_INVALID_JSON`, `SB_ERR_BAD_REQUEST`, `SB_ERR_VALIDATION` or `SB_ERR_RATE_LIMITED` (see docs/errors.md). */
  readonly code: string;
  readonly message: string;
  /** With `SB_ERR_RATE_LIMITED`: milliseconds until a message would be accepted again. */
  readonly retryAfterMs?: number;
}

/**
 * A consumer that speaks JSON. Override `receiveJson(content)`; send with `sendJson(content)`;
 * answer requests with `on<Type>(data)` methods (`bid.place` → `onBidPlace`, see `request.ts`).
 *
 * Bad input: a text frame that is not JSON answers `{type: "error", code: "SB_ERR_INVALID_JSON"}`
 * and counts toward `badFrameLimit` (the frame that reaches it closes with 4400); a binary frame
 * closes with 1003. Content failing `receiveSchema`, and a `SwitchboardError` without a close code
 * thrown by `receiveJson` (e.g. {@link BadRequestError}), answer an error frame and do not count.
 */
export class JsonWebsocketConsumer<K extends RouteKwargs = RouteKwargs, E extends object = EventMap, A = unknown> extends WebsocketConsumer<K, E, A> {
  /** Protocol violations allowed on one connection; the one that reaches this count closes with 4400. Default 5. */
  badFrameLimit = 5;
  /**
   * A schema every non-request message must pass before `receiveJson` (any Standard Schema
   * validator, or JSON Schema through {@link fromAjv}); `receiveJson` then gets its output.
   * Default `null`: `receiveJson` gets the decoded JSON as is.
   */
  receiveSchema: StandardSchemaV1 | null = null;
  /** Schemas for request data by request type; a request failing its schema is answered `SB_ERR_VALIDATION`. */
  requestSchemas: Readonly<Record<string, StandardSchemaV1>> = NO_SCHEMAS;
  #badFrames = 0;
  /** `#answerError` as a callback, made at the first asynchronous `receiveJson` (one per connection, not per message). */
  #answerErrorOf: ((err: unknown) => void) | undefined;

  /**
   * Called with each decoded message that is not a request. `content` comes from the client:
   * validate it (or set `receiveSchema`), and throw {@link BadRequestError} to answer with an
   * error frame.
   */
  receiveJson(_content: unknown): void | Promise<void> {}

  /**
   * Sends `content` as a JSON text frame. Connections that send the same content in one tick share
   * one encode and one frame: the same object, or, within a group event's handlers, a fresh plain
   * object or array with the same keys and identical values as the previous member's (see
   * `frame-cache.ts`). Do not mutate an object (or an object it holds) within the tick after
   * passing it here.
   * @throws {@link ConsumerStateError} before `accept()`.
   */
  sendJson(content: unknown): void {
    if (!this.isOpen) {
      this.send(''); // throws before accept, no-op after close
      return;
    }
    if (content !== null && typeof content === 'object' && this.encodeJson === JsonWebsocketConsumer.prototype.encodeJson) {
      this.connection.sendPrepared(preparedJson(content));
      return;
    }
    this.connection.sendText(this.encodeJson(content));
  }

  /** Encodes outgoing content; override for a custom encoding (disables the shared frame cache). */
  encodeJson(content: unknown): string {
    return JSON.stringify(content);
  }

  /** Decodes an incoming text frame. @throws SyntaxError on invalid JSON. */
  decodeJson(text: string): unknown {
    return JSON.parse(text);
  }

  override receive(frame: ReceivedFrame): void | Promise<void> {
    if (frame.text === undefined) {
      throw new UnsupportedFrameError('this endpoint takes JSON text frames; a binary frame was sent');
    }
    let content: unknown;
    try {
      content = this.decodeJson(frame.text);
    } catch (err) {
      this.#badFrame(new InvalidJsonError(`invalid JSON: ${(err as Error).message}`, err));
      return;
    }
    if (isRequestFrame(content)) return handleRequest(this, content);
    const schema = this.receiveSchema;
    let result: void | Promise<void>;
    try {
      result = schema === null ? this.receiveJson(content) : validateWith(schema, content, 'message').then((value) => this.receiveJson(value));
    } catch (err) {
      return this.#answerError(err);
    }
    if (result && typeof result.then === 'function') return result.catch((this.#answerErrorOf ??= (err: unknown) => this.#answerError(err)));
  }

  /** A frame refused by a rate-limit feature: answered with an error frame, the connection stays. */
  override onRateLimited(err: RateLimitedError): void {
    const frame: ErrorFrame = { type: 'error', code: err.code, message: err.message, retryAfterMs: err.retryAfterMs };
    this.sendJson(frame);
  }

  /** An application error (a `SwitchboardError` without a close code) is answered; anything else fails the connection. */
  #answerError(err: unknown): void {
    if (!(err instanceof SwitchboardError) || err.closeCode !== undefined) throw err;
    this.logger.info({ code: err.code }, `refused message: ${err.message}`);
    const frame: ErrorFrame = { type: 'error', code: err.code, message: err.message };
    this.sendJson(frame);
  }

  #badFrame(err: SwitchboardError): void {
    this.#badFrames++;
    this.logger.warn({ code: err.code, badFrames: this.#badFrames }, `bad frame: ${err.message}`);
    if (this.#badFrames >= this.badFrameLimit) {
      throw new TooManyBadFramesError(`${this.#badFrames} bad frames on this connection (limit ${this.badFrameLimit})`);
    }
    const frame: ErrorFrame = { type: 'error', code: err.code, message: err.message };
    this.sendJson(frame);
  }
}

registerFrameworkPrototype(JsonWebsocketConsumer.prototype);
