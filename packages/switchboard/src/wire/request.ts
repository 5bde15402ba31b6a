/**
 * Request/reply on the wire, shared by the server (`JsonWebsocketConsumer`) and the client SDK
 * (`SwitchboardSocket.request`). No imports, so the browser client bundles it as is.
 *
 * A request is a JSON text frame `{"type": "<type>", "requestId": <integer>, "data": <any>}`; the
 * consumer's handler `on<Type>` (`bid.place` → `onBidPlace(data)`) answers with one reply frame
 * carrying the same `requestId` (Phoenix's `phx_reply` by `ref`; Socket.IO's acks by packet id).
 */

/** `type` of a reply frame. */
export const REPLY_FRAME_TYPE = 'switchboard.reply';

/** A request from the client. `requestId` is chosen by the client, unique per connection. */
export interface RequestFrame {
  readonly type: string;
  readonly requestId: number;
  readonly data?: unknown;
}

/** The error of a refused request: a stable `code` (`SB_ERR_*`, see docs/errors.md) and a message. */
export interface ReplyError {
  readonly code: string;
  readonly message: string;
}

/** The server's answer to a {@link RequestFrame}. */
export type ReplyFrame =
  | { readonly type: typeof REPLY_FRAME_TYPE; readonly requestId: number; readonly ok: true; readonly data: unknown }
  | { readonly type: typeof REPLY_FRAME_TYPE; readonly requestId: number; readonly ok: false; readonly error: ReplyError };

/** Whether `content` (a decoded frame) is a request: a string `type` and an integer `requestId` ≥ 0. */
export function isRequestFrame(content: unknown): content is RequestFrame {
  if (content === null || typeof content !== 'object') return false;
  const { type, requestId } = content as { type?: unknown; requestId?: unknown };
  return typeof type === 'string' && typeof requestId === 'number' && Number.isSafeInteger(requestId) && requestId >= 0;
}

/** One entry of a {@link RequestMap}: the data a client sends and the reply's data. */
export interface RequestSpec {
  data: unknown;
  reply: unknown;
}

/**
 * Request type → {@link RequestSpec}, shared by the client (`new SwitchboardSocket<Requests>(url)`,
 * `socket.request`) and the server (`RequestHandlers<Requests>` on the consumer).
 */
export type RequestMap = { [type: string]: RequestSpec };
