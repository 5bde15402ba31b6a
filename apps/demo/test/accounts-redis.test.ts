/**
 * The demo's log-in rate limit on Redis: two demo servers on one Redis (two processes) share the
 * per-username budget, so spreading attempts across them gains nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { REDIS_URL, redisAvailable } from '@switchboard/test-support';
import { Agent } from './accounts-agent.js';

const skip = redisAvailable() ? false : `Redis at ${REDIS_URL} is unreachable (set REQUIRE_SERVICES=1 to fail instead of skipping)`;

describe('demo log-in rate limit over Redis', { skip }, () => {
  const prefix = `sb:test:demo-rl:${randomBytes(4).toString('hex')}:`;
  let demos: RunningDemo[] = [];

  before(async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', CHANNEL_LAYER_URL: REDIS_URL });
    const options = {
      secretKey: 'test-secret-key-0123456789abcdefghijkl',
      redisPrefix: prefix,
      accounts: { scrypt: { log2N: 14, r: 8, p: 1 }, rateLimits: { loginPerUsername: { limit: 3, windowMs: 60_000 }, loginPerIp: { limit: 1000, windowMs: 60_000 } } },
    };
    demos = await Promise.all([startDemo(config, options), startDemo(config, options)]);
  });

  after(async () => {
    await Promise.all(demos.map((d) => d.close()));
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('attempts split across two servers get 429 once the shared per-username limit is reached', async () => {
    const name = `eve-${randomBytes(3).toString('hex')}`;
    const [onA, onB] = demos.map((d) => new Agent(d.url)) as [Agent, Agent];
    const statuses: number[] = [];
    for (const agent of [onA, onB, onA, onB, onA]) {
      const res = await agent.post('/log_in/', { csrf_token: await agent.token('/log_in/'), username: name, password: 'wrong password' });
      statuses.push(res.status);
    }
    // Per process each would have allowed 3 (six in all); shared, the fourth attempt is refused.
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    assert.match((await onB.post('/log_in/', { csrf_token: await onB.token('/log_in/'), username: name.toUpperCase(), password: 'x' })).headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  });
});
