/**
 * Checkpoints between a harness under callgrind and bench/profile/count.ts: with
 * `PROFILE_SYNC_DIR` set, `checkpoint('warm')` writes `<dir>/warm` and spins until count.ts has
 * zeroed the counters (`callgrind_control --zero`) and written `<dir>/warm.ok`; `checkpoint('done')`
 * waits the same way for the dump. It naps 1 ms at a time but keeps running code, which is when
 * callgrind reads its control commands; the loops counted after the zero (about 10 k instructions
 * per millisecond waited) are noise below 0.5 % of a 100,000-delivery run.
 * Without `PROFILE_SYNC_DIR` it returns at once.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { tell } from './ipc.js';

export function checkpoint(name: string): void {
  const dir = process.env.PROFILE_SYNC_DIR;
  if (dir === undefined) return;
  writeFileSync(join(dir, name), '');
  const ok = join(dir, `${name}.ok`);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(ok)) Atomics.wait(sleeper, 0, 0, 1); // 1 ms naps: few instructions while waiting
}

/** Runs `warmup` then (between the `warm` and `done` checkpoints) `messages`, then ends both processes. */
export async function measured(child: ChildProcess, run: (count: number) => Promise<void>, warmup: number, messages: number): Promise<never> {
  await run(warmup);
  checkpoint('warm');
  await run(messages);
  checkpoint('done');
  tell(child, { cmd: 'exit' });
  process.exit(0);
}
