/**
 * `npm run bench:reliability`: the fault-and-load figures of issue 10, repeated in one run on one
 * SwitchboardServer (in-memory layer, consumers in bench/reliability/app.ts), one result line
 * per part, then a table (docs/reliability.md):
 *
 * 1. fuzz with a bystander (bench/reliability/fuzz.ts): malformed frames over every route;
 * 2. churn (bench/reliability/churn.ts): connect/disconnect cycles, then heap, handles and fds;
 * 3. idle connections (bench/reliability/idle.ts): memory per connection, against bare `ws`;
 * 4. the burst (bench/reliability/burst.ts): busy senders get every message of the room.
 *
 * Options (env, whole numbers): RELIABILITY_FUZZ_FRAMES (20000), RELIABILITY_FUZZ_CLIENTS (8),
 * RELIABILITY_CHURN (4000), RELIABILITY_IDLE (15000; 0 skips), RELIABILITY_BURST_MEMBERS (10),
 * RELIABILITY_BURST_MESSAGES (30), RELIABILITY_BURST_DELAY_MS (20).
 * Exit code 0 when every part holds, 1 when one does not.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBenchApp } from './reliability/app.js';
import { burst } from './reliability/burst.js';
import { churn } from './reliability/churn.js';
import { fuzzWithBystander } from './reliability/fuzz.js';
import { idleConnections } from './reliability/idle.js';
import { envCount, type PartResult } from './reliability/util.js';

const FUZZ_FRAMES = envCount('RELIABILITY_FUZZ_FRAMES', 20_000);
const FUZZ_CLIENTS = Math.max(1, envCount('RELIABILITY_FUZZ_CLIENTS', 8));
const CHURN = envCount('RELIABILITY_CHURN', 4_000);
const IDLE = envCount('RELIABILITY_IDLE', 15_000);
const BURST_MEMBERS = Math.max(1, envCount('RELIABILITY_BURST_MEMBERS', 10));
const BURST_MESSAGES = Math.max(1, envCount('RELIABILITY_BURST_MESSAGES', 30));
const BURST_DELAY_MS = envCount('RELIABILITY_BURST_DELAY_MS', 20);

/** Runs one part; a part that throws is a failed row, and the next part still runs. */
async function run(part: string, fn: () => Promise<PartResult>): Promise<PartResult> {
  try {
    return await fn();
  } catch (err) {
    console.log(`${part}: failed: ${(err as Error).stack ?? String(err)}`);
    return { part, figure: `threw ${(err as Error).message}`, expected: '-', ok: false };
  }
}

function table(results: readonly PartResult[]): void {
  const rows = [['part', 'figure', 'expected', 'result'], ...results.map((r) => [r.part, r.figure, r.expected, r.ok ? 'ok' : 'FAIL'])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const print = (row: readonly string[]): void => console.log(`| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
  console.log('');
  print(rows[0]!);
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows.slice(1)) print(row);
}

async function main(): Promise<number> {
  console.log(`reliability: fuzz ${FUZZ_FRAMES} frames × ${FUZZ_CLIENTS} clients, churn ${CHURN}, idle ${IDLE}, burst ${BURST_MEMBERS}×${BURST_MESSAGES} at ${BURST_DELAY_MS} ms (Node ${process.version})`);
  const app = await startBenchApp({ burstDelayMs: BURST_DELAY_MS });
  const child = fork(fileURLToPath(new URL('./clients.js', import.meta.url)), { stdio: 'inherit' });
  const results: PartResult[] = [];
  try {
    results.push(await run('fuzz with a bystander', () => fuzzWithBystander(app, FUZZ_FRAMES, FUZZ_CLIENTS)));
    results.push(await run('churn', () => churn(app, CHURN)));
    results.push(await run('idle connections', () => idleConnections(app, child, IDLE)));
    results.push(await run('burst (busy senders)', () => burst(app, BURST_MEMBERS, BURST_MESSAGES, BURST_DELAY_MS)));
  } finally {
    child.send({ cmd: 'exit' });
    await app.close();
  }
  table(results);
  return results.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = await main();
