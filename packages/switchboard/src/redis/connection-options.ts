/**
 * The connection options every part of the Redis backend takes (the channel layer, the history,
 * presence and rate-limit stores), their defaults and their checks, so that one set of settings
 * (`{url, prefix, redisOptions, connectTimeoutMs, logger}` or `{cluster, ...}`) configures them
 * all the same way. Bad values fail in the constructor, before any connection is opened
 * (STYLE.md §4).
 */
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { describeValue } from '../layers/channel-layer.js';

/**
 * The logger the Redis backend reports through: a pino `Logger` fits. `error` gets one line per
 * Redis outage, `info` one line per recovery, `warn` rate-limited warnings.
 */
export interface RedisLayerLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

/** A Redis Cluster start-up node: `"host:port"`, a port, or `{host, port}` (as ioredis takes). */
export type RedisClusterNode = string | number | { host?: string; port?: number };

/** Where and how to connect; shared by `RedisChannelLayer` and the Redis stores. */
export interface RedisConnectionOptions {
  /**
   * Redis URL, `redis://[user:password@]host:port/db` or `rediss://…` for TLS.
   * Default `redis://127.0.0.1:6379/0`. Ignored when `cluster` is set.
   */
  url?: string;
  /**
   * Prefix of every Redis key and pub/sub channel name. Default `'switchboard:'`. Processes that
   * share groups, history, presence or limits use the same one; `flush()` deletes what is under
   * it. 1 to 64 characters, no whitespace and no glob characters (`* ? [ ] \`).
   */
  prefix?: string;
  /**
   * Use Redis Cluster instead of one server: the start-up nodes and optional ioredis
   * `ClusterOptions`. The stores keep each group's keys in one slot (hash tags).
   */
  cluster?: { nodes: RedisClusterNode[]; options?: ClusterOptions };
  /**
   * Extra ioredis options (TLS, passwords, timeouts…). Every connection overrides
   * `enableOfflineQueue` (`false`: commands fail fast during an outage instead of queueing
   * without bound) and `autoResendUnfulfilledCommands` (`false`: at-most-once).
   */
  redisOptions?: RedisOptions;
  /**
   * How long an operation waits for the *first* connection before it fails with
   * `RedisUnavailableError` (the rate limiter: falls back). After that nothing waits for a lost
   * connection. Default 10_000 ms (the rate limiter: 2_000 ms).
   */
  connectTimeoutMs?: number;
  /** Receives one `error` line per outage, one `info` line per recovery, and warnings. Default: none. */
  logger?: RedisLayerLogger;
}

/** Default key prefix. */
export const DEFAULT_REDIS_PREFIX = 'switchboard:';
/** Default Redis URL. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';
/** Default {@link RedisConnectionOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The names of {@link RedisConnectionOptions} (to tell a typo from an option). */
export const CONNECTION_OPTION_KEYS: readonly string[] = ['url', 'prefix', 'cluster', 'redisOptions', 'connectTimeoutMs', 'logger'];

const PREFIX_RE = /^[^\s*?[\]\\]{1,64}$/;

/** The effective connection options, defaults filled in. */
export interface ResolvedConnectionOptions {
  readonly url: string;
  readonly prefix: string;
  readonly cluster: { nodes: RedisClusterNode[]; options?: ClusterOptions } | undefined;
  readonly redisOptions: RedisOptions;
  readonly connectTimeoutMs: number;
  readonly logger: RedisLayerLogger | undefined;
}

/**
 * Fills in defaults and checks the connection options.
 * @param owner - names the class in messages, e.g. `'RedisPresenceStore'`.
 * @throws RangeError for a bad prefix or a non-positive `connectTimeoutMs`; TypeError for a URL
 *   that is not `redis://` / `rediss://`, a `cluster` without nodes, or a logger without
 *   `warn` and `error`.
 */
export function resolveConnectionOptions(options: RedisConnectionOptions, owner: string, defaultTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): ResolvedConnectionOptions {
  const { url, prefix, cluster, redisOptions, connectTimeoutMs, logger } = options;
  const effectivePrefix = prefix ?? DEFAULT_REDIS_PREFIX;
  if (typeof effectivePrefix !== 'string' || !PREFIX_RE.test(effectivePrefix)) {
    throw new RangeError(`${owner} option prefix must be 1-64 characters without whitespace or * ? [ ] \\ (they are glob characters in SCAN and PUBSUB CHANNELS), got ${describeValue(effectivePrefix)}`);
  }
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw new TypeError(`${owner} option url must start with redis:// or rediss://, got ${describeValue(url)}`);
  }
  if (cluster !== undefined && (cluster === null || typeof cluster !== 'object' || !Array.isArray(cluster.nodes) || cluster.nodes.length === 0)) {
    throw new TypeError(`${owner} option cluster must be {nodes: [...]} with at least one start-up node`);
  }
  const timeout = connectTimeoutMs ?? defaultTimeoutMs;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new RangeError(`${owner} option connectTimeoutMs must be a positive number of milliseconds, got ${describeValue(timeout)}`);
  }
  if (logger !== undefined && (typeof logger?.warn !== 'function' || typeof logger.error !== 'function')) {
    throw new TypeError(`${owner} option logger must have warn(obj, msg) and error(obj, msg) methods (a pino logger works)`);
  }
  if (redisOptions !== undefined && (redisOptions === null || typeof redisOptions !== 'object')) {
    throw new TypeError(`${owner} option redisOptions must be an object of ioredis options, got ${describeValue(redisOptions)}`);
  }
  return { url: url ?? DEFAULT_REDIS_URL, prefix: effectivePrefix, cluster, redisOptions: redisOptions ?? {}, connectTimeoutMs: timeout, logger };
}

/** `host:port/db` of the configured Redis (or the cluster's start-up nodes), without credentials, for messages. */
export function describeTarget(config: Pick<ResolvedConnectionOptions, 'url' | 'cluster'>): string {
  if (config.cluster !== undefined) {
    const nodes = config.cluster.nodes.map((node) => (typeof node === 'object' ? `${node.host ?? '127.0.0.1'}:${node.port ?? 6379}` : String(node)));
    return `cluster(${nodes.join(',')})`;
  }
  try {
    const parsed = new URL(config.url);
    return `${parsed.hostname}:${parsed.port || '6379'}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  } catch {
    return 'the configured URL';
  }
}
