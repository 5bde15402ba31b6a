/**
 * Switchboard's errors: one base class with a stable `code` (`SB_ERR_*`), one subclass per kind,
 * and `closeCode` when the error ends a WebSocket connection. Every code has a row in
 * `docs/errors.md`; `test/docs.test.ts` fails when the two disagree.
 */
import { CloseCode, type CloseCodeValue } from './close-codes.js';

/** Base class of every error Switchboard throws on purpose. */
export class SwitchboardError extends Error {
  /** Stable machine-readable code, `SB_ERR_*`. */
  readonly code: string;
  /** The close code used when this error ends a connection, if it does. */
  readonly closeCode: CloseCodeValue | undefined;

  constructor(code: string, message: string, options?: { closeCode?: CloseCodeValue; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.closeCode = options?.closeCode;
  }
}

/** A group name outside `^[a-zA-Z0-9._-]{1,99}$`. */
export class InvalidGroupNameError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_INVALID_GROUP_NAME', message);
  }
}

/** A channel name outside `^[a-zA-Z0-9._-]{1,99}(![a-zA-Z0-9._-]*)?$`. */
export class InvalidChannelNameError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_INVALID_CHANNEL_NAME', message);
  }
}

/** A layer message that is not `{type: string, ...}` or is not JSON-serialisable. */
export class InvalidMessageError extends SwitchboardError {
  constructor(message: string, cause?: unknown) {
    super('SB_ERR_INVALID_MESSAGE', message, { cause });
  }
}

/** A layer message over `maxMessageBytes` once encoded. */
export class MessageTooLargeError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_MESSAGE_TOO_LARGE', message);
  }
}

/** `send` to a channel that already holds `capacity` messages (Channels layer spec, "Capacity"). */
export class ChannelFullError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_CHANNEL_FULL', message);
  }
}

/** An operation on a channel layer after `close()`. */
export class LayerClosedError extends SwitchboardError {
  constructor(message = 'the channel layer is closed') {
    super('SB_ERR_LAYER_CLOSED', message);
  }
}

/**
 * A channel layer operation that needs the layer's backing service (Redis) while it cannot be
 * reached: a direct `send` to another process or a worker channel, `groupSize`, `flush`, the
 * first connection. Usually nothing was sent; if the connection dropped while the command was in
 * flight it may have been (at-most-once: layers never resend), so a retry can deliver twice.
 * `cause` is the client library's error when there is one. Local delivery does not throw it: a
 * layer in an outage keeps serving its own process's members.
 */
export class LayerUnavailableError extends SwitchboardError {
  constructor(message: string, cause?: unknown) {
    super('SB_ERR_LAYER_UNAVAILABLE', message, { cause });
  }
}

/** An event type that starts with `_` or would land on a lifecycle method. */
export class InvalidEventTypeError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_INVALID_EVENT_TYPE', message);
  }
}

/** An event whose type has no handler method on the consumer (logged once per type, not fatal). */
export class NoHandlerError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_NO_HANDLER', message);
  }
}

/** A text frame that is not valid JSON, sent to a JSON consumer. Costs one error frame. */
export class InvalidJsonError extends SwitchboardError {
  constructor(message: string, cause?: unknown) {
    super('SB_ERR_INVALID_JSON', message, { cause });
  }
}

/**
 * A client message that is well-formed JSON but not what the consumer expects (a missing field,
 * a wrong type). Thrown from `receiveJson`, it costs one error frame, like invalid JSON.
 */
export class BadRequestError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_BAD_REQUEST', message);
  }
}

/**
 * Content that failed the consumer's schema (`receiveSchema`, `requestSchemas`): answered with an
 * error frame or reply naming the field; the connection stays and it does not count as a bad frame.
 */
export class ValidationError extends SwitchboardError {
  /** The failing field as a dotted path (`bid.amount`); `''` for the whole value. */
  readonly field: string;
  constructor(message: string, field = '') {
    super('SB_ERR_VALIDATION', message);
    this.field = field;
  }
}

/** A request whose type the consumer has no `on<Type>` handler for. */
export class NoRequestHandlerError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_NO_REQUEST_HANDLER', message);
  }
}

/** Too many malformed frames on one connection: closes it with 4400. */
export class TooManyBadFramesError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_TOO_MANY_BAD_FRAMES', message, { closeCode: CloseCode.BAD_REQUEST });
  }
}

/** A binary frame sent to a consumer that only takes JSON text: closes with 1003. */
export class UnsupportedFrameError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_UNSUPPORTED_FRAME', message, { closeCode: CloseCode.UNSUPPORTED_DATA });
  }
}

/** A consumer method used in the wrong state (e.g. `send` before `accept`, `accept` twice). */
export class ConsumerStateError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_CONSUMER_STATE', message);
  }
}

/** A route pattern that cannot be compiled (unknown converter, duplicate parameter). */
export class InvalidRouteError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_INVALID_ROUTE', message);
  }
}

/** A configuration value that cannot be used; thrown at start-up and names the variable. */
export class ConfigError extends SwitchboardError {
  /** The environment variable or option at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('SB_ERR_CONFIG', `${variable}: ${message}`);
    this.variable = variable;
  }
}

/**
 * Thrown by middleware before the handshake to refuse it with an HTTP status
 * (ws `abortHandshake`): 401, 403, 404, 429.
 */
export class HandshakeRejectedError extends SwitchboardError {
  /** HTTP status sent instead of `101 Switching Protocols`. */
  readonly status: number;
  constructor(status: number, message: string) {
    super('SB_ERR_HANDSHAKE_REJECTED', message);
    this.status = status;
  }
}

/**
 * A client sent frames faster than its consumer's `receiveRateLimit`. A JSON consumer answers a
 * refused frame with an error frame of this code (the frame is dropped, the connection stays);
 * `maxRefusedFrames` refused in a row close the connection with 4429.
 */
export class RateLimitedError extends SwitchboardError {
  /** Milliseconds until a frame would be accepted again. */
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs = 0) {
    super('SB_ERR_RATE_LIMITED', message, { closeCode: CloseCode.RATE_LIMITED });
    this.retryAfterMs = retryAfterMs;
  }
}

/** A per-connection send queue over its byte bound: the connection is closed with 1013. */
export class SlowConsumerError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_SLOW_CLIENT', message, { closeCode: CloseCode.TRY_AGAIN_LATER });
  }
}
