/** Both history stores pass the same conformance suite (src/testing/history-conformance.ts). */
import { randomBytes } from 'node:crypto';
import { InMemoryHistoryStore } from 'switchboard';
import { RedisHistoryStore } from 'switchboard/redis';
import { runHistoryStoreConformance } from 'switchboard/testing';
import { redisAvailable, REDIS_URL } from '@switchboard/test-support';

runHistoryStoreConformance('in-memory', (options) => new InMemoryHistoryStore(options));

runHistoryStoreConformance('redis', (options) => new RedisHistoryStore({ url: REDIS_URL, prefix: `sbtest:${randomBytes(6).toString('hex')}:`, ...options }), {
  skipAll: () => (redisAvailable() ? false : `Redis unreachable at ${REDIS_URL}`),
});
