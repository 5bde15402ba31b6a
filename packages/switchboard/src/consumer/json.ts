/**
 * `JsonWebsocketConsumer`: text frames decoded as JSON (Channels `AsyncJsonWebsocketConsumer`),
 * with a bad-input path: a bad frame costs one error frame, repeated bad frames close with 4400
 * (Centrifuge `ErrorBadRequest` versus `DisconnectTooManyErrors`).
 */
import { PreparedMessage } from '../connection.js';
import { BadRequestError, InvalidJsonError, TooManyBadFramesError, UnsupportedFrameError, type RateLimitedError, type SwitchboardError } from '../errors.js';
import type { RouteKwargs } from '../scope.js';
import { registerFrameworkPrototype, WebsocketConsumer, type ReceivedFrame } from './websocket.js';

/** The error frame sent for a bad client message. */
export interface ErrorFrame {
  readonly type: 'error';
  /** `SB_ERR_INVALID_JSON`, `SB_ERR_BAD_REQUEST` or `SB_ERR_RATE_LIMITED` (see docs/errors.md). */
  readonly code: string;
  readonly message: string;
  /** With `SB_ERR_RATE_LIMITED`: milliseconds until a message would be accepted again. */
  readonly retryAfterMs?: number;
}

// Frames encoded by sendJson, per object identity, for the current tick: a group event forwarded
// to every member is encoded and framed once (DESIGN.md §7). Reset every tick, so an object
// mutated in a later tick is encoded again.
let frameCache = new WeakMap<object, PreparedMessage>();
let resetScheduled = false;
function resetFrameCache(): void {
  frameCache = new WeakMap();
  resetScheduled = false;
}

/**
 * A consumer that speaks JSON. Override `receiveJson(content)`; send with `sendJson(content)`.
 *
 * Bad input: a text frame that is not JSON, or a `receiveJson` that throws
 * {@link BadRequestError}, answers `{type: "error", code, message}` and keeps the connection;
 * the `badFrameLimit`-th bad frame closes it with 4400. A binary frame closes with 1003.
 */
export class JsonWebsocketConsumer<K extends RouteKwargs = RouteKwargs> extends WebsocketConsumer<K> {
  /** Bad frames allowed on one connection; the one that reaches this count closes with 4400. Default 5. */
  badFrameLimit = 5;
  #badFrames = 0;

  /**
   * Called with each decoded message. `content` comes from the client: validate it, and throw
   * {@link BadRequestError} to answer with an error frame.
   */
  receiveJson(_content: unknown): void | Promise<void> {}

  /**
   * Sends `content` as a JSON text frame. Sending the same object to many connections in one tick
   * encodes it once: do not mutate an object after passing it here within the same tick.
   * @throws {@link ConsumerStateError} before `accept()`.
   */
  sendJson(content: unknown): void {
    if (!this.isOpen) {
      this.send(''); // throws before accept, no-op after close
      return;
    }
    if (content !== null && typeof content === 'object' && this.encodeJson === JsonWebsocketConsumer.prototype.encodeJson) {
      let prepared = frameCache.get(content);
      if (prepared === undefined) {
        prepared = new PreparedMessage(JSON.stringify(content));
        frameCache.set(content, prepared);
        if (!resetScheduled) {
          resetScheduled = true;
          setImmediate(resetFrameCache);
        }
      }
      this.connection.sendPrepared(prepared);
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
    let result: void | Promise<void>;
    try {
      result = this.receiveJson(content);
    } catch (err) {
      if (err instanceof BadRequestError) return this.#badFrame(err);
      throw err;
    }
    if (result && typeof result.then === 'function') {
      return result.catch((err: unknown) => {
        if (err instanceof BadRequestError) return this.#badFrame(err);
        throw err;
      });
    }
  }

  /** A frame refused by `receiveRateLimit`: answered with an error frame, the connection stays. */
  protected override onRateLimited(err: RateLimitedError): void {
    const frame: ErrorFrame = { type: 'error', code: err.code, message: err.message, retryAfterMs: err.retryAfterMs };
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
