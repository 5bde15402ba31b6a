/**
 * `npm run bench`: the measuring stick of issue 11, as an independent load generator measures.
 * Every scenario runs its server in a FRESH child process (bench/server-host.ts; one per scenario
 * and run) pinned to core 0 with `taskset -c 0`; the receivers and senders (bench/clients.ts,
 * whose fan-out receivers are bench/raw-client.ts frame counters),
 * the cross-process publisher (bench/publisher.ts) and this runner on core 1. Without `taskset`
 * everything runs unpinned and the header says so. Runs are interleaved (run 1 of every
 * scenario of a group, then run 2, …) so a load change on the machine hits all rows alike.
 *
 * Groups (bench/runner/plan.ts): fan-out at a fixed rate and at saturation (1,000 receivers in one
 * room, bare `ws` loop, framed-once+cork loop, Socket.IO 4, Switchboard idiom and natural handler;
 * at saturation also Socket.IO + `@socket.io/redis-adapter` and Switchboard on `RedisChannelLayer`,
 * both broadcasting from another process), idle memory per connection, many small rooms, and
 * compression. Per scenario: deliveries/s, the server's own CPU µs per delivery (the main
 * figure), deliveries lost, and ratios to the yardsticks measured in the same run.
 *
 * Environment (defaults: ~6.5 minutes on 2 cores, with the build):
 *   BENCH_GROUPS        rate,saturation,idle,rooms,compression (all)
 *   BENCH_RUNS          3     fresh server processes per scenario; tables show medians
 *   BENCH_CLIENTS       1000  receivers of the fan-out and compression groups
 *   BENCH_RATE          100   broadcasts/s of the fixed-rate group
 *   BENCH_SECONDS       3     send time of the fixed-rate and many-rooms groups
 *   BENCH_MESSAGES      500   broadcasts of a saturation run
 *   BENCH_COMPRESSION_MESSAGES 100  broadcasts of a compression run
 *   BENCH_WARMUP        30    unmeasured broadcasts before each window
 *   BENCH_SETTLE_MS     1000  a window ends this long after the last delivery if some are missing
 *   BENCH_IDLE          5000  idle connections of the memory group
 *   BENCH_ROOMS, BENCH_ROOM_SIZE, BENCH_ROOM_RATE   100, 10, 5 (msg/s per client)
 *   BENCH_LITE=0        fan-out receivers are ws clients, not bench/raw-client.ts frame counters
 *   BENCH_PIN=0         run unpinned even where taskset exists
 *   REDIS_URL           redis://127.0.0.1:6379/0 (the Redis rows are skipped when unreachable)
 */
import { Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { pinning, pinSelf } from './ipc.js';
import { config, type Group } from './runner/config.js';
import { fanOutRun, idleRun, roomsRun, type Sample } from './runner/measure.js';
import { plan, type Case } from './runner/plan.js';
import { figures, groupTable, heading, targets, type Result } from './runner/report.js';

/** Whether Redis answers at REDIS_URL (a TCP connect, no client library). */
async function redisReachable(): Promise<boolean> {
  const url = new URL(config.redisUrl);
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000, () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.connect(Number(url.port || 6379), url.hostname, () => (socket.end(), resolve(true)));
  });
}

function runOnce(c: Case): Promise<Sample> {
  switch (c.group) {
    case 'rate':
      return fanOutRun(c, Math.round(config.rate * config.seconds), config.rate);
    case 'saturation':
      return fanOutRun(c, config.messages, 0);
    case 'compression':
      return fanOutRun(c, config.compressionMessages, 0);
    case 'rooms':
      return roomsRun(c);
    case 'idle':
      return idleRun(c);
  }
}

async function runGroup(group: Group, cases: readonly Case[]): Promise<Result[]> {
  const samples = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
  for (let run = 1; run <= config.runs; run++) {
    for (const c of cases) {
      const s = await runOnce(c);
      samples.get(c)!.push(s);
      const f = figures({ case: c, samples: [s] });
      const detail = group === 'idle' ? `${(f.rss / 1024).toFixed(1)} KB RSS/conn` : `${Math.round(f.rate).toLocaleString('en-US')} deliveries/s, ${f.cpu.toFixed(3)} µs CPU/delivery, lost ${f.lost}`;
      console.error(`  [${group} ${run}/${config.runs}] ${c.label}: ${detail}`);
    }
  }
  return cases.map((c) => ({ case: c, samples: samples.get(c)! }));
}

async function main(): Promise<void> {
  pinSelf();
  const redis = await redisReachable();
  console.log(`# npm run bench — ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`# ${pinning()}; ${config.runs} fresh server process(es) per scenario, medians${redis ? '' : `; Redis unreachable at ${config.redisUrl}: Redis rows skipped`}`);
  const results: Result[] = [];
  for (const group of config.groups) {
    const cases = plan.filter((c) => c.group === group && (redis || !c.server.includes('redis')));
    const mine = await runGroup(group, cases);
    results.push(...mine);
    console.log(`\n## ${heading(group)}\n`);
    console.log(groupTable(group, mine));
  }
  const t = targets(results);
  if (t) console.log(`\n## targets of issue 11 (ratios from this run)\n\n${t}`);
  console.log(`\n# load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
