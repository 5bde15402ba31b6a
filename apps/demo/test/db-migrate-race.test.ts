/**
 * Several processes starting on one SQLite file (the multi-process demo without PostgreSQL) race
 * to migrate it; every one of them must come up, none with "table already exists".
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

const DATABASE_JS = pathToFileURL(resolve(import.meta.dirname, '../db/database.js')).href;

/** A process that opens (and so migrates) `file`, then exits 0, or 1 with the error. */
async function openInChild(file: string): Promise<{ code: number | null; output: string }> {
  const script = `const { openDatabase } = await import(${JSON.stringify(DATABASE_JS)});
const database = await openDatabase(${JSON.stringify(`sqlite:${file}`)});
await database.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

/**
 * A worker that, for each round, waits at a barrier (a shared counter) until every worker has
 * arrived, then opens `<dir>/round-<r>.sqlite3` without migrating: all its peers open the same
 * fresh file within microseconds, which child processes (tens of ms apart) rarely manage. Posts
 * the error messages it met.
 */
const BARRIER_WORKER = `const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { openDatabase } = await import(workerData.databaseJs);
  const arrived = new Int32Array(workerData.counter);
  const errors = [];
  for (let round = 0; round < workerData.rounds; round++) {
    Atomics.add(arrived, 0, 1);
    while (Atomics.load(arrived, 0) < workerData.workers * (round + 1)) {}
    try {
      const database = await openDatabase('sqlite:' + workerData.dir + '/round-' + round + '.sqlite3', { migrate: false });
      await database.close();
    } catch (err) {
      errors.push(err.message);
    }
  }
  parentPort.postMessage(errors);
})();`;

describe('SQLite migrations from several processes at once', () => {
  it('switch a fresh file to WAL from several connections at the same instant', async () => {
    // Two connections switching one fresh file to WAL: the one that already holds a read lock
    // gets SQLITE_BUSY at once (no busy handler there); without a retry about 1 open in 500 failed here.
    const dir = await mkdtemp(join(tmpdir(), 'sb-wal-race-'));
    try {
      const workers = 6;
      const counter = new SharedArrayBuffer(4);
      const results = await Promise.all(
        Array.from({ length: workers }, async () => {
          const worker = new Worker(BARRIER_WORKER, { eval: true, workerData: { databaseJs: DATABASE_JS, counter, dir, rounds: 150, workers } });
          const [errors] = (await once(worker, 'message')) as [string[]];
          return errors;
        }),
      );
      assert.deepEqual(results.flat(), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('bring every process up on the same fresh file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-migrate-race-'));
    try {
      for (let round = 0; round < 4; round++) {
        const file = join(dir, `round-${round}.sqlite3`);
        const results = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => openInChild(file)));
        for (const { code, output } of results) assert.equal(code, 0, `round ${round}: ${output}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
