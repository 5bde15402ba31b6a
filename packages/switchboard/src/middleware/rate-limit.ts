/**
 * `RateLimiter`: an in-memory token bucket per key (an IP address, a username, a connection),
 * for login attempts, sign-ups and message floods.
 */

/** Options of {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Attempts allowed in a burst, and per `windowMs` on average. At least 1. */
  limit: number;
  /** The period over which `limit` attempts refill, in milliseconds. */
  windowMs: number;
  /**
   * Keys tracked at most. Past it the least recently used key is forgotten (it starts again with
   * a full bucket), so memory stays bounded under a flood of distinct keys. Default 100 000.
   */
  maxKeys?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/** The answer of {@link RateLimiter.consume} and {@link RateLimiter.peek}. */
export interface RateLimitResult {
  /** Whether the attempt may go ahead. */
  readonly allowed: boolean;
  /** Whole attempts left right now (after this one, for `consume`). */
  readonly remaining: number;
  /**
   * When refused: milliseconds until one attempt is available again (for a `Retry-After` header,
   * round up to seconds). `0` when allowed.
   */
  readonly retryAfterMs: number;
}

/**
 * What the demo and middleware need of a rate limiter: {@link RateLimiter} (in memory, per
 * process) and `RedisRateLimiter` (`switchboard/redis`, shared by every process on one
 * Redis) both fit. Always `await` the answers: they are promises for the Redis one.
 */
export interface AnyRateLimiter {
  consume(key: string, cost?: number): RateLimitResult | Promise<RateLimitResult>;
  reset(key: string): void | Promise<void>;
}

/**
 * @internal Throws the RangeError of a `cost` that is not positive or exceeds `limit`.
 * Shared with `RedisRateLimiter`.
 */
export function checkRateLimitCost(cost: number, limit: number, who = 'RateLimiter'): void {
  if (!Number.isFinite(cost) || cost <= 0 || cost > limit) {
    throw new RangeError(`${who}: cost must be more than 0 and at most limit (${limit}); got ${cost}`);
  }
}

/**
 * @internal The answer for a bucket holding `tokens` (after the attempt when allowed), refilled
 * at `ratePerMs`. Shared with `RedisRateLimiter`.
 */
export function rateLimitResult(allowed: boolean, tokens: number, cost: number, ratePerMs: number): RateLimitResult {
  if (allowed) return { allowed: true, remaining: Math.floor(tokens), retryAfterMs: 0 };
  return { allowed: false, remaining: Math.floor(tokens), retryAfterMs: Math.ceil((cost - tokens) / ratePerMs) };
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per key: each key holds up to `limit` tokens, refilled continuously at
 * `limit / windowMs` per millisecond; an attempt costs one token (or `cost`). Unlike a fixed
 * window, a client cannot double its rate by bursting at a window's edge.
 *
 * Per process: with N server processes each allows `limit` per window, so a client spreading
 * attempts across processes gets up to N times the budget. For one budget shared by every
 * process use `RedisRateLimiter` from `switchboard/redis` (same semantics, async; both
 * fit {@link AnyRateLimiter}). Limits on both the IP and the username are the usual first line
 * against password guessing (OWASP Authentication Cheat Sheet, "Login Throttling").
 *
 * @example
 * ```ts
 * const byIp = new RateLimiter({ limit: 20, windowMs: 60_000 });
 * const r = byIp.consume(request.ip);
 * if (!r.allowed) reply.code(429).header('Retry-After', Math.ceil(r.retryAfterMs / 1000));
 * ```
 */
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #ratePerMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  // Map keeps insertion order: re-inserting on use makes the first entry the least recently used.
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep: number;

  /** @throws RangeError for a `limit` below 1, a non-positive `windowMs` or a `maxKeys` below 1. */
  constructor(options: RateLimiterOptions) {
    const { limit, windowMs } = options;
    if (!Number.isFinite(limit) || limit < 1) throw new RangeError(`RateLimiter: limit must be at least 1; got ${limit}`);
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`RateLimiter: windowMs must be a positive number of milliseconds; got ${windowMs}`);
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`RateLimiter: maxKeys must be a whole number of at least 1; got ${maxKeys}`);
    this.limit = limit;
    this.windowMs = windowMs;
    this.#ratePerMs = limit / windowMs;
    this.#maxKeys = maxKeys;
    this.#now = options.now ?? Date.now;
    this.#lastSweep = this.#now();
  }

  /** Keys currently tracked (a key with a full bucket may already be forgotten). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes `cost` tokens from `key`'s bucket when it has them.
   * A refused attempt takes nothing (a client that keeps knocking is not locked out forever;
   * it gets one attempt per `windowMs / limit`).
   * @throws RangeError when `cost` is not positive or exceeds `limit` (it could never pass).
   */
  consume(key: string, cost = 1): RateLimitResult {
    this.#checkCost(cost);
    const now = this.#now();
    this.#sweep(now);
    const bucket = this.#refilled(key, now);
    const allowed = bucket.tokens >= cost;
    if (allowed) bucket.tokens -= cost;
    this.#store(key, bucket);
    return rateLimitResult(allowed, bucket.tokens, cost, this.#ratePerMs);
  }

  /** What {@link RateLimiter.consume} would answer, without taking anything. */
  peek(key: string, cost = 1): RateLimitResult {
    this.#checkCost(cost);
    const bucket = this.#refilled(key, this.#now());
    const allowed = bucket.tokens >= cost;
    return rateLimitResult(allowed, allowed ? bucket.tokens - cost : bucket.tokens, cost, this.#ratePerMs);
  }

  /** Gives `key` a full bucket again (e.g. the username's, after a successful login). */
  reset(key: string): void {
    this.#buckets.delete(key);
  }

  /** Forgets every key. */
  clear(): void {
    this.#buckets.clear();
  }

  #checkCost(cost: number): void {
    checkRateLimitCost(cost, this.limit);
  }

  /** The bucket of `key` topped up to `now` (a fresh full one when unknown). */
  #refilled(key: string, now: number): Bucket {
    const bucket = this.#buckets.get(key);
    if (!bucket) return { tokens: this.limit, updatedAt: now };
    // A clock that went backwards refills nothing rather than removing tokens.
    const elapsed = Math.max(0, now - bucket.updatedAt);
    return { tokens: Math.min(this.limit, bucket.tokens + elapsed * this.#ratePerMs), updatedAt: now };
  }

  #store(key: string, bucket: Bucket): void {
    this.#buckets.delete(key);
    if (bucket.tokens >= this.limit) return; // full: same as unknown, nothing to remember
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next().value;
      if (oldest !== undefined) this.#buckets.delete(oldest);
    }
  }

  /** At most once per window: forget keys whose bucket has refilled (they equal unknown keys). */
  #sweep(now: number): void {
    if (now - this.#lastSweep < this.windowMs) return;
    this.#lastSweep = now;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.#ratePerMs >= this.limit) this.#buckets.delete(key);
    }
  }
}
