/**
 * What one `groupSend` costs Redis and the sending process: the layer's Lua script (one PUBLISH
 * plus an EXISTS for named members, one EVALSHA) against a bare PUBLISH and against sending
 * PUBLISH + EXISTS as two commands.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/redis-publish-cost.js [redis://127.0.0.1:6379/0]
 *
 * Prints operations per second from one connection (256 in flight) and Redis' own CPU time per
 * operation, from INFO commandstats deltas (other clients' traffic during the run skews these).
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { defineScripts } from '../src/redis/scripts.js';

const url = process.argv[2] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const OPS = 100_000;
const WINDOW = 256;
const frame = 'A'.repeat(12) + JSON.stringify({
  type: 'chat.message',
  room: 'lobby',
  user: { id: 4211, name: 'alice' },
  message: 'hello everyone, is the meeting still at three?',
});

/** `usec` per command from INFO commandstats. */
async function commandUsec(redis: Redis): Promise<Map<string, number>> {
  const usec = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_(\w+):calls=\d+,usec=(\d+)/.exec(line.trim());
    if (match) usec.set(match[1]!, Number(match[2]));
  }
  return usec;
}

/**
 * Runs `op` OPS times and prints ops/s and Redis CPU per op, summed over `commands` (for the
 * script only evalsha: its usec already includes the commands it runs).
 */
async function run(redis: Redis, label: string, commands: string[], op: () => Promise<unknown>): Promise<void> {
  const before = await commandUsec(redis);
  const inFlight = new Set<Promise<unknown>>();
  const start = performance.now();
  for (let i = 0; i < OPS; i++) {
    const p = op();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const opsPerSecond = Math.round(OPS / ((performance.now() - start) / 1_000));
  const after = await commandUsec(redis);
  const usec = commands.reduce((sum, name) => sum + (after.get(name) ?? 0) - (before.get(name) ?? 0), 0);
  console.log(`  ${label.padEnd(28)} ${opsPerSecond.toLocaleString('en').padStart(8)} ops/s   Redis CPU ${(usec / OPS).toFixed(2)} µs/op (commands only, not I/O)`);
}

const redis = new Redis(url, { maxRetriesPerRequest: 1 });
try {
  const scripts = defineScripts(redis);
  const prefix = `sbbench:${Math.random().toString(36).slice(2)}:`;
  for (let round = 0; round < 2; round++) {
    await run(redis, 'PUBLISH', ['publish'], () => redis.publish(`${prefix}g:x`, frame));
    await run(redis, 'groupSend script (EVALSHA)', ['evalsha'], () =>
      scripts.groupSend(`${prefix}group-named:x`, `${prefix}g:x`, frame, Date.now(), Date.now() + 60_000, 100, 60_000, `${prefix}q:`),
    );
    await run(redis, 'PUBLISH + EXISTS', ['publish', 'exists'], () =>
      Promise.all([redis.publish(`${prefix}g:x`, frame), redis.exists(`${prefix}group-named:x`)]),
    );
  }
} finally {
  redis.disconnect();
}
