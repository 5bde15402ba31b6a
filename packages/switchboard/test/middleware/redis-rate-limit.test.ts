/**
 * RedisRateLimiter: the token bucket of RateLimiter in Redis, shared by every instance on one
 * Redis (each instance stands for a process), with a per-process fallback during an outage.
 * Real Redis; a unique key prefix per test.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { LayerClosedError } from '../../src/errors.js';
import { RedisRateLimiter, type RedisRateLimiterOptions } from '../../src/redis/index.js';
import { freePort } from '@switchboard/test-support';
import { REDIS_URL, redisAvailable } from '@switchboard/test-support';

const skip = redisAvailable() ? false : `Redis at ${REDIS_URL} is unreachable (set REQUIRE_SERVICES=1 to fail instead of skipping)`;

describe('RedisRateLimiter', { skip }, () => {
  const opened: RedisRateLimiter[] = [];
  const prefixes: string[] = [];
  const admin = skip ? undefined : new Redis(REDIS_URL);

  /** A limiter on a prefix of its own (pass `prefix` to share one). */
  function limiter(options: Partial<RedisRateLimiterOptions> & { limit: number; windowMs: number }): RedisRateLimiter {
    const prefix = options.prefix ?? `sb:test:rl:${randomBytes(4).toString('hex')}:`;
    prefixes.push(prefix);
    const rl = new RedisRateLimiter({ name: 'test', url: REDIS_URL, ...options, prefix });
    opened.push(rl);
    return rl;
  }
  const newPrefix = (): string => `sb:test:rl:${randomBytes(4).toString('hex')}:`;

  after(async () => {
    await Promise.all(opened.map((rl) => rl.close()));
    if (admin) {
      for (const prefix of prefixes) {
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length > 0) await admin.del(...keys);
      }
      await admin.quit();
    }
  });

  it('two instances (two processes) share one budget per key', async () => {
    const prefix = newPrefix();
    const a = limiter({ prefix, limit: 4, windowMs: 60_000 });
    const b = limiter({ prefix, limit: 4, windowMs: 60_000 });
    const answers = [await a.consume('ip:1'), await b.consume('ip:1'), await a.consume('ip:1'), await b.consume('ip:1')];
    assert.deepEqual(answers.map((r) => [r.allowed, r.remaining]), [[true, 3], [true, 2], [true, 1], [true, 0]]);
    const refusedA = await a.consume('ip:1');
    const refusedB = await b.consume('ip:1');
    assert.equal(refusedA.allowed, false);
    assert.equal(refusedB.allowed, false);
    assert.ok(refusedB.retryAfterMs > 14_000 && refusedB.retryAfterMs <= 15_000, `retryAfterMs ${refusedB.retryAfterMs}`);
    assert.equal((await b.consume('ip:2')).allowed, true, 'another key has its own bucket');
    // Concurrent attempts from both never take more than the limit.
    const other = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).consume('race')));
    assert.equal(other.filter((r) => r.allowed).length, 4);
  });

  it('limiters with different names on one prefix do not share', async () => {
    const prefix = newPrefix();
    const ip = limiter({ prefix, name: 'login-ip', limit: 1, windowMs: 60_000 });
    const user = limiter({ prefix, name: 'login-username', limit: 1, windowMs: 60_000 });
    assert.equal((await ip.consume('k')).allowed, true);
    assert.equal((await user.consume('k')).allowed, true);
    assert.equal((await ip.consume('k')).allowed, false);
  });

  it('refills continuously, and a refused attempt takes nothing', async () => {
    const rl = limiter({ limit: 2, windowMs: 400 }); // one token per 200 ms
    assert.equal((await rl.consume('k')).allowed, true);
    assert.equal((await rl.consume('k')).allowed, true);
    const refused = await rl.consume('k');
    assert.equal(refused.allowed, false);
    assert.equal(refused.remaining, 0);
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 200, `retryAfterMs ${refused.retryAfterMs}`);
    // Knocking again and again while empty does not push the next token further away.
    for (let i = 0; i < 5; i++) assert.equal((await rl.consume('k')).allowed, false);
    await delay(refused.retryAfterMs + 30);
    assert.equal((await rl.consume('k')).allowed, true, 'one token back after windowMs / limit');
    assert.equal((await rl.consume('k')).allowed, false);
    await delay(450);
    const full = await rl.consume('k');
    assert.deepEqual(full, { allowed: true, remaining: 1, retryAfterMs: 0 }, 'a full bucket after windowMs, never more than limit');
  });

  it('a cost above what is left is refused without taking anything', async () => {
    const rl = limiter({ limit: 5, windowMs: 60_000 });
    assert.equal((await rl.consume('k', 3)).remaining, 2);
    const refused = await rl.consume('k', 3);
    assert.equal(refused.allowed, false);
    assert.equal(refused.remaining, 2);
    assert.deepEqual(await rl.consume('k', 2), { allowed: true, remaining: 0, retryAfterMs: 0 });
    await assert.rejects(rl.consume('k', 6), RangeError);
    await assert.rejects(rl.consume('k', 0), RangeError);
  });

  it('reset gives a key a full bucket again, for every instance', async () => {
    const prefix = newPrefix();
    const a = limiter({ prefix, limit: 2, windowMs: 60_000 });
    const b = limiter({ prefix, limit: 2, windowMs: 60_000 });
    await a.consume('user');
    await a.consume('user');
    assert.equal((await b.consume('user')).allowed, false);
    await a.reset('user');
    assert.deepEqual(await b.consume('user'), { allowed: true, remaining: 1, retryAfterMs: 0 });
  });

  it('keeps a key no longer than windowMs (PTTL), and none for a full bucket', async () => {
    const prefix = newPrefix();
    const rl = limiter({ prefix, name: 'ttl', limit: 3, windowMs: 5_000 });
    await rl.consume('k');
    const key = `${prefix}ratelimit:ttl:k`;
    const pttl = await admin!.pttl(key);
    assert.ok(pttl > 0 && pttl <= 5_000, `PTTL ${pttl}`);
    await rl.reset('k');
    assert.equal(await admin!.exists(key), 0);
    const short = limiter({ prefix, name: 'short', limit: 1, windowMs: 100 });
    await short.consume('k');
    assert.equal(await admin!.exists(`${prefix}ratelimit:short:k`), 1);
    await delay(150);
    assert.equal(await admin!.exists(`${prefix}ratelimit:short:k`), 0, 'expired with the refill');
  });

  it('during an outage falls back to per-process limits, logging once', async () => {
    const lines: Array<[string, string]> = [];
    const logger = { error: (_: object, msg: string) => lines.push(['error', msg]), warn: (_: object, msg: string) => lines.push(['warn', msg]) };
    const url = `redis://127.0.0.1:${await freePort()}/0`;
    const a = limiter({ url, limit: 3, windowMs: 60_000, connectTimeoutMs: 200, logger });
    const b = limiter({ url, limit: 3, windowMs: 60_000, connectTimeoutMs: 200 });
    const fromA = [];
    for (let i = 0; i < 4; i++) fromA.push(await a.consume('ip:1'));
    assert.deepEqual(fromA.map((r) => r.allowed), [true, true, true, false], 'not everybody through: the in-process bucket limits');
    assert.ok(fromA[3]!.retryAfterMs > 0);
    assert.equal((await b.consume('ip:1')).allowed, true, 'not everybody locked out: another process has its own bucket');
    await a.reset('ip:1');
    assert.equal((await a.consume('ip:1')).allowed, true, 'reset works on the fallback');
    assert.deepEqual(lines.map(([level]) => level), ['error'], `one line per outage: ${JSON.stringify(lines)}`);
    assert.match(lines[0]![1], /per-process/);
    await a.close();
    await assert.rejects(a.consume('ip:1'), LayerClosedError);
  });
});
