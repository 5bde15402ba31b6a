/**
 * What `npm start` prints per request and WebSocket event: one line each in a terminal (run under
 * util-linux `script`, which gives the server a pseudo-terminal), JSON lines otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from 'switchboard/testing';
import { connectClient } from '@switchboard/test-support';
import { DEMO_CLI } from './paths.js';

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const ENV = { LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'logs-test-secret-0123456789abcdefgh', SWITCHBOARD_API_KEY: 'logs-test-api-key-0123456789' };

/** Strips colours and carriage returns (a pseudo-terminal turns `\n` into `\r\n`). */
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');

/** Two pages and one WebSocket that sends a message and closes: 2 HTTP lines, 3 WebSocket lines. */
async function traffic(url: string): Promise<void> {
  assert.equal((await fetch(url)).status, 200);
  assert.equal((await fetch(new URL('/chat/', url))).status, 200);
  const client = await connectClient(`${url.replace(/^http/, 'ws')}ws/chat/lobby/`);
  client.ws.send(JSON.stringify({ message: 'hello' }));
  await waitFor(() => client.messages.length === 1, { message: 'the message came back' });
  client.ws.close(1000);
  await client.closed;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(-child.pid!, 'SIGTERM'); // the process group: `script` and the server under it
  await exited;
}

describe('npm start logs', () => {
  it('prints one line per request and per WebSocket event in a terminal', { skip: hasScript ? false : 'util-linux script is not installed' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-logs-'));
    const file = join(dir, 'terminal.txt');
    const child = spawn('script', ['-q', '-f', '-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(DEMO_CLI)} serve`, file], {
      cwd: dir,
      env: { ...process.env, ...ENV },
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
    });
    try {
      const read = async (): Promise<string> => plain(await readFile(file, 'utf8').catch(() => ''));
      const url = await waitFor(async () => /Switchboard demo on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(await read())?.[1], { timeoutMs: 15_000, message: 'the URL was printed' });
      await traffic(url);
      const text = await waitFor(async () => {
        const t = await read();
        return /WebSocket DISCONNECT/.test(t) && t;
      }, { timeoutMs: 5_000, message: 'the DISCONNECT line' });
      const lines = text.split('\n');
      const access = lines.filter((l) => / (HTTP|WebSocket) /.test(l));
      assert.deepEqual(
        access.map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] INFO: /, '').replace(/\[[^\]]*\]/g, '[…]').replace(/ code=\d+/, '')),
        ['HTTP GET / 200 […]', 'HTTP GET /chat/ 200 […]', 'WebSocket HANDSHAKING /ws/chat/lobby/ […]', 'WebSocket CONNECT /ws/chat/lobby/ […]', 'WebSocket DISCONNECT /ws/chat/lobby/ […]'],
        `one line each, Daphne's words:\n${text}`,
      );
      for (const line of access) assert.match(line, /^\[\d\d:\d\d:\d\d\] INFO: (HTTP|WebSocket) /, `starts a line of its own: ${JSON.stringify(line)}`);
      // No field dumps under the lines (pino-pretty's default prints every field again, indented).
      const from = lines.findIndex((l) => l.includes('HTTP GET / 200'));
      assert.deepEqual(lines.slice(from).filter((l) => l.trim() !== '' && !/^\[\d\d:\d\d:\d\d\] [A-Z]+: /.test(l)), [], text);
    } finally {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints JSON lines when stdout is not a terminal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-logs-'));
    const child = spawn(process.execPath, [DEMO_CLI, 'serve'], { cwd: dir, env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const url = await waitFor(() => /Switchboard demo on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1], { timeoutMs: 15_000, message: 'the URL was printed' });
      await traffic(url);
      await waitFor(() => out.includes('WebSocket DISCONNECT'), { timeoutMs: 5_000, message: 'the DISCONNECT line' });
      const events = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; http?: string; ws?: string });
      assert.deepEqual(events.filter((e) => e.http !== undefined).map((e) => e.msg.replace(/ \[.*$/, '')), ['HTTP GET / 200', 'HTTP GET /chat/ 200']);
      assert.deepEqual(events.filter((e) => e.ws !== undefined).map((e) => e.ws), ['HANDSHAKING', 'CONNECT', 'DISCONNECT']);
    } finally {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
