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
import { LayerClosedError } from '../errors.js';
import { checkRateLimitCost, RateLimiter, rateLimitResult, type AnyRateLimiter, type RateLimiterOptions, type RateLimitResult } from '../middleware/rate-limit.js';
import { resolveConnectionOptions, type RedisConnectionOptions } from './connection-options.js';
import type { Connection } from './connections.js';
import { StoreConnection } from './store-connection.js';

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

/**
 * Options of {@link RedisRateLimiter}: those of `RateLimiter` (`now` and `maxKeys` only apply to
 * the fallback), `name`, and the shared Redis connection options (`url`, `prefix`, `cluster`,
 * `redisOptions`, `connectTimeoutMs`, `logger`). Here `connectTimeoutMs` defaults to 2_000 ms (a
 * call falls back after it) and `redisOptions.commandTimeout` to 1_000 ms (a hung Redis falls
 * back rather than stalling logins).
 */
export interface RedisRateLimiterOptions extends RateLimiterOptions, RedisConnectionOptions {
  /** Which limit this is, part of every key (`login-ip`, `login-username`…): limiters sharing a prefix need distinct names. */
  name: string;
}

/** Default {@link RedisRateLimiterOptions.connectTimeoutMs}: a log-in does not wait longer for Redis. */
const LIMITER_CONNECT_TIMEOUT_MS = 2_000;

type Scripted = Connection & {
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
  readonly #connection: StoreConnection;
  readonly #redis: Scripted;
  readonly #keyPrefix: string;
  readonly #fallback: RateLimiter;
  #down = false;

  /**
   * @throws RangeError for the options `RateLimiter` refuses, an empty `name`, a bad prefix or a
   *   non-positive `connectTimeoutMs`; TypeError for a bad URL, cluster or logger.
   */
  constructor(options: RedisRateLimiterOptions) {
    // Validates limit, windowMs and maxKeys.
    this.#fallback = new RateLimiter(options);
    const { name, limit, windowMs, url, prefix, cluster, redisOptions, connectTimeoutMs, logger } = options;
    if (typeof name !== 'string' || name === '') throw new RangeError('RedisRateLimiter: name must be a non-empty string');
    const config = resolveConnectionOptions({ url, prefix, cluster, redisOptions, connectTimeoutMs, logger }, 'RedisRateLimiter', LIMITER_CONNECT_TIMEOUT_MS);
    this.name = name;
    this.limit = limit;
    this.windowMs = windowMs;
    this.#ratePerMs = limit / windowMs;
    this.#ttlMs = Math.max(1, Math.ceil(windowMs));
    this.#keyPrefix = `${config.prefix}ratelimit:${name}:`;
    this.#connection = new StoreConnection(config, {
      component: `RedisRateLimiter(${name})`,
      role: `ratelimit:${name}`,
      meanwhile: 'using per-process limits',
      restored: 'limits are shared again',
      defaults: { commandTimeout: 1_000 },
    });
    this.#connection.redis.defineCommand('sbRateLimitConsume', { numberOfKeys: 1, lua: CONSUME });
    this.#redis = this.#connection.redis as Scripted;
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
    this.#fallback.clear();
    await this.#connection.close();
  }

  /**
   * Runs `run` on Redis; `undefined` when Redis does not answer (the outage is logged once by the
   * connection). Any failure but `close()` falls back: a rate limiter that throws would lock
   * every user out of the form it guards.
   */
  async #command<T>(op: string, key: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await this.#connection.run(`RedisRateLimiter(${this.name}).${op}(${JSON.stringify(key)})`, run);
      if (this.#down) {
        this.#down = false;
        this.#fallback.clear(); // shared limits again: forget the per-process buckets
      }
      return result;
    } catch (err) {
      if (err instanceof LayerClosedError) throw err;
      this.#down = true;
      return undefined;
    }
  }
}
