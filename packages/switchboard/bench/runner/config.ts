/**
 * The benchmark's settings, from the environment (documented in bench/fanout.ts's header and
 * docs/performance.md). Defaults make `npm run bench` take ~6.5 minutes on a 2-core machine.
 */
const num = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name}=${raw}: expected a non-negative number`);
  return n;
};

/** The scenario groups, in the order they run. */
export const GROUPS = ['rate', 'saturation', 'idle', 'rooms', 'compression'] as const;
export type Group = (typeof GROUPS)[number];

const only = (process.env.BENCH_GROUPS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
for (const g of only) if (!(GROUPS as readonly string[]).includes(g)) throw new RangeError(`BENCH_GROUPS: unknown group ${g} (${GROUPS.join(', ')})`);

export const config = {
  /** Receivers in the one room of the fan-out and compression groups. */
  clients: num('BENCH_CLIENTS', 1000),
  /** Fresh server processes per scenario (the table shows medians). */
  runs: Math.max(1, num('BENCH_RUNS', 3)),
  /** Broadcasts/s of the fixed-rate group. */
  rate: num('BENCH_RATE', 100),
  /** Seconds the fixed-rate group and the many-rooms group send for. */
  seconds: num('BENCH_SECONDS', 3),
  /** Broadcasts of one saturation run. */
  messages: num('BENCH_MESSAGES', 500),
  /** Broadcasts of one compression run. */
  compressionMessages: num('BENCH_COMPRESSION_MESSAGES', 100),
  /** Unmeasured broadcasts before each measured window (JIT warm-up). */
  warmup: num('BENCH_WARMUP', 30),
  /** A window ends when everything arrived, or when nothing more arrived for this long (ms). */
  settleMs: num('BENCH_SETTLE_MS', 1000),
  /** Idle connections of the memory group. */
  idle: num('BENCH_IDLE', 5000),
  /** Rooms, members per room and messages/s per member of the many-rooms group. */
  rooms: num('BENCH_ROOMS', 100),
  roomSize: num('BENCH_ROOM_SIZE', 10),
  roomRate: num('BENCH_ROOM_RATE', 5),
  /** Which groups run (comma-separated); all by default. */
  groups: (only.length ? GROUPS.filter((g) => only.includes(g)) : [...GROUPS]) as Group[],
  /** Fan-out receivers are bench/raw-client.ts's frame counters (`BENCH_LITE=0`: `ws` clients). */
  lite: process.env.BENCH_LITE !== '0',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
};
