/**
 * Typed events: a consumer declares its event map once, and its `groupSend` calls and its handlers
 * type-check against it (Socket.IO's typed event maps, for a channel layer).
 *
 * @example
 * ```ts
 * interface ChatEvents {
 *   'chat.message': { payload: { message: string; username: string } };
 * }
 * class Chat extends JsonWebsocketConsumer<{ room: string }, ChatEvents> implements EventHandlers<ChatEvents> {
 *   chatMessage(event: LayerEvent<ChatEvents, 'chat.message'>) { this.sendJson(event.payload); }
 * }
 * // in a handler: await this.groupSend(group, { type: 'chat.message', payload: { message, username } });
 * ```
 */
import type { LayerMessage } from '../layers/channel-layer.js';

/**
 * Event type → the event's fields besides `type`. Types are 1+ characters of letters, digits and
 * `. _ -`, not starting with `_` (see `handlerNameFor`). Declare it as an interface or a type
 * alias; `EventMap` itself (the default) means "not declared": any `LayerMessage` goes.
 */
export type EventMap = { [type: string]: object };

/** The position fields an event published with history carries (`groupSendWithHistory`). */
export interface HistoryFields {
  readonly epoch?: string;
  readonly offset?: number;
}

/** The event of type `T` in map `E`, as a handler receives it: `{ type: T, ...fields }`. */
export type LayerEvent<E extends object, T extends keyof E & string> = { readonly type: T } & Readonly<E[T]> & HistoryFields;

/**
 * Any event of map `E`, as `groupSend` takes it: a union, so a typo in a type or a field fails
 * `tsc`. For a consumer without a declared map (`EventMap` itself), any `LayerMessage`.
 */
export type AnyLayerEvent<E extends object> = string extends keyof E ? LayerMessage : { [T in keyof E & string]: { type: T } & E[T] }[keyof E & string];

type Capitalized<S extends string> = S extends `${infer H}${infer R}` ? `${Uppercase<H>}${R}` : S;

/**
 * The handler method name of an event type, as `handlerNameFor` computes it at run time:
 * `chat.message` → `chatMessage`, `user_status` → `userStatus` (`.`, `_` and `-` break words).
 */
export type HandlerName<T extends string> = T extends `${infer H}.${infer R}`
  ? `${H}${Capitalized<HandlerName<R>>}`
  : T extends `${infer H}_${infer R}`
    ? `${H}${Capitalized<HandlerName<R>>}`
    : T extends `${infer H}-${infer R}`
      ? `${H}${Capitalized<HandlerName<R>>}`
      : T;

/**
 * The handler methods a consumer of map `E` must have: `implements EventHandlers<ChatEvents>`
 * makes a missing or misspelt handler, or one taking the wrong event, a compile error.
 */
export type EventHandlers<E extends object> = {
  [T in keyof E & string as HandlerName<T>]: (event: LayerEvent<E, T>) => void | Promise<void>;
};

export type { RequestMap, RequestSpec } from '../wire/request.js';
import type { RequestSpec } from '../wire/request.js';

/** The request handler method name of a request type: `bid.place` → `onBidPlace`. */
export type RequestHandlerName<T extends string> = `on${Capitalized<HandlerName<T>>}`;

/**
 * The request handlers a consumer serving map `R` must have: `implements RequestHandlers<AuctionRequests>`
 * makes a missing handler, a wrong data type or a wrong reply type a compile error.
 */
export type RequestHandlers<R extends { [T in keyof R]: RequestSpec }> = {
  [T in keyof R & string as RequestHandlerName<T>]: (data: R[T]['data'], request: { readonly type: T; readonly requestId: number }) => R[T]['reply'] | Promise<R[T]['reply']>;
};
