/** The browser client's reconnect delays and close-code policy. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/client/backoff.js';
import { reconnectPolicy } from 'switchboard/close-codes';

describe('backoffDelay', () => {
  it('grows exponentially up to maxDelayMs, with jitter inside the bounds', () => {
    const lo = (a: number) => backoffDelay(a, { minDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    const hi = (a: number) => backoffDelay(a, { minDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    assert.equal(lo(0), 50);
    assert.equal(hi(0), 100);
    assert.equal(hi(1), 200);
    assert.equal(hi(3), 800);
    assert.equal(hi(10), 1000);
    assert.equal(lo(10), 50);
  });
});

describe('reconnectPolicy', () => {
  it('reconnects after shutdown, errors and abnormal closure, not after refusals', () => {
    assert.equal(reconnectPolicy(1001), 'yes');
    assert.equal(reconnectPolicy(1011), 'backoff');
    assert.equal(reconnectPolicy(1006), 'backoff');
    assert.equal(reconnectPolicy(1000), 'no');
    assert.equal(reconnectPolicy(4401), 'no');
    assert.equal(reconnectPolicy(4429), 'later');
    assert.equal(reconnectPolicy(4999), 'no');
  });
});
