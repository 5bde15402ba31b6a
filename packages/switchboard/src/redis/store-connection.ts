/**
 * The one connection of a Redis store (history, presence, rate limits) and the backend's outage
 * policy for it (docs/architecture.md, "Redis backend"):
 * - commands fail fast while Redis is down (`enableOfflineQueue: false`: no unbounded queue) and
 *   are never resent after a lost reply (`autoResendUnfulfilledCommands: false`: at-most-once);
 * - an operation waits for the *first* connection, once and for everybody, at most
 *   `connectTimeoutMs`; after that nothing waits for a lost connection;
 * - failures are mapped once (`redis-errors.ts`): {@link RedisUnavailableError}, or
 *   `LayerClosedError` after `close()`, or a server bug unchanged;
 * - the first failure of an outage logs one `error` line, the first success after it one `info`
 *   line (`outage-log.ts`).
 * On `cluster` options it is an ioredis `Cluster` client: the stores keep each group's keys in
 * one slot (hash tags), so their scripts and pipelines work there too.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { LayerClosedError } from '../errors.js';
import { describeTarget, type ResolvedConnectionOptions } from './connection-options.js';
import { closeConnection, CLUSTER_DEFAULTS, deleteKeys, withTimeout, type Connection } from './connections.js';
import { OutageLog } from './outage-log.js';
import { mapRedisError } from './redis-errors.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';

/** How a store is named in messages and what it does during an outage. */
export interface StoreIdentity {
  /** E.g. `'RedisHistoryStore'`; starts the outage lines. */
  readonly component: string;
  /** E.g. `'history'`; the CLIENT SETNAME suffix and the operation prefix (`history.append`). */
  readonly role: string;
  /** What happens meanwhile, for the outage line, e.g. `'history operations reject'`. */
  readonly meanwhile: string;
  /** What the recovery line says, e.g. `'limits are shared again'`. Default: `<role> operations work again`. */
  readonly restored?: string;
  /** ioredis defaults the store wants, before `redisOptions` (e.g. a `commandTimeout`). */
  readonly defaults?: RedisOptions;
}

/** A store's connection, its first-connection wait, error mapping and outage log. */
export class StoreConnection {
  /** The client: `Redis` for one server, `Cluster` for a cluster. */
  readonly redis: Connection;
  readonly #identity: StoreIdentity;
  readonly #config: ResolvedConnectionOptions;
  readonly #log: OutageLog;
  readonly #ready: Promise<void>;
  #firstConnection: Promise<void> | undefined;
  #firstConnectionSettled = false;
  #closed = false;

  constructor(config: ResolvedConnectionOptions, identity: StoreIdentity) {
    this.#config = config;
    this.#identity = identity;
    this.#log = new OutageLog(config.logger, describeTarget(config), identity.component, identity.meanwhile);
    const options: RedisOptions = {
      connectionName: `${config.prefix}${identity.role}`,
      disconnectTimeout: 100,
      ...identity.defaults,
      ...config.redisOptions,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
    };
    this.redis =
      config.cluster === undefined
        ? new Redis(config.url, options)
        : new Cluster(config.cluster.nodes as ConstructorParameters<typeof Cluster>[0], { ...CLUSTER_DEFAULTS, ...config.cluster.options, enableOfflineQueue: false, redisOptions: options });
    // Reconnects on its own; the store's operations see the failures (and log the outage once).
    this.redis.on('error', () => {});
    this.#ready = new Promise<void>((resolve) => this.redis.once('ready', resolve));
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `run` on Redis with the outage policy of the module documentation.
   * @param what - the operation for messages, e.g. `history.append("chat")`.
   * @throws {@link LayerClosedError} after `close()`; {@link RedisUnavailableError} when Redis
   *   did not answer; a server error reply unchanged.
   */
  async run<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new LayerClosedError(`${what}: the ${this.#identity.role} store was closed`);
    try {
      if (this.redis.status !== 'ready') await this.#waitForFirstConnection();
      const result = await run();
      this.#log.end(this.#identity.restored ?? `${this.#identity.role} operations work again`);
      return result;
    } catch (err) {
      const mapped = mapRedisError(what, err, this.#closed, `the ${this.#identity.role} store`);
      if (mapped instanceof RedisUnavailableError) this.#log.begin(mapped);
      throw mapped;
    }
  }

  /** Deletes every key under `prefix + pattern` (SCAN + UNLINK; every master of a cluster). */
  deleteKeys(what: string, pattern: string): Promise<void> {
    return this.run(what, () => deleteKeys(this.redis, `${this.#config.prefix}${pattern}`));
  }

  /** QUITs the connection (drops it when Redis is down). Safe to call more than once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeConnection(this.redis);
  }

  /** Only the first connection is worth waiting for, once; after that, fail at once. */
  async #waitForFirstConnection(): Promise<void> {
    if (this.#firstConnectionSettled) throw new Error(`connection ${this.redis.status}`);
    const timeoutMs = this.#config.connectTimeoutMs;
    this.#firstConnection ??= withTimeout(this.#ready, timeoutMs, () => new Error(`no connection within ${timeoutMs} ms`)).finally(() => {
      this.#firstConnectionSettled = true;
    });
    await this.#firstConnection;
  }
}
