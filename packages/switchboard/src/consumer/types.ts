/**
 * The types around a consumer: what it is constructed with, what it receives, and the class
 * shapes routes take (`ConsumerClass`, and `ConsumerWithArgs` from `Consumer.with(args)`).
 */
import type { ConnectionHandle } from '../connection.js';
import type { HistoryStore } from '../history/history-store.js';
import type { ChannelLayer } from '../layers/channel-layer.js';
import type { Logger } from '../logging.js';
import type { ResolvedConsumer } from '../routing/application.js';
import type { RouteKwargs, Scope } from '../scope.js';
import type { ConsumerFeature } from './feature.js';
import type { WebsocketConsumer } from './websocket.js';

/** What the framework gives a consumer at construction. Subclass constructors pass it through. */
export interface ConsumerInit<K extends RouteKwargs = RouteKwargs, A = unknown> {
  readonly scope: Scope<K>;
  /** This connection's address on the layer (`specific.<id>!<id>`); `''` without a layer. */
  readonly channelName: string;
  readonly channelLayer: ChannelLayer | null;
  readonly connection: ConnectionHandle;
  readonly logger: Logger;
  /** Bindings of the connection's child logger, made from `logger` on first use (see `LayerMessagingInit`). */
  readonly loggerBindings?: Record<string, unknown>;
  /** The server's history store (`ServerOptions.history`); absent or `null` without one. */
  readonly history?: HistoryStore | null;
  /** The init arguments given at routing time (`Consumer.with(args)`); `undefined` without. */
  readonly args?: A;
  /** Features added by middleware (`ResolvedConsumer.features`), run after the consumer's own. */
  readonly features?: readonly ConsumerFeature[];
}

/** A frame from the client: exactly one of `text` and `bytes` is set. */
export interface ReceivedFrame {
  readonly text?: string;
  readonly bytes?: Buffer;
}

/** A consumer class, as routes take it. */
export interface ConsumerClass<K extends RouteKwargs = RouteKwargs> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  new (init: ConsumerInit<K, any>): WebsocketConsumer<K, any, any>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly prototype: WebsocketConsumer<K, any, any>;
}

/** The route kwargs type of a consumer instance type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KwargsOf<C> = C extends WebsocketConsumer<infer K, any, any> ? K : RouteKwargs;

/** A consumer class with init arguments bound, as {@link WebsocketConsumer.with} returns it: a route target. */
export interface ConsumerWithArgs<K extends RouteKwargs = RouteKwargs> {
  readonly consumer: ConsumerClass<K>;
  readonly args: unknown;
  resolve(scope: Scope): ResolvedConsumer;
}
