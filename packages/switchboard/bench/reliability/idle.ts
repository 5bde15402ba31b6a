/**
 * Part 3 of `npm run bench:reliability`: `n` idle connections, opened by a child process
 * (bench/clients.ts; the per-process file-descriptor limit keeps clients and server apart), and
 * the server's memory per connection: RSS and heap+external growth divided by `n`, measured after
 * full collections, for Switchboard (`ws/json/`, a JSON consumer that joined no group) and then
 * for a bare `ws` WebSocketServer in the same process. The bare server is measured second, so it
 * may reuse pages the first one freed: the ratio errs against Switchboard.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ask } from '../ipc.js';
import type { BenchApp } from './app.js';
import { collected, count, settle, type PartResult } from './util.js';

/** Memory growth per connection, in bytes. */
interface PerConnection {
  readonly rss: number;
  readonly heap: number;
}

/** Opens `n` clients to `url` from the child, measures, closes them; `open()` counts the server's side. */
async function measure(child: ChildProcess, url: string, n: number, open: () => number): Promise<PerConnection> {
  const before = collected();
  await ask(child, { cmd: 'connect', url, n }, 'connected');
  await settle(() => open() === n, 30_000);
  const after = collected();
  if (open() !== n) throw new Error(`idle: ${open()} of ${n} connections open on the server`);
  await ask(child, { cmd: 'close' }, 'closed');
  await settle(() => open() === 0, 30_000);
  const heap = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.external + m.arrayBuffers;
  return { rss: (after.rss - before.rss) / n, heap: (heap(after) - heap(before)) / n };
}

async function bareWs(child: ChildProcess, n: number): Promise<PerConnection> {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    return await measure(child, `ws://127.0.0.1:${port}/`, n, () => wss.clients.size);
  } finally {
    wss.close();
    server.close();
  }
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

/** Runs part 3 with `n` idle connections. */
export async function idleConnections(app: BenchApp, child: ChildProcess, n: number): Promise<PartResult> {
  if (n === 0) return { part: 'idle connections', figure: 'skipped (RELIABILITY_IDLE=0)', expected: '-', ok: true };
  const started = performance.now();
  const sb = await measure(child, `${app.base}ws/json/`, n, () => app.server.stats.connectionsOpen);
  const seconds = (performance.now() - started) / 1000;
  const bare = await bareWs(child, n);
  // At a few hundred connections RSS moves by whole pages either way: no ratio then.
  const ratio = (a: number, b: number): string => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
  console.log(`idle: ${count(n)} connections (open, measured, closed in ${seconds.toFixed(1)} s): switchboard ${kb(sb.rss)} RSS, ${kb(sb.heap)} heap/connection`);
  console.log(`idle: bare ws ${kb(bare.rss)} RSS, ${kb(bare.heap)} heap/connection; ratio RSS ${ratio(sb.rss, bare.rss)}, heap ${ratio(sb.heap, bare.heap)}`);
  return { part: 'idle connections', figure: `${count(n)} open; ${kb(sb.rss)} RSS/conn; heap ${ratio(sb.heap, bare.heap)} bare ws`, expected: 'all open at once', ok: true };
}
