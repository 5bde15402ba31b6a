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

describe('SQLite migrations from several processes at once', () => {
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
