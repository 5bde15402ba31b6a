/** `switchboard serve` (what `npm start` runs): flags over the environment, start, drain on SIGTERM. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from 'switchboard/testing';
import { serveEnvironment } from '../cli/serve.js';
import { DEMO_CLI } from './paths.js';

const CLI = DEMO_CLI;

function run(args: string[], cwd: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', SECRET_KEY: 'serve-test-secret-0123456789abcdef', SWITCHBOARD_API_KEY: 'serve-test-api-key-0123456789' };
  delete env['PORT'];
  delete env['CHANNEL_LAYER_URL'];
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  child.stdout.on('data', (d: Buffer) => (out.text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.text += d.toString()));
  return { child, out };
}

describe('switchboard serve', () => {
  it('lays flags over the environment', () => {
    const env = serveEnvironment({ port: '9001', databaseUrl: 'sqlite:x.db', allowedOrigins: 'https://a.example' }, { PORT: '8000', HOST: '0.0.0.0' });
    assert.equal(env.PORT, '9001');
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(env.DATABASE_URL, 'sqlite:x.db');
    assert.equal(env.ALLOWED_ORIGINS, 'https://a.example');
  });

  it('serves the demo on the flags given and exits 0 after draining on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-serve-'));
    try {
      const { child, out } = run(['--port', '0', '--host', '127.0.0.1', '--database-url', `sqlite:${join(dir, 'demo.sqlite3')}`], dir);
      const url = await waitFor(() => /Switchboard demo on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out.text)?.[1], { timeoutMs: 15_000, message: `the URL was printed:\n${out.text}` });
      const home = await fetch(url);
      assert.equal(home.status, 200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0, out.text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the flag in the error for a bad value, and exits 1 before listening', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-serve-'));
    try {
      const { child, out } = run(['--port', 'abc'], dir);
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 1);
      assert.match(out.text, /^error: --port: "abc" is not a whole number/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
