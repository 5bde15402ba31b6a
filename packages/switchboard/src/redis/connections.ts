/**
 * The layer's Redis connections: how they are configured, the pool of blocking connections for
 * named-channel receives, and closing without leaks.
 */
import { once } from 'node:events';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ResolvedRedisOptions } from './options.js';

/** A connection: one server or a cluster. */
export type Connection = Redis | Cluster;

/** How long `closeConnection` waits for QUIT before it drops the connection. */
const QUIT_TIMEOUT_MS = 1_000;
/** Idle blocking connections kept for named-channel receives. */
const MAX_IDLE_BLOCKING = 4;

/**
 * Defaults for every cluster client of the backend (`cluster.options` may override them).
 * `enableReadyCheck: false`: with the offline queue off, ioredis' ready check (CLUSTER INFO)
 * can fail while the node connections are still opening; the client then disconnects and
 * reconnects at once, and in ioredis 5.11 that can leave the sharded-subscriber group resetting
 * for ever ("No sharded subscriber for slot"). Without the check the client is ready once it has
 * the slots; a command to a cluster that is not ok yet fails with CLUSTERDOWN, which the backend
 * treats as "Redis unavailable" (`redis-errors.ts`).
 */
export const CLUSTER_DEFAULTS: ClusterOptions = { enableReadyCheck: false };

/** The command and subscriber connections of a layer (the same object on a cluster). */
export interface LayerConnections {
  readonly command: Connection;
  readonly subscriber: Connection;
}

/**
 * Opens the command and subscriber connections, named `${prefix}${id}:cmd|sub` (CLIENT LIST).
 * Both fail fast while Redis is down (`enableOfflineQueue: false`: no unbounded queue) and never
 * resend a command whose reply was lost (`autoResendUnfulfilledCommands: false`: at-most-once).
 */
export function openConnections(config: ResolvedRedisOptions, id: string): LayerConnections {
  const options = (role: string, overrides: RedisOptions): RedisOptions => ({
    connectionName: `${config.prefix}${id}:${role}`,
    // ioredis arms this timer even when the socket is already gone (Redis down), and the timer
    // keeps the process alive: 2 s by default. The layer only disconnects sockets that are
    // dead or that Redis closes at once (after FIN), so 100 ms is plenty.
    disconnectTimeout: 100,
    ...config.redisOptions,
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    ...overrides,
  });
  if (config.cluster === undefined) {
    return {
      command: new Redis(config.url, options('cmd', { enableOfflineQueue: false })),
      subscriber: new Redis(config.url, options('sub', { enableOfflineQueue: false, autoResubscribe: true })),
    };
  }
  // One Cluster client does both: ioredis keeps dedicated subscriber connections inside it
  // (one per shard with shardedSubscribers).
  const cluster = new Cluster(config.cluster.nodes as ConstructorParameters<typeof Cluster>[0], {
    ...CLUSTER_DEFAULTS,
    ...config.cluster.options,
    enableOfflineQueue: false,
    shardedSubscribers: config.shardedPubSub,
    redisOptions: options('cluster', { autoResubscribe: true }),
  });
  return { command: cluster, subscriber: cluster };
}

/**
 * Blocking connections (BLPOP) for named-channel receives, duplicated from the command
 * connection. They may queue commands while Redis is down: each pump has at most one BLPOP
 * pending, so that queue is bounded by the number of channels being received.
 */
export class BlockingPool {
  readonly #source: Connection;
  readonly #name: string;
  readonly #all = new Set<Connection>();
  readonly #idle: Connection[] = [];
  #closed = false;

  /**
   * @param name - CLIENT SETNAME of the connections.
   * A cluster client takes a while to learn the slots, longer than a short `expiryMs`: the pool
   * keeps one blocking connection open from the start there, so the first `receive()` is served
   * at once.
   */
  constructor(source: Connection, name: string) {
    this.#source = source;
    this.#name = name;
    if (source instanceof Cluster) this.give(this.take());
  }

  /** An idle connection, or a new one. */
  take(): Connection {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    const connection =
      this.#source instanceof Cluster
        ? this.#source.duplicate(undefined, { enableOfflineQueue: true })
        : this.#source.duplicate({ connectionName: this.#name, enableOfflineQueue: true, maxRetriesPerRequest: null });
    connection.on('error', () => {}); // the command connection reports the outage
    this.#all.add(connection);
    return connection;
  }

  /** Returns a connection: kept if few are idle, else closed. */
  give(connection: Connection): void {
    if (this.#closed || !this.#all.has(connection)) return;
    if (this.#idle.length < MAX_IDLE_BLOCKING) {
      this.#idle.push(connection);
      return;
    }
    this.#all.delete(connection);
    connection.disconnect();
  }

  /** Drops every connection at once (a QUIT would wait behind a BLPOP), ending every pump. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#all) connection.disconnect();
    this.#all.clear();
    this.#idle.length = 0;
  }
}

/** Rejects with `onTimeout()` if `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** QUITs when the connection is up (waiting at most 1 s), then drops it; never throws. */
export async function closeConnection(connection: Connection): Promise<void> {
  try {
    if (connection.status === 'ready') {
      const ended = once(connection, 'end').then(() => {});
      ended.catch(() => {});
      await withTimeout(connection.quit(), QUIT_TIMEOUT_MS, () => new Error('QUIT timed out'));
      // The server closes the socket after +OK; wait for that rather than arming ioredis'
      // disconnect timer, which would keep the process alive if the 'close' came first.
      await withTimeout(ended, QUIT_TIMEOUT_MS, () => new Error('no close after QUIT'));
      return;
    }
  } catch {
    // fall through to disconnect
  }
  if (connection.status !== 'end') connection.disconnect();
}

/**
 * Deletes every key matching `pattern` (SCAN + UNLINK, 1,000 at a time); on a cluster on every
 * master, one key per UNLINK there (the keys of one node still span slots).
 */
export async function deleteKeys(connection: Connection, pattern: string): Promise<void> {
  const cluster = connection instanceof Cluster;
  const nodes: Redis[] = connection instanceof Cluster ? connection.nodes('master') : [connection];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      cursor = next;
      if (keys.length === 0) continue;
      if (cluster) await Promise.all(keys.map((key) => node.unlink(key)));
      else await node.unlink(...keys);
    } while (cursor !== '0');
  }
}
