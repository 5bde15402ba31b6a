/**
 * `ChannelNameRouter`: named channel → consumer class, as Channels' `ChannelNameRouter` in a
 * `ProtocolTypeRouter({"channel": ...})`. {@link runWorker} serves the channels it names.
 */
import { ConfigError } from '../errors.js';
import { isProcessLocalChannel, validateChannelName } from '../layers/channel-layer.js';
import { ChannelConsumer, type ChannelConsumerClass } from './consumer.js';

/**
 * Maps named worker channels to {@link ChannelConsumer} classes.
 *
 * @example
 * ```ts
 * const router = new ChannelNameRouter({ thumbnails: ThumbnailConsumer });
 * // elsewhere, e.g. in a WebSocket consumer:
 * await this.channelLayer.send('thumbnails', { type: 'thumbnails.resize', path });
 * ```
 */
export class ChannelNameRouter {
  readonly #routes: ReadonlyMap<string, ChannelConsumerClass>;

  /**
   * @param routes - channel name → consumer class. Names are named channels: 1 to 99 characters
   *   of `[A-Za-z0-9._-]`, without the `!` of process-local channels (those belong to one
   *   connection and cannot be served by a worker).
   * @throws {@link InvalidChannelNameError} for a bad name; {@link ConfigError} for a
   *   process-local name, an empty router, or a value that is not a `ChannelConsumer` subclass.
   */
  constructor(routes: Readonly<Record<string, ChannelConsumerClass>>) {
    const map = new Map<string, ChannelConsumerClass>();
    for (const [channel, consumer] of Object.entries(routes)) {
      validateChannelName(channel, 'ChannelNameRouter');
      if (isProcessLocalChannel(channel)) {
        throw new ConfigError(
          'ChannelNameRouter',
          `${JSON.stringify(channel)} is a process-local channel name (it contains "!"); workers serve named channels such as "thumbnails"`,
        );
      }
      if (typeof consumer !== 'function' || !(consumer.prototype instanceof ChannelConsumer)) {
        throw new ConfigError('ChannelNameRouter', `the consumer for channel ${JSON.stringify(channel)} must be a class extending ChannelConsumer`);
      }
      map.set(channel, consumer);
    }
    if (map.size === 0) throw new ConfigError('ChannelNameRouter', 'no channels given; pass e.g. { thumbnails: ThumbnailConsumer }');
    this.#routes = map;
  }

  /** The channel names this router serves, in declaration order. */
  get channels(): string[] {
    return [...this.#routes.keys()];
  }

  /** Whether `channel` has a consumer. */
  has(channel: string): boolean {
    return this.#routes.has(channel);
  }

  /**
   * The consumer class for `channel`.
   * @throws {@link ConfigError} naming the known channels when `channel` has none.
   */
  consumerFor(channel: string): ChannelConsumerClass {
    const consumer = this.#routes.get(channel);
    if (consumer === undefined) {
      throw new ConfigError('channel', `no consumer for channel ${JSON.stringify(channel)}; this router serves ${this.channels.map((c) => JSON.stringify(c)).join(', ')}`);
    }
    return consumer;
  }
}
