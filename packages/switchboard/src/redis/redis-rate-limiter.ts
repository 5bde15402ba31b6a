/**
 * `RedisRateLimiter`: the token bucket of `RateLimiter`, kept in Redis so every process on one
 * Redis shares one budget per key (N processes no longer give a client N times the limit).
 *
 * Key: `${prefix}ratelimit:${name}:${key}`, a hash `{tokens, updatedAt}` with PEXPIRE `windowMs`
 * (an untouched bucket has refilled by then, and a missing key is a full bucket). `consume` is
 * one Lua script (HMGET, refill, take, HSET, PEXPIRE), so processes racing on one key never both
 * take the last token. The clock is Redis' `TIME`, not the caller's: every process then refills
 * by the same clock, so skew between application hosts neither adds nor removes tokens.
 *
 * During a Redis outage it neither locks everybody out nor lets everybody through: each process
 * falls back to an in-process `RateLimiter` with the same options (per-process limits, as before
 * Redis), logs one `error` line per outage and one `info` line when Redis answers again (the
 * fallback buckets are then forgotten).
 *
 * Cost: `consume` one EVALSHA; `reset` one DEL.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { LayerClosedError } from '../errors.js';
import { checkRateLimitCost, RateLimiter, rateLimitResult, type AnyRateLimiter, type RateLimiterOptions, type RateLimitResult } from '../middleware/rate-limit.js';
import { closeConnection, openStoreConnection, withTimeout } from './connections.js';
import { DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_URL, type RedisLayerLogger } from './options.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';

/**
 * KEYS = bucket; ARGV = limit, windowMs, cost, PEXPIRE ms. Returns {allowed (1|0), tokens left}
 * (tokens as a string: Lua numbers become integers on the way out).
 */
const CONSUME = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[3])
local tokens = limit
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'updatedAt')
if bucket[1] and bucket[2] then
  local elapsed = math.max(0, now - tonumber(bucket[2]))
  tokens = math.min(limit, tonumber(bucket[1]) + elapsed * limit / tonumber(ARGV[2]))
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
if tokens >= limit then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'updatedAt', string.format('%.17g', now))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return {allowed, string.format('%.17g', tokens)}
`;

/** Options of {@link RedisRateLimiter}: those of `RateLimiter` (`now` and `maxKeys` only apply to the fallback) plus Redis ones. */
export interface RedisRateLimiterOptions extends RateLimiterOptions {
  /** Which limit this is, part of every key (`login-ip`, `login-username`…): limiters sharing a prefix need distinct names. */
  name: string;
  /** Redis URL. Default `redis://127.0.0.1:6379/0`. */
  url?: string;
  /** Key prefix; processes sharing a budget use the same one. Default `switchboard:`. */
  prefix?: string;
  /**
   * Extra ioredis options (TLS, password…). The limiter sets `enableOfflineQueue: false` and
   * defaults `commandTimeout` to 1000 ms (a hung Redis falls back rather than stalling logins).
   */
  redisOptions?: RedisOptions;
  /** How long a call waits for the first connection before it falls back. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Gets one `error` line per outage and one `info` line per recovery. Default: none. */
  logger?: RedisLayerLogger;
}

type Scripted = Redis & {
  sbRateLimitConsume(key: string, limit: number, windowMs: number, cost: number, ttlMs: number): Promise<[number, string]>;
};

/**
 * A token bucket per key in Redis, with the semantics of `RateLimiter`: up to `limit` tokens,
 * refilled at `limit / windowMs` per millisecond, a refused attempt takes nothing. Async.
 *
 * @example
 * ```ts
 * const byIp = new RedisRateLimiter({ name: 'login-ip', url: process.env.REDIS_URL, limit: 20, windowMs: 60_000 });
 * const r = await byIp.consume(request.ip);
 * if (!r.allowed) reply.code(429).header('Retry-After', Math.ceil(r.retryAfterMs / 1000));
 * ```
 */
export class RedisRateLimiter implements AnyRateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly name: string;
  readonly #ratePerMs: number;
  readonly #ttlMs: number;
  readonly #redis: Scripted;
  readonly #keyPrefix: string;
  readonly #fallback: RateLimiter;
  readonly #logger: RedisLayerLogger | undefined;
  readonly #connectTimeoutMs: number;
  readonly #ready: Promise<void>;
  /** The one wait for the first connection (calls at start-up share it). */
  #firstConnection: Promise<void> | undefined;
  #firstConnectionSettled = false;
  #down = false;
  #closed = false;

  /** @throws RangeError for the options `RateLimiter` refuses, an empty `name` or a non-positive `connectTimeoutMs`. */
  constructor(options: RedisRateLimiterOptions) {
    // Validates limit, windowMs and maxKeys.
    this.#fallback = new RateLimiter(options);
    const { name, limit, windowMs } = options;
    if (typeof name !== 'string' || name === '') throw new RangeError('RedisRateLimiter: name must be a non-empty string');
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    if (!(this.#connectTimeoutMs > 0)) throw new RangeError(`RedisRateLimiter: connectTimeoutMs must be positive; got ${this.#connectTimeoutMs}`);
    this.name = name;
    this.limit = limit;
    this.windowMs = windowMs;
    this.#ratePerMs = limit / windowMs;
    this.#ttlMs = Math.max(1, Math.ceil(windowMs));
    this.#logger = options.logger;
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.#keyPrefix = `${prefix}ratelimit:${name}:`;
    // Calls during an outage use the in-process fallback.
    const { redis, ready } = openStoreConnection(options.url ?? DEFAULT_REDIS_URL, `${prefix}ratelimit:${name}`, options.redisOptions, { commandTimeout: 1_000 });
    this.#ready = ready;
    redis.defineCommand('sbRateLimitConsume', { numberOfKeys: 1, lua: CONSUME });
    this.#redis = redis as Scripted;
  }

  /**
   * Takes `cost` tokens from `key`'s shared bucket when it has them; a refused attempt takes
   * nothing. While Redis is unreachable, answers from this process' fallback bucket instead.
   * @throws RangeError when `cost` is not positive or exceeds `limit`; LayerClosedError after `close()`.
   */
  async consume(key: string, cost = 1): Promise<RateLimitResult> {
    checkRateLimitCost(cost, this.limit, 'RedisRateLimiter');
    const reply = await this.#command('consume', key, () => this.#redis.sbRateLimitConsume(this.#keyPrefix + key, this.limit, this.windowMs, cost, this.#ttlMs));
    if (reply === undefined) return this.#fallback.consume(key, cost);
    return rateLimitResult(reply[0] === 1, Number(reply[1]), cost, this.#ratePerMs);
  }

  /**
   * Gives `key` a full bucket again, in Redis and in the fallback.
   * @throws LayerClosedError after `close()`.
   */
  async reset(key: string): Promise<void> {
    this.#fallback.reset(key);
    await this.#command('reset', key, () => this.#redis.del(this.#keyPrefix + key));
  }

  /** Closes the Redis connection. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fallback.clear();
    await closeConnection(this.#redis);
  }

  /** Runs `run` on Redis; `undefined` (and one log line per outage) when Redis does not answer. */
  async #command<T>(op: string, key: string, run: () => Promise<T>): Promise<T | undefined> {
    if (this.#closed) throw new LayerClosedError(`RedisRateLimiter(${this.name}).${op}(${JSON.stringify(key)}): the limiter was closed`);
    try {
      if (this.#redis.status !== 'ready') {
        // Only the first connection is worth waiting for (once); after that, fall back at once.
        if (this.#firstConnectionSettled) throw new Error(`connection ${this.#redis.status}`);
        this.#firstConnection ??= withTimeout(this.#ready, this.#connectTimeoutMs, () => new Error(`no connection within ${this.#connectTimeoutMs} ms`)).finally(() => {
          this.#firstConnectionSettled = true;
        });
        await this.#firstConnection;
      }
      const result = await run();
      if (this.#down) this.#recovered();
      return result;
    } catch (err) {
      if (this.#closed) throw new LayerClosedError(`RedisRateLimiter(${this.name}).${op}(${JSON.stringify(key)}): the limiter was closed while waiting for Redis`);
      // Any failure (unreachable, timeout, LOADING, READONLY…) falls back: a rate limiter that
      // throws would lock every user out of the form it guards.
      if (!this.#down) {
        this.#down = true;
        const error = new RedisUnavailableError(`RedisRateLimiter(${this.name}).${op}: Redis failed (${(err as Error).message}); using per-process limits until it answers`, err);
        this.#logger?.error({ err: error, limiter: this.name }, error.message);
      }
      return undefined;
    }
  }

  #recovered(): void {
    this.#down = false;
    this.#fallback.clear();
    this.#logger?.info?.({ limiter: this.name }, `RedisRateLimiter(${this.name}): Redis answers again; limits are shared again`);
  }
}
