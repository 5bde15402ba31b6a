/**
 * Options of `RedisChannelLayer` and their validation: the common layer options, the shared
 * Redis connection options (`connection-options.ts`) and the layer's own. Bad values fail in the
 * constructor, before any connection is opened (STYLE.md §4: configuration fails at start-up).
 */
import { resolveLayerOptions, type ChannelLayerOptions, type ResolvedLayerOptions } from '../layers/channel-layer.js';
import { CONNECTION_OPTION_KEYS, resolveConnectionOptions, type RedisConnectionOptions, type ResolvedConnectionOptions } from './connection-options.js';

/** How messages are encoded on the wire. */
export type RedisSerializerName = 'json';

/** Options of `RedisChannelLayer`: the common layer options, the connection options, and its own. */
export interface RedisChannelLayerOptions extends ChannelLayerOptions, RedisConnectionOptions {
  /**
   * Wire encoding: `'json'`, the default and only one today. The layer JSON-encodes every
   * message anyway to check its size, so the frame reuses that text; MessagePack (msgpackr) was
   * measured slower to encode (docs/performance.md) and is not shipped. The option exists so
   * that a future encoding can be chosen per deployment; all processes sharing a prefix must
   * use the same one.
   */
  serializer?: RedisSerializerName;
  /**
   * With `cluster`: use sharded pub/sub (`SSUBSCRIBE` / `SPUBLISH`, Redis 7+) so a group's
   * messages only touch the shard that owns the channel's slot. Default `false`. Without it
   * PUBLISH is broadcast to every node, and its reply counts only the subscribers of one node.
   */
  shardedPubSub?: boolean;
}

/** The options only the Redis layer has, besides the connection options (for the unknown-key message). */
const LAYER_OWN_KEYS = ['serializer', 'shardedPubSub'];

/** The effective Redis options (defaults filled in), as the layer uses them. */
export interface ResolvedRedisOptions extends ResolvedConnectionOptions {
  readonly layer: ResolvedLayerOptions;
  readonly serializer: RedisSerializerName;
  readonly shardedPubSub: boolean;
}

/**
 * Fills in defaults and checks every option.
 * @throws TypeError for an unknown key or a wrong type (serializer, logger, cluster, url);
 *   RangeError for a non-positive number, a fractional capacity or a bad prefix.
 */
export function resolveRedisOptions(options: RedisChannelLayerOptions = {}): ResolvedRedisOptions {
  const { url, prefix, serializer, cluster, shardedPubSub, redisOptions, connectTimeoutMs, logger, ...common } = options ?? {};
  const layer = resolveLayerOptions(common, 'RedisChannelLayer', [...CONNECTION_OPTION_KEYS, ...LAYER_OWN_KEYS]);
  const connection = resolveConnectionOptions({ url, prefix, cluster, redisOptions, connectTimeoutMs, logger }, 'RedisChannelLayer');
  const effectiveSerializer = serializer ?? 'json';
  if (effectiveSerializer !== 'json') {
    throw new TypeError(`RedisChannelLayer option serializer must be "json", got ${JSON.stringify(effectiveSerializer)}`);
  }
  if (shardedPubSub === true && cluster === undefined) {
    throw new TypeError('RedisChannelLayer option shardedPubSub needs the cluster option (sharded pub/sub is a Redis Cluster feature)');
  }
  return { ...connection, layer, serializer: effectiveSerializer, shardedPubSub: shardedPubSub === true };
}
