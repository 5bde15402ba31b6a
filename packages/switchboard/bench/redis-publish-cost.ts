/**
 * What one `groupSend` of the Redis layer costs Redis, measured on a private `redis-server`
 * (started here on a free port, so other clients' traffic does not skew the counters) through
 * the layer's public API: for a group without named (worker) members, the common case, and for
 * a group with one named member. Also the raw commands for reference (a bare PUBLISH, the
 * groupSend script called directly).
 *
 *   npm run bench:redis-cost      (or: node dist/bench/redis-publish-cost.js)
 *
 * Per groupSend it prints: the commands Redis executed (INFO commandstats call deltas, so "one
 * PUBLISH and nothing else" is checked, not assumed; a script's inner commands are listed too), Redis' CPU in those commands
 * (commandstats `usec` deltas: command execution only) and Redis' process CPU (`used_cpu_user`
 * + `used_cpu_sys` deltas: includes reading requests and writing replies), and the sends per
 * second from one layer with 256 in flight (wall clock: noisy on a shared machine).
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, stopProcess } from '@switchboard/test-support';
import { RedisChannelLayer } from '../src/redis/index.js';
import { defineScripts } from '../src/redis/scripts.js';

const OPS = 100_000;
const WINDOW = 256;
const message = {
  type: 'chat.message',
  room: 'lobby',
  user: { id: 4211, name: 'alice' },
  message: 'hello everyone, is the meeting still at three?',
};

interface RedisCounters {
  /** Command → [calls, usec]. */
  commands: Map<string, [number, number]>;
  /** used_cpu_user + used_cpu_sys, in µs. */
  cpuUsec: number;
}

async function counters(redis: Redis): Promise<RedisCounters> {
  const commands = new Map<string, [number, number]>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (match) commands.set(match[1]!, [Number(match[2]), Number(match[3])]);
  }
  const cpu = await redis.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
  return { commands, cpuUsec: (field('used_cpu_user') + field('used_cpu_sys')) * 1e6 };
}

/** Runs `op` OPS times (WINDOW in flight) and prints what Redis did per op. */
async function run(admin: Redis, label: string, op: () => Promise<unknown>): Promise<void> {
  const before = await counters(admin);
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
  const after = await counters(admin);
  const perOp: string[] = [];
  const usecOf = new Map<string, number>();
  for (const [name, [calls, spent]] of after.commands) {
    if (name === 'info') continue;
    const [callsBefore, spentBefore] = before.commands.get(name) ?? [0, 0];
    const n = (calls - callsBefore) / OPS;
    usecOf.set(name, spent - spentBefore);
    if (n >= 0.01) perOp.push(`${n.toFixed(2)} ${name}`);
  }
  // Commands a script runs are counted on their own too, and inside the script's usec: with a
  // script, count the script only.
  const scripted = (usecOf.get('evalsha') ?? 0) + (usecOf.get('eval') ?? 0);
  const usec = scripted > 0 ? scripted : [...usecOf.values()].reduce((sum, n) => sum + n, 0);
  console.log(
    `  ${label.padEnd(34)} ${opsPerSecond.toLocaleString('en').padStart(8)} ops/s   ` +
      `commands ${(usec / OPS).toFixed(2)} µs/op, process ${((after.cpuUsec - before.cpuUsec) / OPS).toFixed(2)} µs/op   per op: ${perOp.join(', ')}`,
  );
}

const port = await freePort();
const server = await startRedisServer(port);
const url = `redis://127.0.0.1:${port}/0`;
const admin = new Redis(url, { maxRetriesPerRequest: 1 });
const layers: RedisChannelLayer[] = [];
try {
  const prefix = 'bench:';
  const sender = await RedisChannelLayer.fromUrl(url, { prefix });
  // Another process with a member of each group, so every PUBLISH reaches a subscriber.
  const receiver = await RedisChannelLayer.fromUrl(url, { prefix, capacity: 1_000_000 });
  layers.push(sender, receiver);
  for (const group of ['plain', 'with-worker']) {
    const channel = await receiver.newChannel();
    receiver.attach(channel, () => true);
    await receiver.groupAdd(group, channel);
  }
  // A named (worker) channel in the second group; nobody consumes it: its list stays at capacity.
  await receiver.groupAdd('with-worker', 'worker.jobs');

  const raw = new Redis(url, { maxRetriesPerRequest: 1 });
  const scripts = defineScripts(raw);
  const frame = 'A'.repeat(12) + JSON.stringify(message);
  for (let round = 0; round < 2; round++) {
    console.log(`round ${round + 1}`);
    await run(admin, 'raw PUBLISH', () => raw.publish(`${prefix}g:plain`, frame));
    await run(admin, 'raw groupSend script (EVALSHA)', () =>
      scripts.groupSend(`${prefix}group-named:none`, `${prefix}named-groups`, 'none', `${prefix}g:plain`, frame, Date.now(), Date.now() + 60_000, 100, 60_000, `${prefix}q:`),
    );
    await run(admin, 'groupSend, no named members', () => sender.groupSend('plain', message));
    await run(admin, 'groupSend, one named member', () => sender.groupSend('with-worker', message));
  }
  raw.disconnect();
  const stats = sender.stats as unknown as Record<string, unknown>;
  console.log(`sender stats: ${JSON.stringify(stats)}`);
} finally {
  for (const layer of layers) await layer.close();
  admin.disconnect();
  await stopProcess(server);
}
