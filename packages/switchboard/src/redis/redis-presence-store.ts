/**
 * `RedisPresenceStore`: presence shared by every process on one Redis (DESIGN.md §4).
 *
 * Keys (hash-tagged by group so a group's keys share a Redis Cluster slot):
 * - `${prefix}presence:{group}:users`: sorted set, member = presence key, score = latest expiry
 *   of any of its connections (ms since epoch);
 * - `${prefix}presence:{group}:c:${key}`: sorted set, member = connection id, score = its expiry;
 * - `${prefix}presence:{group}:info`: hash, presence key → info JSON.
 * `add` and `remove` are Lua scripts, so "first connection" and "last connection" are decided
 * atomically even when two processes race. Each process refreshes the expiry of the connections
 * it holds every `refreshIntervalMs`; a process that dies stops refreshing and its connections
 * (and keys left with none) drop out of `list()` after `ttlMs`.
 *
 * Cost: `add`/`remove` one EVALSHA each; `list` one ZRANGEBYSCORE + one HMGET + one ZCOUNT per
 * key (pipelined); refresh one pipeline per group (a group's keys share a slot) of two ZADDs per
 * local connection per interval.
 *
 * Errors follow the Redis backend's one policy (`store-connection.ts`): while Redis is down
 * `add`, `remove` and `list` reject with `RedisUnavailableError` (one `error` line per outage,
 * one `info` line when it is back); after `close()` with `LayerClosedError`.
 */
import { validateGroupName } from '../layers/channel-layer.js';
import {
  DEFAULT_PRESENCE_TTL_MS,
  type PresenceChange,
  type PresenceEntry,
  type PresenceStore,
  type PresenceStoreOptions,
} from '../presence/presence-store.js';
import { resolveConnectionOptions, type RedisConnectionOptions } from './connection-options.js';
import type { Connection } from './connections.js';
import { StoreConnection } from './store-connection.js';

const ADD = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[4])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
redis.call('PEXPIREAT', KEYS[3], ARGV[2])
if before == 0 then return 1 end
return 0`;

const REMOVE = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if removed == 0 then return 0 end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('HDEL', KEYS[3], ARGV[3])
  return 1
end
return 0`;

/**
 * Options for {@link RedisPresenceStore}: `ttlMs`, `refreshIntervalMs` and the shared Redis
 * connection options (`url`, `prefix`, `cluster`, `redisOptions`, `connectTimeoutMs` 10_000,
 * `logger`).
 */
export interface RedisPresenceStoreOptions extends PresenceStoreOptions, RedisConnectionOptions {}

type Scripted = Connection & {
  sbPresenceAdd(k1: string, k2: string, k3: string, conn: string, expiry: number, now: number, key: string, info: string): Promise<number>;
  sbPresenceRemove(k1: string, k2: string, k3: string, conn: string, now: number, key: string): Promise<number>;
};

/** Presence in Redis, consistent across processes. */
export class RedisPresenceStore implements PresenceStore {
  readonly #connection: StoreConnection;
  readonly #redis: Scripted;
  readonly #prefix: string;
  readonly #ttlMs: number;
  /** Connections this process holds: group → `key\0connectionId`. */
  readonly #local = new Map<string, Set<string>>();
  readonly #timer: NodeJS.Timeout;

  /**
   * @throws RangeError for a non-positive `ttlMs` or `refreshIntervalMs`, a bad prefix or
   *   `connectTimeoutMs`; TypeError for a bad URL, cluster or logger.
   */
  constructor(options: RedisPresenceStoreOptions = {}) {
    const { url, prefix, cluster, redisOptions, connectTimeoutMs, logger, ttlMs, refreshIntervalMs } = options;
    this.#ttlMs = ttlMs ?? DEFAULT_PRESENCE_TTL_MS;
    const refresh = refreshIntervalMs ?? Math.floor(this.#ttlMs / 3);
    if (!(this.#ttlMs > 0) || !(refresh > 0)) throw new RangeError(`presence ttlMs and refreshIntervalMs must be positive, got ${this.#ttlMs} and ${refresh}`);
    const config = resolveConnectionOptions({ url, prefix, cluster, redisOptions, connectTimeoutMs, logger }, 'RedisPresenceStore');
    this.#prefix = config.prefix;
    this.#connection = new StoreConnection(config, { component: 'RedisPresenceStore', role: 'presence', meanwhile: 'presence operations reject with RedisUnavailableError' });
    const redis = this.#connection.redis;
    redis.defineCommand('sbPresenceAdd', { numberOfKeys: 3, lua: ADD });
    redis.defineCommand('sbPresenceRemove', { numberOfKeys: 3, lua: REMOVE });
    this.#redis = redis as Scripted;
    this.#timer = setInterval(() => void this.#refresh(), refresh);
    this.#timer.unref();
  }

  #keys(group: string, key: string): [string, string, string] {
    const base = `${this.#prefix}presence:{${group}}`;
    return [`${base}:c:${key}`, `${base}:users`, `${base}:info`];
  }

  /**
   * Records one connection of `key` in `group`, with `info` (JSON), expiring `ttlMs` from now
   * unless refreshed. @returns `changed: true` when it is the key's first live connection.
   * @throws {@link InvalidGroupNameError}; `RedisUnavailableError`; `LayerClosedError` after close.
   */
  async add(group: string, key: string, connectionId: string, info: Record<string, unknown> = {}): Promise<PresenceChange> {
    validateGroupName(group, 'presence.add');
    const now = Date.now();
    const [conns, users, infos] = this.#keys(group, key);
    const first = await this.#command('add', group, () => this.#redis.sbPresenceAdd(conns, users, infos, connectionId, now + this.#ttlMs, now, key, JSON.stringify(info)));
    let held = this.#local.get(group);
    if (held === undefined) this.#local.set(group, (held = new Set()));
    held.add(`${key}\0${connectionId}`);
    return { changed: first === 1 };
  }

  /**
   * Removes one connection. @returns `changed: true` when it was the key's last one.
   * @throws {@link InvalidGroupNameError}; `RedisUnavailableError`; `LayerClosedError` after close.
   */
  async remove(group: string, key: string, connectionId: string): Promise<PresenceChange> {
    validateGroupName(group, 'presence.remove');
    const held = this.#local.get(group);
    held?.delete(`${key}\0${connectionId}`);
    if (held?.size === 0) this.#local.delete(group);
    const [conns, users, infos] = this.#keys(group, key);
    const last = await this.#command('remove', group, () => this.#redis.sbPresenceRemove(conns, users, infos, connectionId, Date.now(), key));
    return { changed: last === 1 };
  }

  /**
   * Who is in `group` now, one entry per key, sorted by key.
   * @throws {@link InvalidGroupNameError}; `RedisUnavailableError`; `LayerClosedError` after close.
   */
  async list(group: string): Promise<PresenceEntry[]> {
    validateGroupName(group, 'presence.list');
    const now = Date.now();
    const [, users, infos] = this.#keys(group, '');
    const { keys, results } = await this.#command('list', group, async () => {
      const keys = await this.#redis.zrangebyscore(users, now, '+inf');
      if (keys.length === 0) return { keys, results: [] };
      const pipeline = this.#redis.pipeline();
      pipeline.hmget(infos, ...keys);
      for (const key of keys) pipeline.zcount(this.#keys(group, key)[0], now, '+inf');
      return { keys, results: (await pipeline.exec()) ?? [] };
    });
    const infoValues = (results[0]?.[1] as Array<string | null>) ?? [];
    const entries: PresenceEntry[] = [];
    keys.forEach((key, i) => {
      const connections = Number(results[i + 1]?.[1] ?? 0);
      if (connections === 0) return;
      let info: Record<string, unknown> = {};
      try {
        info = JSON.parse(infoValues[i] ?? '{}') as Record<string, unknown>;
      } catch {
        // A corrupt entry still counts as present, without info.
      }
      entries.push({ key, info, connections });
    });
    return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Stops refreshing and closes the connection. Safe to call more than once. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#local.clear();
    await this.#connection.close();
  }

  /** Pushes the expiry of every connection this process holds; one pipeline per group (one slot). */
  async #refresh(): Promise<void> {
    if (this.#local.size === 0) return;
    const expiry = Date.now() + this.#ttlMs;
    await Promise.all(
      [...this.#local].map(([group, held]) =>
        this.#command('refresh', group, async () => {
          const pipeline = this.#redis.pipeline();
          for (const entry of held) {
            const [key, conn] = entry.split('\0') as [string, string];
            const [conns, users, infos] = this.#keys(group, key);
            pipeline.zadd(conns, 'XX', expiry, conn).pexpireat(conns, expiry);
            pipeline.zadd(users, 'GT', expiry, key).pexpireat(users, expiry).pexpireat(infos, expiry);
          }
          await pipeline.exec();
        }).catch(() => undefined), // the outage is logged once; the next refresh tries again
      ),
    );
  }

  #command<T>(op: string, group: string, run: () => Promise<T>): Promise<T> {
    return this.#connection.run(`presence.${op}(${JSON.stringify(group)})`, run);
  }
}
