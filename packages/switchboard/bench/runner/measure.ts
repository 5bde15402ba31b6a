/**
 * One run of one scenario: a fresh server process (core 0), a fresh load generator (core 1) and,
 * for the cross-process scenarios, a fresh publisher (core 1); measured, then all three stopped.
 *
 * The measured window starts after a warm-up (unmeasured broadcasts, everything received) and
 * ends when every expected delivery arrived or nothing more arrived for `settleMs`; `lost` is
 * expected minus received at that point. The server's CPU over the window is its own
 * `process.cpuUsage()` difference, asked for over IPC at both ends.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ask, startChild, stopChild, whenReady } from '../ipc.js';
import type { Protocol } from '../scenarios/types.js';
import { config } from './config.js';
import type { Case } from './plan.js';

/** One run's figures. */
export interface Sample {
  /** Deliveries counted by the receivers in the window. */
  readonly received: number;
  readonly expected: number;
  /** ms from the window's start to its last delivery. */
  readonly ms: number;
  /** Server CPU over the window, µs (user + system). */
  readonly cpuUs: number;
  /** The cross-process publisher's CPU over the window, µs (Redis rows only). */
  readonly senderCpuUs?: number;
  /** Receivers whose server accepted permessage-deflate. */
  readonly deflate: number;
  /** Idle group: server memory growth per connection, bytes (RSS; heap + external). */
  readonly rssPerConn?: number;
  readonly heapPerConn?: number;
}

interface Ready {
  port: number;
  path: string;
  protocol: Protocol;
}

let runNo = 0;

/** Sockets per load-generator process in the idle group (the fd limit is 20,000 per process). */
const PER_LOAD = 10_000;
/** Most connections an idle run opens (and keeps) before its first measurement: a tenth of the count, at most this. */
const IDLE_WARM_UP = 500;

/** Starts the case's server and load generator, runs `body`, stops them whatever happens. */
async function withProcesses<T>(c: Case, message: 'chat' | 'reading', body: (server: ChildProcess, load: ChildProcess, ready: Ready, options: string) => Promise<T>): Promise<T> {
  const options = JSON.stringify({ redisUrl: config.redisUrl, redisPrefix: `sbbench:${process.pid}:${++runNo}:`, message });
  const server = startChild('./server-host.js', 0, [c.server, options], ['--expose-gc']);
  const load = startChild('./clients.js', 1);
  try {
    const ready = await whenReady<Ready>(server);
    return await body(server, load, ready, options);
  } finally {
    // The server first: it closes its connections and runs its consumers' disconnects while
    // its channel layer is still open (receivers vanishing first would race the layer's close).
    await stopChild(server);
    await stopChild(load);
  }
}

const connect = (load: ChildProcess, ready: Ready, n: number, extra: object = {}): Promise<{ deflate: number }> =>
  ask<{ deflate: number }>(load, { cmd: 'connect', url: `ws://127.0.0.1:${ready.port}${ready.path}`, n, protocol: ready.protocol, ...extra }, 'connected');

/** Polls the receivers until `expected` arrived or nothing more arrived for `settleMs`. */
async function settle(load: ChildProcess, expected: number): Promise<{ received: number; ms: number }> {
  let last = -1;
  let still = performance.now();
  for (;;) {
    const { received, ms } = await ask<{ received: number; ms: number }>(load, { cmd: 'count' }, 'count');
    if (received >= expected) return { received, ms };
    if (received !== last) {
      last = received;
      still = performance.now();
    } else if (performance.now() - still > config.settleMs) return { received, ms };
    await sleep(20);
  }
}

const cpu = async (server: ChildProcess): Promise<number> => (await ask<{ us: number }>(server, { cmd: 'cpu' }, 'cpu')).us;

/** A fan-out run: `count` broadcasts to `config.clients` receivers at `rate`/s (0: as fast as possible). */
export function fanOutRun(c: Case, count: number, rate: number): Promise<Sample> {
  const message = c.group === 'compression' ? 'reading' : 'chat';
  return withProcesses(c, message, async (server, load, ready, options) => {
    const { deflate } = await connect(load, ready, config.clients, { deflate: c.deflate === true, lite: config.lite });
    const publisher = c.publisher ? startChild('./publisher.js', 1, [c.publisher, options]) : undefined;
    try {
      if (publisher) await whenReady(publisher);
      const sender = publisher ?? server;
      await ask(load, { cmd: 'arm' }, 'armed');
      await ask(sender, { cmd: 'broadcast', count: config.warmup, rate: 0 }, 'sent');
      await settle(load, config.warmup * config.clients);
      await ask(load, { cmd: 'arm' }, 'armed');
      const before = await cpu(server);
      const senderBefore = publisher ? await cpu(publisher) : 0;
      await ask(sender, { cmd: 'broadcast', count, rate, first: config.warmup }, 'sent');
      const expected = count * config.clients;
      const { received, ms } = await settle(load, expected);
      const cpuUs = (await cpu(server)) - before;
      const senderCpuUs = publisher ? (await cpu(publisher)) - senderBefore : undefined;
      return { received, expected, ms, cpuUs, deflate, senderCpuUs };
    } finally {
      if (publisher) await stopChild(publisher);
    }
  });
}

/** A many-small-rooms run: every client sends `roomRate`/s for `seconds`; each message reaches its room. */
export function roomsRun(c: Case): Promise<Sample> {
  return withProcesses(c, 'chat', async (server, load, ready) => {
    const n = config.rooms * config.roomSize;
    await connect(load, ready, n, { rooms: config.rooms });
    const round = async (seconds: number): Promise<{ sent: number; received: number; ms: number }> => {
      await ask(load, { cmd: 'arm' }, 'armed');
      const { sent } = await ask<{ sent: number }>(load, { cmd: 'send', rate: config.roomRate, seconds }, 'sent');
      return { sent, ...(await settle(load, sent * config.roomSize)) };
    };
    await round(Math.min(1, config.seconds)); // warm-up
    const before = await cpu(server);
    const { sent, received, ms } = await round(config.seconds);
    const cpuUs = (await cpu(server)) - before;
    return { received, expected: sent * config.roomSize, ms, cpuUs, deflate: 0 };
  });
}

/** An idle-memory run: server memory before and after `config.idle` connections, after full collections. */
export function idleRun(c: Case): Promise<Sample> {
  return withProcesses(c, 'chat', async (server, load, ready) => {
    type Memory = { rss: number; heap: number };
    const memory = (): Promise<Memory> => ask<Memory>(server, { cmd: 'memory' }, 'memory');
    const open = async (): Promise<number> => (await ask<{ n: number }>(server, { cmd: 'open' }, 'open')).n;
    const n = config.idle;
    const warm = Math.min(IDLE_WARM_UP, Math.ceil(n / 10));
    const openAtLeast = async (count: number): Promise<void> => {
      for (let t = 0; (await open()) < count; t++) {
        if (t > 500) throw new Error(`${c.label}: ${await open()} of ${count} connections open on the server`);
        await sleep(20);
      }
    };
    // Warm-up connections first, kept open and outside the count: what the first connections
    // cost once per process (compiled code, V8's young generation growing to its working size,
    // several MB) is not memory per connection, and would otherwise be spread over `n`.
    await connect(load, ready, warm);
    await openAtLeast(warm);
    await sleep(500);
    const before = await memory();
    const started = performance.now();
    // Each load generator holds at most PER_LOAD sockets (the fd limit is per process); the
    // first already holds the warm-up ones.
    const extra = Array.from({ length: Math.ceil((n + warm) / PER_LOAD) - 1 }, () => startChild('./clients.js', 1));
    try {
      let left = n;
      const shares = [load, ...extra].map((l, k) => {
        const share = Math.min(left, PER_LOAD - (k === 0 ? warm : 0));
        left -= share;
        return connect(l, ready, share);
      });
      await Promise.all(shares);
      await openAtLeast(n + warm);
      const ms = performance.now() - started;
      await sleep(500); // handshake leftovers (timers, buffers) released
      const after = await memory();
      return { received: n, expected: n, ms, cpuUs: 0, deflate: 0, rssPerConn: (after.rss - before.rss) / n, heapPerConn: (after.heap - before.heap) / n };
    } finally {
      await Promise.all(extra.map((l) => stopChild(l)));
    }
  });
}
