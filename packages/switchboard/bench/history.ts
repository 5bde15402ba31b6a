/**
 * What history costs on Redis: `RedisHistoryStore.append` (one EVALSHA: HINCRBY + XADD MAXLEN ~
 * + 2 PEXPIRE) against a bare PUBLISH of the same frame, and `since` replaying 10 missed events.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/history.js [redis://127.0.0.1:6379/0]
 *
 * Prints operations per second from one connection with 256 in flight.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { RedisHistoryStore } from '../src/redis/redis-history-store.js';

const url = process.argv[2] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const OPS = 50_000;
const WINDOW = 256;
const event = { type: 'chat.message', payload: { message: 'hello everyone, is the meeting still at three?', username: 'alice' } };

async function run(label: string, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < OPS) await op(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label.padEnd(44)} ${Math.round(OPS / seconds).toLocaleString('en').padStart(10)} ops/s`);
}

const prefix = `sbbench:${randomBytes(4).toString('hex')}:`;
const store = new RedisHistoryStore({ url, prefix, maxEvents: 100 });
const redis = new Redis(url);
const frame = JSON.stringify(event);
try {
  await run('PUBLISH (no history)', () => redis.publish(`${prefix}g:bench`, frame));
  await run('history append, one group', () => store.append('bench.one', event));
  await run('history append, 1,000 groups', (i) => store.append(`bench.g${i % 1000}`, event));
  const { epoch, offset } = await store.position('bench.one');
  await run('history since, 10 missed events', () => store.since('bench.one', { epoch, offset: offset - 10 }));
} finally {
  await store.flush();
  await store.close();
  redis.disconnect();
}
