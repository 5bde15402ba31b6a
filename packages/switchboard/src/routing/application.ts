/**
 * What routers, middleware and consumers have in common: something that, given a scope, names the
 * consumer class that will handle the connection (or `null` for "no route": HTTP 404).
 */
import type { ConsumerFeature } from '../consumer/feature.js';
import { WebsocketConsumer, type ConsumerClass } from '../consumer/websocket.js';
import type { RouteKwargs, Scope } from '../scope.js';

/** A routed connection: the final scope (with `urlRoute`, session, user, ...) and its consumer. */
export interface ResolvedConsumer {
  readonly scope: Scope;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly consumer: ConsumerClass<any>;
  /** The consumer's init arguments (`Consumer.with(args)`), given to it as `this.args`. */
  readonly args?: unknown;
  /**
   * Features middleware adds to the consumer, after its own `features` (e.g. presence of every
   * logged-in connection); keep the ones an inner application added: `[...inner.features ?? [], mine]`.
   */
  readonly features?: readonly ConsumerFeature[];
}

/**
 * A WebSocket application: `URLRouter`, middleware, or a consumer class wrapped by
 * {@link asApplication}. Middleware returns a new scope to the inner application.
 *
 * May throw `HandshakeRejectedError` to refuse the upgrade with an HTTP status.
 */
export interface WebsocketApplication {
  resolve(scope: Scope): ResolvedConsumer | null | Promise<ResolvedConsumer | null>;
}

/** What a route or middleware may wrap: an application or a consumer class. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WebsocketTarget = WebsocketApplication | ConsumerClass<any>;

/** Whether `target` is a consumer class (a subclass of `WebsocketConsumer`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function isConsumerClass(target: unknown): target is ConsumerClass<any> {
  return typeof target === 'function' && (target === WebsocketConsumer || target.prototype instanceof WebsocketConsumer);
}

/**
 * Wraps a consumer class as an application (Channels `Consumer.as_asgi()`); returns other
 * applications unchanged.
 * @throws TypeError for anything else.
 */
export function asApplication(target: WebsocketTarget): WebsocketApplication {
  if (isConsumerClass(target)) {
    return { resolve: (scope: Scope) => ({ scope, consumer: target }) };
  }
  if (target && typeof (target as WebsocketApplication).resolve === 'function') return target as WebsocketApplication;
  throw new TypeError('expected a WebsocketConsumer subclass, a URLRouter or a middleware (an object with resolve(scope))');
}

/** Type helper: a consumer class whose kwargs type accepts `K`. */
export type ConsumerFor<K extends RouteKwargs> = ConsumerClass<K>;
