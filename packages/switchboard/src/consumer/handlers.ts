/**
 * Finding a consumer's handler for an event type or a request: methods of the consumer's own
 * classes, never framework plumbing (DESIGN.md §2: a type may not land on a lifecycle method).
 */
import type { LayerMessage } from '../layers/channel-layer.js';
import type { Logger } from '../logging.js';
import { handlerNameFor } from './handler-name.js';

/** A handler as found on a consumer: called with the consumer as `this`. */
export type Handler = (this: object, arg: never, ...rest: never[]) => unknown;

/**
 * Prototypes whose methods are framework plumbing, never handlers: `Object.prototype` (so
 * `is.prototype.of` cannot reach `isPrototypeOf`) and the base consumer classes.
 */
const frameworkPrototypes = new Set<object>([Object.prototype]);

/** Marks a base consumer class's prototype as framework code (see {@link findHandler}). */
export function registerFrameworkPrototype(prototype: object): void {
  frameworkPrototypes.add(prototype);
}

/** Per consumer class: method name → the method, or `null` when it has none. */
const handlerCache = new WeakMap<object, Map<string, Handler | null>>();

/**
 * The method `name` of `consumer`: defined on the consumer's own class or a user-written
 * superclass, never inherited from a framework prototype; an own function-valued field counts too.
 * Cached per class.
 */
export function findHandler(consumer: object, name: string): Handler | null {
  const proto = Object.getPrototypeOf(consumer) as object;
  let byName = handlerCache.get(proto);
  if (byName === undefined) handlerCache.set(proto, (byName = new Map()));
  let handler = byName.get(name);
  if (handler === undefined) {
    handler = null;
    for (let p: object | null = proto; p !== null && !frameworkPrototypes.has(p); p = Object.getPrototypeOf(p) as object | null) {
      const descriptor = Object.getOwnPropertyDescriptor(p, name);
      if (descriptor !== undefined) {
        handler = typeof descriptor.value === 'function' ? (descriptor.value as Handler) : null;
        break;
      }
    }
    byName.set(name, handler);
  }
  // An own field is rare; checking for one allocates nothing (a descriptor would, per event).
  if (!Object.hasOwn(consumer, name)) return handler;
  const own = Object.getOwnPropertyDescriptor(consumer, name)?.value as unknown;
  return typeof own === 'function' ? (own as Handler) : handler;
}

const warned = new Set<string>();

/** Logs `msg` once per `key` for the whole process (a missing handler, an invalid type). */
export function warnOnce(logger: Logger, key: string, fields: object, msg: string): void {
  if (warned.has(key)) return;
  if (warned.size < 10_000) warned.add(key);
  logger.warn(fields, msg);
}

/** The last (class, event type) → class method that {@link callHandler} found (a copy of one {@link findHandler} cache entry). */
const last: { type: unknown; proto: object | null; name: string; handler: Handler | null } = { type: undefined, proto: null, name: '', handler: null };

/**
 * Calls `consumer`'s handler for `message` (`chat.message` → `chatMessage(message)`) and returns
 * what it returned. An invalid type or a missing handler is logged once per type and ignored.
 */
export function callHandler(consumer: { readonly logger: Logger }, message: LayerMessage): unknown {
  const type = message.type;
  const proto = Object.getPrototypeOf(consumer) as object;
  // A group event reaches every member with the same type, and members are mostly of one class:
  // the last (class, type) → handler is remembered, so a fan-out looks each up once.
  if (type === last.type && proto === last.proto && !Object.hasOwn(consumer, last.name)) {
    return (last.handler as (m: LayerMessage) => unknown).call(consumer, message);
  }
  let name: string;
  try {
    name = handlerNameFor(type);
  } catch (err) {
    warnOnce(consumer.logger, `invalid:${type}`, { err, type }, `refused event: ${(err as Error).message}`);
    return undefined;
  }
  const handler = findHandler(consumer, name);
  if (handler !== null && !Object.hasOwn(consumer, name)) {
    last.type = type;
    last.proto = proto;
    last.name = name;
    last.handler = handler;
  }
  if (handler === null) {
    const consumerName = consumer.constructor.name;
    warnOnce(consumer.logger, `${consumerName}:${message.type}`, { type: message.type, consumer: consumerName, code: 'SB_ERR_NO_HANDLER' }, `${consumerName} has no handler ${name}() for event type ${JSON.stringify(message.type)}; event ignored`);
    return undefined;
  }
  return (handler as (m: LayerMessage) => unknown).call(consumer, message);
}

/**
 * A `websocket.receive` layer event (how Channels code injects a frame): the consumer's
 * `receive()` with its `text` or `bytes`; anything else is logged and ignored.
 */
export function injectedFrame(consumer: { receive(frame: { text?: string; bytes?: Buffer }): unknown; readonly logger: Logger }, message: LayerMessage): unknown {
  const { text, bytes } = message as { text?: unknown; bytes?: unknown };
  if (typeof text === 'string') return consumer.receive({ text });
  if (bytes instanceof Uint8Array) return consumer.receive({ bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
  consumer.logger.warn({ type: message.type }, `${consumer.constructor.name}: a websocket.receive event needs a string "text" or a Uint8Array "bytes"; event ignored`);
  return undefined;
}
