/** RateLimiter: a token bucket per key, on a fake clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../src/middleware/rate-limit.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('RateLimiter', () => {
  it('allows limit attempts in a burst, then refuses with the time until the next token', () => {
    const c = clock();
    const rl = new RateLimiter({ limit: 5, windowMs: 60_000, now: c.now });
    for (let i = 4; i >= 0; i--) assert.deepEqual(rl.consume('ip:1'), { allowed: true, remaining: i, retryAfterMs: 0 });
    assert.deepEqual(rl.consume('ip:1'), { allowed: false, remaining: 0, retryAfterMs: 12_000 });
  });

  it('refills continuously: one attempt per windowMs / limit', () => {
    const c = clock();
    const rl = new RateLimiter({ limit: 5, windowMs: 60_000, now: c.now });
    for (let i = 0; i < 5; i++) rl.consume('k');
    c.t += 11_999;
    assert.equal(rl.consume('k').allowed, false);
    c.t += 1;
    assert.equal(rl.consume('k').allowed, true);
    assert.equal(rl.consume('k').allowed, false);
    c.t += 60_000;
    assert.equal(rl.peek('k').remaining, 4);
  });

  it('keeps keys apart', () => {
    const rl = new RateLimiter({ limit: 1, windowMs: 1000, now: clock().now });
    assert.equal(rl.consume('user:alice').allowed, true);
    assert.equal(rl.consume('user:alice').allowed, false);
    assert.equal(rl.consume('user:bob').allowed, true);
  });

  it('peek does not consume, and a refused attempt costs nothing', () => {
    const c = clock();
    const rl = new RateLimiter({ limit: 2, windowMs: 1000, now: c.now });
    assert.equal(rl.peek('k').allowed, true);
    rl.consume('k');
    rl.consume('k');
    for (let i = 0; i < 10; i++) assert.equal(rl.consume('k').allowed, false);
    c.t += 500;
    assert.equal(rl.consume('k').allowed, true);
  });

  it('reset gives a key a full bucket', () => {
    const rl = new RateLimiter({ limit: 1, windowMs: 60_000, now: clock().now });
    rl.consume('user:alice');
    rl.reset('user:alice');
    assert.equal(rl.consume('user:alice').allowed, true);
  });

  it('forgets refilled keys and stays within maxKeys', () => {
    const c = clock();
    const rl = new RateLimiter({ limit: 2, windowMs: 1000, maxKeys: 3, now: c.now });
    for (const k of ['a', 'b', 'c', 'd']) rl.consume(k);
    assert.equal(rl.size, 3);
    c.t += 1000;
    rl.consume('e');
    assert.equal(rl.size, 1);
  });

  it('validates its options and the cost', () => {
    assert.throws(() => new RateLimiter({ limit: 0, windowMs: 1000 }), RangeError);
    assert.throws(() => new RateLimiter({ limit: 1, windowMs: 0 }), RangeError);
    assert.throws(() => new RateLimiter({ limit: 1, windowMs: 1, maxKeys: 0 }), RangeError);
    assert.throws(() => new RateLimiter({ limit: 2, windowMs: 1000 }).consume('k', 3), RangeError);
  });
});
