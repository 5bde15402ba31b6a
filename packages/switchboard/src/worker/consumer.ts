/**
 * `ChannelConsumer`: the base class of background consumers bound to a named channel (Channels'
 * `SyncConsumer`/`AsyncConsumer` as run by `runworker`). No socket: it only receives layer
 * events, dispatched by `type` with the same rules as {@link WebsocketConsumer}
 * (`thumbnails.resize` → `thumbnailsResize(event)`).
 */
import type { Logger } from '../logging.js';
import { handlerNameFor } from '../consumer/handler-name.js';
import type { ChannelLayer, LayerMessage } from '../layers/channel-layer.js';

/** What {@link runWorker} gives a channel consumer at construction. Subclass constructors pass it through. */
export interface ChannelConsumerInit {
  /** The layer the worker receives from; use it to `send` or `groupSend` results. */
  readonly channelLayer: ChannelLayer;
  /** The named channel this instance serves (no `!`), e.g. `thumbnails`. */
  readonly channelName: string;
  /** A logger bound to the channel. */
  readonly logger: Logger;
}

/** A channel consumer class, as {@link ChannelNameRouter} takes it. */
export interface ChannelConsumerClass {
  new (init: ChannelConsumerInit): ChannelConsumer;
  readonly prototype: ChannelConsumer;
}

/** Internal hook {@link runWorker} calls; not part of the public API. */
export const kDispatch = Symbol('switchboard.channelConsumer.dispatch');

/** Remembered "no handler" warnings per instance, bounded so a flood of bad types cannot grow it. */
const MAX_WARNED_TYPES = 1_000;

/**
 * Base class of worker consumers. One instance serves one named channel for the life of a
 * {@link runWorker} call; its events are handled one at a time, in the order the channel yields
 * them (a handler's promise is awaited before the next event).
 *
 * Handlers: `{type: 'thumbnails.resize'}` calls `thumbnailsResize(event)`. An event with no
 * handler is logged once per type and skipped; a type starting with `_` or landing on a
 * lifecycle name is refused the same way. A handler that throws (or rejects) is logged with its
 * stack and the worker goes on with the next event: unlike a WebSocket connection there is no
 * peer to close, and one bad job must not stop the queue.
 *
 * Events come from whoever can send to the channel: validate their fields.
 *
 * @example
 * ```ts
 * class ThumbnailConsumer extends ChannelConsumer {
 *   async thumbnailsResize(event: LayerMessage) {
 *     const { path } = event as { path?: unknown };
 *     if (typeof path !== 'string') throw new TypeError('thumbnails.resize needs a string "path"');
 *     await resize(path);
 *   }
 * }
 * await runWorker({ layer, router: new ChannelNameRouter({ thumbnails: ThumbnailConsumer }), channels: ['thumbnails'] });
 * ```
 */
export class ChannelConsumer {
  /** The layer this worker receives from. */
  readonly channelLayer: ChannelLayer;
  /** The named channel this instance serves. */
  readonly channelName: string;
  /** A logger bound to the channel (`{channel}`). */
  readonly logger: Logger;

  readonly #warnedTypes = new Set<string>();

  constructor(init: ChannelConsumerInit) {
    this.channelLayer = init.channelLayer;
    this.channelName = init.channelName;
    this.logger = init.logger;
  }

  /**
   * Handles one event: finds its handler, runs it and waits for it. Never throws: refused types,
   * missing handlers and handler errors are logged.
   * @returns whether a handler ran and completed without throwing.
   */
  async [kDispatch](message: LayerMessage): Promise<boolean> {
    let name: string;
    try {
      name = handlerNameFor(message.type);
    } catch (err) {
      this.#warnOnce(`invalid:${String(message.type)}`, { err, type: message.type }, `refused event on channel ${this.channelName}: ${(err as Error).message}`);
      return false;
    }
    const handler = (this as unknown as Record<string, unknown>)[name];
    // Methods every object inherits (isPrototypeOf, toLocaleString, …) are not handlers.
    if (typeof handler !== 'function' || handler === (Object.prototype as unknown as Record<string, unknown>)[name]) {
      this.#warnOnce(
        `nohandler:${message.type}`,
        { type: message.type, consumer: this.constructor.name, channel: this.channelName, code: 'SB_ERR_NO_HANDLER' },
        `${this.constructor.name} has no handler ${name}() for event type ${JSON.stringify(message.type)} on channel ${this.channelName}; event ignored`,
      );
      return false;
    }
    try {
      await (handler as (m: LayerMessage) => unknown).call(this, message);
      return true;
    } catch (err) {
      this.logger.error(
        { err, type: message.type, consumer: this.constructor.name, channel: this.channelName },
        `${this.constructor.name}.${name}() threw on channel ${this.channelName}; continuing with the next message`,
      );
      return false;
    }
  }

  #warnOnce(key: string, obj: object, msg: string): void {
    if (this.#warnedTypes.has(key)) return;
    if (this.#warnedTypes.size < MAX_WARNED_TYPES) this.#warnedTypes.add(key);
    this.logger.warn(obj, msg);
  }
}
