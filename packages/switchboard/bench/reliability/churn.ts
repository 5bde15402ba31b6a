/**
 * Part 2 of `npm run bench:reliability`: connect/disconnect cycles on `ws/feed/` (each joins and
 * leaves a group), `concurrency` at a time, then heap used, open handles and file descriptors
 * against their values before, once everything closed. A leak of a socket, a timer or a group
 * membership per connection shows here as a number that does not come back.
 */
import type { BenchApp } from './app.js';
import { closeClient, collected, count, openClient, openFds, settle, signed, type PartResult } from './util.js';

/** Heap growth after the cycles that still counts as "back at baseline". */
const HEAP_SLACK_BYTES = 4 * 1024 * 1024;

const handles = (): number => process.getActiveResourcesInfo().length;

async function cycles(app: BenchApp, n: number, concurrency: number): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      try {
        await closeClient(await openClient(`${app.base}ws/feed/`));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

/** Runs part 2: `n` cycles, `concurrency` at a time. */
export async function churn(app: BenchApp, n: number, concurrency = 50): Promise<PartResult> {
  if (n === 0) return { part: 'churn', figure: 'skipped (RELIABILITY_CHURN=0)', expected: '-', ok: true };
  await cycles(app, Math.min(n, 200), concurrency); // warm-up: lazily made state is not a leak
  const quiet = async (): Promise<boolean> => app.server.stats.connectionsOpen === 0 && (await app.layer.groupSize('feed')) === 0;
  await settle(quiet, 10_000);
  const before = { heap: collected().heapUsed, handles: handles(), fds: openFds() };
  const started = performance.now();
  const failed = await cycles(app, n, concurrency);
  const seconds = (performance.now() - started) / 1000;
  // Closed sockets go once both ends saw the close handshake: wait for the counts, not a guess.
  const settled = await settle(async () => (await quiet()) && handles() <= before.handles && openFds() <= before.fds, 15_000);
  const after = { heap: collected().heapUsed, handles: handles(), fds: openFds() };
  const heapDelta = after.heap - before.heap;
  const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
  console.log(`churn: ${count(n)} cycles in ${seconds.toFixed(1)} s (${count(Math.round(n / seconds))}/s), ${failed} failed`);
  console.log(`churn: heap ${mb(before.heap)} → ${mb(after.heap)} MB, handles ${before.handles} → ${after.handles}, fds ${before.fds} → ${after.fds}, connections open ${app.server.stats.connectionsOpen}`);
  const ok = failed === 0 && settled && after.handles <= before.handles && after.fds <= before.fds && heapDelta <= HEAP_SLACK_BYTES;
  return {
    part: 'churn',
    figure: `${count(n)} cycles; heap ${signed(heapDelta / 1024 / 1024, 1)} MB, handles ${signed(after.handles - before.handles)}, fds ${signed(after.fds - before.fds)}`,
    expected: `handles, fds back; heap within ${mb(HEAP_SLACK_BYTES)} MB`,
    ok,
  };
}
