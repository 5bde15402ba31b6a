/**
 * `switchboard simulate-sensor` as a separate process: it feeds the demo's ingestion API and a
 * page watching `ws/iot/<sensor>/` sees the readings; Ctrl-C stops it cleanly; a wrong key, a
 * server without ingestion and an unreachable server exit 1 with a clear message; bad arguments
 * exit 2 before anything is posted.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { waitFor } from 'switchboard/testing';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { freePort } from '@switchboard/test-support';
import { DEMO_ROOT, DEMO_CLI } from './paths.js';

const ROOT = DEMO_ROOT;
const CLI = DEMO_CLI;
const IOT_KEY = 'iot-cli-test-key-0123456789abcdef';
const PUBLISH_KEY = 'publish-cli-test-key-0123456789';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child: ours without the variables the CLI reads. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of ['IOT_API_KEY', 'PORT', 'HOST']) delete base[name];
  return { ...base, ...env };
}

/** Runs `switchboard simulate-sensor <args>` to completion. */
function simulate(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [CLI, 'simulate-sensor', ...args], { env: childEnv(env), cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

interface Frame {
  type: string;
  sensor: string;
  seq?: number;
  value?: number;
  ts?: string;
  readings?: Frame[];
}

/** A page's socket on `ws/iot/<sensor>/`, keeping the frames; resolves once the history arrived. */
async function watch(demo: RunningDemo, sensor: string): Promise<{ frames: Frame[]; ws: WebSocket }> {
  const ws = new WebSocket(new URL(`ws/iot/${sensor}/`, demo.url.replace(/^http/, 'ws')));
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
  await once(ws, 'open');
  await waitFor(() => frames.length >= 1, { message: 'the history frame' });
  assert.equal(frames[0]!.type, 'history');
  return { frames, ws };
}

describe('switchboard simulate-sensor', () => {
  let demo: RunningDemo;
  const sockets: WebSocket[] = [];

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'test-secret-key-0123456789abcdef-0123' }), { systems: { iotApiKey: IOT_KEY, gameBoardSize: 20 }, apiKey: PUBLISH_KEY });
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await demo?.close();
  });

  it('posts --count readings that reach a page watching ws/iot/<sensor>/, and exits 0', async () => {
    const page = await watch(demo, 'cli-s1');
    sockets.push(page.ws);
    assert.deepEqual(page.frames[0]!.readings, []);
    const run = await simulate(['--sensor', 'cli-s1', '--rate', '20', '--count', '3', '--url', demo.url], { IOT_API_KEY: IOT_KEY });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /sensor cli-s1: posting 20 reading\(s\)\/s to http:\/\/127\.0\.0\.1:\d+\/api\/iot\/cli-s1\/readings, 3 reading\(s\)/);
    assert.match(run.stdout, /sensor cli-s1: sent 3 reading\(s\) in \d+\.\d s/);
    assert.equal(run.stderr, '');
    const readings = await waitFor(() => page.frames.length >= 4 && page.frames.slice(1), { timeoutMs: 2_000, message: 'three readings on the page' });
    assert.deepEqual(readings.map((f) => [f.type, f.sensor, f.seq]), [['reading', 'cli-s1', 1], ['reading', 'cli-s1', 2], ['reading', 'cli-s1', 3]]);
    for (const r of readings) {
      assert.ok(typeof r.value === 'number' && r.value >= 0 && r.value <= 100, `value ${r.value}`);
      assert.ok(Math.abs(Date.parse(r.ts!) - Date.now()) < 30_000, `ts ${r.ts}`);
    }
  });

  it('takes the key from --api-key and the server from PORT/HOST', async () => {
    const page = await watch(demo, 'cli-env');
    sockets.push(page.ws);
    const run = await simulate(['-s', 'cli-env', '-r', '50', '-n', '2', '--api-key', IOT_KEY], { PORT: String(demo.port), HOST: '127.0.0.1' });
    assert.equal(run.code, 0, run.stderr);
    await waitFor(() => page.frames.length >= 3, { timeoutMs: 2_000, message: 'two readings on the page' });
  });

  it('runs until SIGINT, then reports what it sent and exits 0', async () => {
    const page = await watch(demo, 'cli-sigint');
    sockets.push(page.ws);
    const child = spawn(process.execPath, [CLI, 'simulate-sensor', '--sensor', 'cli-sigint', '--rate', '10', '--url', demo.url], { env: childEnv({ IOT_API_KEY: IOT_KEY }), cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      await waitFor(() => page.frames.length >= 3, { timeoutMs: 5_000, message: 'readings arrive while it runs' });
      child.kill('SIGINT');
      const [code] = await exited;
      assert.equal(code, 0);
      const sent = Number(/sent (\d+) reading\(s\)/.exec(stdout)?.[1]);
      assert.ok(sent >= 2, stdout);
      await waitFor(() => page.frames.length - 1 === sent, { timeoutMs: 2_000, message: `the page got the ${sent} readings reported` });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exits 1 with a clear message when the key is wrong', async () => {
    const run = await simulate(['--sensor', 'cli-wrong', '--count', '1', '--url', demo.url], { IOT_API_KEY: 'wrong-key-0123456789abcdef' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: the server at http:\/\/127\.0\.0\.1:\d+ refused the API key \(401: wrong API key\); pass the server's IOT_API_KEY/);
    assert.doesNotMatch(run.stdout, /sent/);
  });

  it('exits 1 with a clear message when the server has ingestion off', async () => {
    const off = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'test-secret-key-0123456789abcdef-0123' }), { systems: { iotApiKey: undefined, gameBoardSize: 20 }, apiKey: PUBLISH_KEY });
    try {
      const run = await simulate(['--count', '1', '--url', off.url], { IOT_API_KEY: IOT_KEY });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /sensor ingestion is off on the server at .*: start it with IOT_API_KEY set/);
    } finally {
      await off.close();
    }
  });

  it('exits 1 with a clear message when the server is unreachable', async () => {
    const port = await freePort();
    const run = await simulate(['--count', '1', '--url', `http://127.0.0.1:${port}`], { IOT_API_KEY: IOT_KEY });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`cannot reach the Switchboard server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); start it with "npm start"`));
  });

  const usage: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['a rate of 0', ['--rate', '0'], { IOT_API_KEY: IOT_KEY }, /--rate <n>' argument '0' is invalid\. the rate is readings per second/],
    ['a rate that is not a number', ['--rate', 'fast'], { IOT_API_KEY: IOT_KEY }, /--rate <n>' argument 'fast' is invalid/],
    ['a rate over 10000', ['--rate', '20000'], { IOT_API_KEY: IOT_KEY }, /at most 10000/],
    ['a negative count', ['--count', '-1'], { IOT_API_KEY: IOT_KEY }, /--count <n>' argument '-1' is invalid/],
    ['a bad sensor name', ['--sensor', 'a.b'], { IOT_API_KEY: IOT_KEY }, /a sensor name is 1 to 64 characters/],
    ['a bad URL', ['--url', 'not a url'], { IOT_API_KEY: IOT_KEY }, /--url <url>' argument 'not a url' is invalid\. not a URL/],
    ['an unknown option', ['--sensr', 's1'], { IOT_API_KEY: IOT_KEY }, /unknown option '--sensr'/],
    ['no API key', ['--count', '1'], {}, /no API key: set IOT_API_KEY \(or pass --api-key\)/],
  ];
  for (const [what, args, env, message] of usage) {
    it(`exits 2 for ${what}, posting nothing`, async () => {
      const run = await simulate([...args, '--url', demo.url], env);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '', 'nothing was posted');
    });
  }
});
