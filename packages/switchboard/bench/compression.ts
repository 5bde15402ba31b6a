/**
 * `node dist/bench/compression.js`: what compression costs the server in a fan-out of one group to
 * 1,000 receivers, a ~1 KB compressible JSON event per broadcast, as server CPU time (user + system,
 * all threads, `process.cpuUsage`) per delivery:
 *
 * - Switchboard, uncompressed (the default);
 * - Switchboard with `sharedCompression: true`, receivers negotiating permessage-deflate: one
 *   deflate per broadcast, the same compressed frame to every socket;
 * - bare `ws` with `perMessageDeflate: { serverNoContextTakeover: true }`, `ws.send(text)` per
 *   socket: one deflate per socket and broadcast (what `ws`'s own compression costs);
 * - bare `ws` uncompressed, the same loop, for reference.
 *
 * CPU time rather than wall clock: the machine may be shared, and CPU time per delivery moves
 * much less with load than deliveries per second (also printed). The receivers run in a child
 * process. Options (env): BENCH_CLIENTS (1000), BENCH_MESSAGES (200), BENCH_RUNS (3),
 * BENCH_SCENARIO (a substring of the scenario names: run only those, e.g. under
 * `valgrind --tool=callgrind` to count instructions with two values of BENCH_MESSAGES).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { InMemoryChannelLayer, JsonWebsocketConsumer, ProtocolTypeRouter, SwitchboardServer, URLRouter, path, silentLogger, type LayerMessage } from 'switchboard';

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 1000);
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const BATCH = 10; // broadcasts per event-loop turn

/** A chat-room event of about 1 KB that compresses as chat JSON does (~5:1). */
function event(n: number): object {
  return {
    room: 'lobby',
    n,
    messages: Array.from({ length: 11 }, (_, i) => ({ id: n * 100 + i, user: `user${(n + i) % 37}`, text: `message ${i} in broadcast ${n}: hello everyone` })),
  };
}

// ---- receivers (child process) -------------------------------------------------------------

interface ToReceivers {
  cmd: 'connect' | 'expect' | 'close';
  url?: string;
  deflate?: boolean;
  total?: number;
}

async function receivers(): Promise<void> {
  let sockets: WebSocket[] = [];
  let expected = 0;
  let received = 0;
  const onMessage = (): void => {
    if (++received === expected) process.send!({ ok: 'received' });
  };
  process.on('message', (m: ToReceivers) => {
    void (async () => {
      if (m.cmd === 'connect') {
        sockets = [];
        for (let i = 0; i < CLIENTS; i += 100) {
          const batch = Array.from({ length: Math.min(100, CLIENTS - i) }, () => new WebSocket(m.url!, { perMessageDeflate: m.deflate ?? false }));
          await Promise.all(batch.map((ws) => once(ws, 'open')));
          sockets.push(...batch);
        }
        for (const ws of sockets) ws.on('message', onMessage);
        const negotiated = sockets.filter((ws) => ws.extensions.includes('permessage-deflate')).length;
        process.send!({ ok: 'connected', negotiated });
      } else if (m.cmd === 'expect') {
        expected = m.total!;
        received = 0;
        process.send!({ ok: 'armed' });
      } else {
        await Promise.all(sockets.map((ws) => (ws.close(), once(ws, 'close'))));
        process.send!({ ok: 'closed' });
      }
    })();
  });
}

// ---- server side (this process) ------------------------------------------------------------

function ask(child: ChildProcess, msg: ToReceivers, ok: string): Promise<{ negotiated?: number }> {
  return new Promise((resolve) => {
    const onMessage = (m: { ok?: string; negotiated?: number }): void => {
      if (m.ok !== ok) return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.send(msg);
  });
}

interface Result {
  cpuUsPerDelivery: number;
  deliveriesPerSecond: number;
}

/** Sends MESSAGES broadcasts, BATCH per turn; server CPU from the first send to the last delivery. */
async function measure(child: ChildProcess, broadcast: (i: number) => void | Promise<unknown>): Promise<Result> {
  const total = CLIENTS * MESSAGES;
  await ask(child, { cmd: 'expect', total }, 'armed');
  const done = new Promise<void>((resolve) => {
    const onMessage = (m: { ok?: string }): void => {
      if (m.ok !== 'received') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
  });
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < MESSAGES; i += BATCH) {
    const sends: Array<void | Promise<unknown>> = [];
    for (let j = i; j < Math.min(i + BATCH, MESSAGES); j++) sends.push(broadcast(j));
    await Promise.all(sends);
    await new Promise((r) => setImmediate(r));
  }
  await done;
  const used = process.cpuUsage(cpu);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { cpuUsPerDelivery: (used.user + used.system) / total, deliveriesPerSecond: total / seconds };
}

class Room extends JsonWebsocketConsumer {
  override groups = ['bench'];
  benchMessage(e: LayerMessage): void {
    this.sendJson(e.payload);
  }
}

async function switchboard(child: ChildProcess, sharedCompression: boolean): Promise<Result[]> {
  const layer = new InMemoryChannelLayer({ capacity: 100_000 });
  const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket: new URLRouter([path('ws/', Room)]) }), { port: 0, channelLayer: layer, sharedCompression, logger: silentLogger() });
  const { port } = await server.listen();
  const { negotiated } = await ask(child, { cmd: 'connect', url: `ws://127.0.0.1:${port}/ws/`, deflate: sharedCompression }, 'connected');
  if (negotiated !== (sharedCompression ? CLIENTS : 0)) throw new Error(`${negotiated} receivers negotiated permessage-deflate`);
  while ((await layer.groupSize('bench')) < CLIENTS) await new Promise((r) => setTimeout(r, 10));
  const results: Result[] = [];
  const compressedBefore = server.stats.messagesCompressed ?? 0;
  for (let r = 0; r < RUNS; r++) results.push(await measure(child, (i) => layer.groupSend('bench', { type: 'bench.message', payload: event(i) })));
  const compressions = (server.stats.messagesCompressed ?? 0) - compressedBefore;
  if (sharedCompression && compressions !== RUNS * MESSAGES) throw new Error(`${compressions} compressions for ${RUNS * MESSAGES} broadcasts`);
  await ask(child, { cmd: 'close' }, 'closed');
  await server.close();
  return results;
}

async function bareWs(child: ChildProcess, deflate: boolean): Promise<Result[]> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: deflate ? { serverNoContextTakeover: true, threshold: 0 } : false });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  const { negotiated } = await ask(child, { cmd: 'connect', url: `ws://127.0.0.1:${port}/`, deflate }, 'connected');
  if (negotiated !== (deflate ? CLIENTS : 0)) throw new Error(`${negotiated} receivers negotiated permessage-deflate`);
  const results: Result[] = [];
  for (let r = 0; r < RUNS; r++) {
    results.push(
      await measure(child, (i) => {
        const text = JSON.stringify(event(i));
        for (const ws of wss.clients) ws.send(text);
      }),
    );
  }
  await ask(child, { cmd: 'close' }, 'closed');
  wss.close();
  http.close();
  return results;
}

function median(results: Result[], key: keyof Result): number {
  const values = results.map((r) => r[key]).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['receivers']);
  const onExit = (code: number | null): never => {
    console.error(`the receivers' process exited (code ${code}) before the end`);
    process.exit(1);
  };
  child.once('exit', onExit);
  const size = Buffer.byteLength(JSON.stringify(event(MESSAGES)));
  console.log(`${CLIENTS} receivers, ${MESSAGES} broadcasts of ${size} bytes per run, ${RUNS} runs (median)`);
  const scenarios: Array<[string, () => Promise<Result[]>]> = [
    ['Switchboard, uncompressed', () => switchboard(child, false)],
    ['Switchboard, sharedCompression', () => switchboard(child, true)],
    ['ws, per-socket permessage-deflate', () => bareWs(child, true)],
    ['ws, uncompressed', () => bareWs(child, false)],
  ];
  const only = process.env['BENCH_SCENARIO'];
  let baseline = 0;
  for (const [name, run] of scenarios) {
    if (only !== undefined && !name.includes(only)) continue;
    const results = await run();
    const cpu = median(results, 'cpuUsPerDelivery');
    baseline ||= cpu;
    console.log(`${name.padEnd(36)} ${cpu.toFixed(3)} µs CPU/delivery  ${(cpu / baseline).toFixed(2)}×  ${Math.round(median(results, 'deliveriesPerSecond')).toLocaleString('en')} deliveries/s`);
  }
  child.off('exit', onExit);
  child.kill();
}

if (process.argv[2] === 'receivers') void receivers();
else await main();
