/**
 * Options of `RedisChannelLayer` and their validation. Bad values fail in the constructor, before
 * any connection is opened (STYLE.md §4: configuration fails at start-up).
 */
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { resolveLayerOptions, type ChannelLayerOptions, type ResolvedLayerOptions } from '../layers/channel-layer.js';

/**
 * The logger the Redis layer reports through: a pino `Logger` fits. `error` gets one line per
 * Redis outage, `info` one line per recovery, `warn` rate-limited drop warnings.
 */
export interface RedisLayerLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

/** A Redis Cluster start-up node: `"host:port"`, a port, or `{host, port}` (as ioredis takes). */
export type RedisClusterNode = string | number | { host?: string; port?: number };

/** How messages are encoded on the wire. */
export type RedisSerializerName = 'json';

/** Options of `RedisChannelLayer`: the common layer options plus the Redis ones. */
export interface RedisChannelLayerOptions extends ChannelLayerOptions {
  /**
   * Redis URL, `redis://[user:password@]host:port/db` or `rediss://…` for TLS.
   * Default `redis://127.0.0.1:6379/0`. Ignored when `cluster` is set.
   */
  url?: string;
  /**
   * Prefix of every Redis key and pub/sub channel name this layer uses. Default `'switchboard:'`.
   * Layers that should share groups must use the same prefix; `flush()` deletes every key under
   * it. 1 to 64 characters, no whitespace and no glob characters (`* ? [ ] \`).
   */
  prefix?: string;
  /**
   * Wire encoding: `'json'`, the default and only one today. The layer JSON-encodes every
   * message anyway to check its size, so the frame reuses that text; MessagePack (msgpackr) was
   * measured slower to encode (docs/performance.md) and is not shipped. The option exists so
   * that a future encoding can be chosen per deployment; all processes sharing a prefix must
   * use the same one.
   */
  serializer?: RedisSerializerName;
  /**
   * Use Redis Cluster instead of one server: the start-up nodes and optional ioredis
   * `ClusterOptions`. Untested in this repository (no cluster in CI). Without `shardedPubSub`
   * PUBLISH is broadcast to every node of the cluster; with it, SPUBLISH goes to one shard.
   */
  cluster?: { nodes: RedisClusterNode[]; options?: ClusterOptions };
  /**
   * With `cluster`: use sharded pub/sub (`SSUBSCRIBE` / `SPUBLISH`, Redis 7+) so a group's
   * messages only touch the shard that owns the channel's slot. Default `false`.
   */
  shardedPubSub?: boolean;
  /**
   * Extra ioredis options (TLS, passwords, timeouts…). The layer overrides `enableOfflineQueue`
   * (`false`: commands fail fast during an outage instead of queueing without bound),
   * `autoResendUnfulfilledCommands` (`false`: at-most-once), `autoResubscribe` (`true`) and
   * `lazyConnect` (`false`).
   */
  redisOptions?: RedisOptions;
  /**
   * How long an operation waits for the first connection before it rejects with
   * `RedisUnavailableError`. Default 10_000 ms. (After start-up, operations never wait for a
   * lost connection; see the class documentation for what each one does during an outage.)
   */
  connectTimeoutMs?: number;
  /** Receives outage/recovery lines and rate-limited drop warnings. Default: none. */
  logger?: RedisLayerLogger;
}

/** Default key prefix. */
export const DEFAULT_REDIS_PREFIX = 'switchboard:';
/** Default Redis URL. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';
/** Default {@link RedisChannelLayerOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The options only the Redis layer has (listed when an unknown key is refused). */
const REDIS_OPTION_KEYS = ['url', 'prefix', 'serializer', 'cluster', 'shardedPubSub', 'redisOptions', 'connectTimeoutMs', 'logger'];

const PREFIX_RE = /^[^\s*?[\]\\]{1,64}$/;

/** The effective Redis options (defaults filled in), as the layer uses them. */
export interface ResolvedRedisOptions {
  readonly layer: ResolvedLayerOptions;
  readonly url: string;
  readonly prefix: string;
  readonly serializer: RedisSerializerName;
  readonly cluster: { nodes: RedisClusterNode[]; options?: ClusterOptions } | undefined;
  readonly shardedPubSub: boolean;
  readonly redisOptions: RedisOptions;
  readonly connectTimeoutMs: number;
  readonly logger: RedisLayerLogger | undefined;
}

/**
 * Fills in defaults and checks every option.
 * @throws RangeError for a non-positive number, a fractional capacity or a bad prefix;
 *   TypeError for a wrong type (serializer, logger, cluster).
 */
export function resolveRedisOptions(options: RedisChannelLayerOptions = {}): ResolvedRedisOptions {
  const { url, prefix, serializer, cluster, shardedPubSub, redisOptions, connectTimeoutMs, logger, ...common } = options;
  const layer = resolveLayerOptions(common, 'RedisChannelLayer', REDIS_OPTION_KEYS);
  const effectivePrefix = prefix ?? DEFAULT_REDIS_PREFIX;
  if (typeof effectivePrefix !== 'string' || !PREFIX_RE.test(effectivePrefix)) {
    throw new RangeError(`RedisChannelLayer option prefix must be 1-64 characters without whitespace or * ? [ ] \\ (they are glob characters in SCAN and PUBSUB CHANNELS), got ${JSON.stringify(effectivePrefix)}`);
  }
  const effectiveSerializer = serializer ?? 'json';
  if (effectiveSerializer !== 'json') {
    throw new TypeError(`RedisChannelLayer option serializer must be "json", got ${JSON.stringify(effectiveSerializer)}`);
  }
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw new TypeError(`RedisChannelLayer option url must start with redis:// or rediss://, got ${JSON.stringify(url)}`);
  }
  if (cluster !== undefined && (cluster === null || !Array.isArray(cluster.nodes) || cluster.nodes.length === 0)) {
    throw new TypeError('RedisChannelLayer option cluster must be {nodes: [...]} with at least one start-up node');
  }
  if (shardedPubSub === true && cluster === undefined) {
    throw new TypeError('RedisChannelLayer option shardedPubSub needs the cluster option (sharded pub/sub is a Redis Cluster feature)');
  }
  const timeout = connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new RangeError(`RedisChannelLayer option connectTimeoutMs must be a positive number of milliseconds, got ${String(timeout)}`);
  }
  if (logger !== undefined && (typeof logger?.warn !== 'function' || typeof logger.error !== 'function')) {
    throw new TypeError('RedisChannelLayer option logger must have warn(obj, msg) and error(obj, msg) methods (a pino logger works)');
  }
  return {
    layer,
    url: url ?? DEFAULT_REDIS_URL,
    prefix: effectivePrefix,
    serializer: effectiveSerializer,
    cluster,
    shardedPubSub: shardedPubSub === true,
    redisOptions: redisOptions ?? {},
    connectTimeoutMs: timeout,
    logger,
  };
}
