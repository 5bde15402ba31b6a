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
 * key (pipelined); refresh one pipeline of two ZADDs per local connection per interval.
 */
import { Redis } from 'ioredis';
import { validateGroupName } from '../layers/channel-layer.js';
import {
  DEFAULT_PRESENCE_TTL_MS,
  type PresenceChange,
  type PresenceEntry,
  type PresenceStore,
  type PresenceStoreOptions,
} from '../presence/presence-store.js';

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

/** Options for {@link RedisPresenceStore}. */
export interface RedisPresenceStoreOptions extends PresenceStoreOptions {
  /** Redis URL. Default `redis://127.0.0.1:6379/0`. */
  url?: string;
  /** Key prefix. Default `switchboard:`. */
  prefix?: string;
}

type Scripted = Redis & {
  sbPresenceAdd(k1: string, k2: string, k3: string, conn: string, expiry: number, now: number, key: string, info: string): Promise<number>;
  sbPresenceRemove(k1: string, k2: string, k3: string, conn: string, now: number, key: string): Promise<number>;
};

/** Presence in Redis, consistent across processes. */
export class RedisPresenceStore implements PresenceStore {
  readonly #redis: Scripted;
  readonly #prefix: string;
  readonly #ttlMs: number;
  /** Connections this process holds: `group\0key\0connectionId`. */
  readonly #local = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  /** @throws RangeError for a non-positive `ttlMs` or `refreshIntervalMs`. */
  constructor(options: RedisPresenceStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_PRESENCE_TTL_MS;
    const refresh = options.refreshIntervalMs ?? Math.floor(this.#ttlMs / 3);
    if (!(this.#ttlMs > 0) || !(refresh > 0)) throw new RangeError(`presence ttlMs and refreshIntervalMs must be positive, got ${this.#ttlMs} and ${refresh}`);
    this.#prefix = options.prefix ?? 'switchboard:';
    const redis = new Redis(options.url ?? 'redis://127.0.0.1:6379/0', { maxRetriesPerRequest: 2 });
    redis.on('error', () => {
      // Reconnects on its own; commands issued meanwhile reject and the caller sees the error.
    });
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

  async add(group: string, key: string, connectionId: string, info: Record<string, unknown> = {}): Promise<PresenceChange> {
    validateGroupName(group, 'presence.add');
    const now = Date.now();
    const [conns, users, infos] = this.#keys(group, key);
    const first = await this.#redis.sbPresenceAdd(conns, users, infos, connectionId, now + this.#ttlMs, now, key, JSON.stringify(info));
    this.#local.add(`${group}\0${key}\0${connectionId}`);
    return { changed: first === 1 };
  }

  async remove(group: string, key: string, connectionId: string): Promise<PresenceChange> {
    validateGroupName(group, 'presence.remove');
    this.#local.delete(`${group}\0${key}\0${connectionId}`);
    const [conns, users, infos] = this.#keys(group, key);
    const last = await this.#redis.sbPresenceRemove(conns, users, infos, connectionId, Date.now(), key);
    return { changed: last === 1 };
  }

  async list(group: string): Promise<PresenceEntry[]> {
    validateGroupName(group, 'presence.list');
    const now = Date.now();
    const [, users, infos] = this.#keys(group, '');
    const keys = await this.#redis.zrangebyscore(users, now, '+inf');
    if (keys.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    pipeline.hmget(infos, ...keys);
    for (const key of keys) pipeline.zcount(this.#keys(group, key)[0], now, '+inf');
    const results = (await pipeline.exec()) ?? [];
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

  async #refresh(): Promise<void> {
    if (this.#local.size === 0) return;
    const expiry = Date.now() + this.#ttlMs;
    const pipeline = this.#redis.pipeline();
    for (const entry of this.#local) {
      const [group, key, conn] = entry.split('\0') as [string, string, string];
      const [conns, users, infos] = this.#keys(group, key);
      pipeline.zadd(conns, 'XX', expiry, conn).pexpireat(conns, expiry);
      pipeline.zadd(users, 'GT', expiry, key).pexpireat(users, expiry).pexpireat(infos, expiry);
    }
    await pipeline.exec().catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#local.clear();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
