/**
 * Request/reply for JSON consumers (Phoenix's replies to pushes, Socket.IO's acks): a request
 * frame (`wire/request.ts`) of type `bid.place` calls the consumer's `onBidPlace(data, request)`;
 * what it returns (or resolves to) is the reply's `data`; a `SwitchboardError` it throws without
 * a close code is the reply's `error` and the connection stays. Any other error is answered
 * `SB_ERR_INTERNAL` and then closes the connection with 1011, as a throwing handler does.
 *
 * Requests run in the consumer's serial order, like other frames. The `on` prefix keeps request
 * handlers apart from layer event handlers: a client can never call `chatMessage`.
 */
import { NoRequestHandlerError, SwitchboardError } from '../errors.js';
import { REPLY_FRAME_TYPE, type ReplyFrame, type RequestFrame } from '../wire/request.js';
import { findHandler } from './handlers.js';
import { handlerNameFor } from './handler-name.js';
import type { JsonWebsocketConsumer } from './json.js';
import { validateWith } from './schema.js';

/** What a request handler gets besides the data. */
export interface RequestContext {
  /** The request's type, e.g. `'bid.place'`. */
  readonly type: string;
  /** The client's id for it (echoed in the reply). */
  readonly requestId: number;
}

/**
 * The request handler method name of a request type: `on` + the event handler name capitalised
 * (`bid.place` → `onBidPlace`). `null` for a type that maps to no method name.
 */
export function requestHandlerNameFor(type: string): string | null {
  try {
    const name = handlerNameFor(type);
    return `on${name[0]!.toUpperCase()}${name.slice(1)}`;
  } catch {
    return null;
  }
}

type RequestHandler = (data: unknown, request: RequestContext) => unknown;

function reply(consumer: JsonWebsocketConsumer, frame: ReplyFrame): void {
  consumer.sendJson(frame);
}

/** Runs one request; resolves once answered. Rejects only for errors that must close the connection. */
export async function handleRequest(consumer: JsonWebsocketConsumer, request: RequestFrame): Promise<void> {
  const { type, requestId } = request;
  const refuse = (err: SwitchboardError): void => {
    consumer.logger.info({ code: err.code, type, requestId }, `refused request ${type}: ${err.message}`);
    reply(consumer, { type: REPLY_FRAME_TYPE, requestId, ok: false, error: { code: err.code, message: err.message } });
  };
  const name = requestHandlerNameFor(type);
  const handler = name === null ? null : (findHandler(consumer, name) as RequestHandler | null);
  if (handler === null) {
    return refuse(new NoRequestHandlerError(`no handler for request type ${JSON.stringify(type)}${name === null ? '' : ` (a consumer serves it with ${name}(data))`}`));
  }
  try {
    const schema = consumer.requestSchemas[type];
    const data = schema === undefined ? request.data : await validateWith(schema, request.data, `${type} data`);
    const result = await handler.call(consumer, data, { type, requestId });
    reply(consumer, { type: REPLY_FRAME_TYPE, requestId, ok: true, data: result === undefined ? null : result });
  } catch (err) {
    if (err instanceof SwitchboardError && err.closeCode === undefined) return refuse(err);
    reply(consumer, { type: REPLY_FRAME_TYPE, requestId, ok: false, error: { code: 'SB_ERR_INTERNAL', message: 'internal error' } });
    throw err;
  }
}
