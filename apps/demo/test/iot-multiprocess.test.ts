/**
 * IoT across processes over Redis: two layers in one test process with nothing shared in memory,
 * then two real demo processes (the ingesting one and the page-serving one).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { after, before, describe, it } from 'node:test';
import { URLRouter } from 'switchboard';
import { RedisChannelLayer } from 'switchboard/redis';
import { WebsocketCommunicator, waitFor } from 'switchboard/testing';
import { WebSocket } from 'ws';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { type HistoryFrame, type ReadingFrame } from '../consumers/iot.js';
import { MemoryGameStore } from '../game/game-store.js';
import { RedisReadingsStore } from '../iot/readings-store.js';
import { systemRoutes } from '../systems-routes.js';
import { REDIS_URL, redisAvailable } from '@switchboard/test-support';
import { SERVER_JS, DEMO_CLI } from './paths.js';
import { API_KEY, apiApp, auth } from './iot-fixtures.js';

describe('IoT across two processes over Redis', { skip: !redisAvailable() && `Redis unreachable at ${REDIS_URL}` }, () => {
  // Two layers and two Redis clients with nothing shared in memory: process A ingests, process
  // B serves the page.
  const prefix = `sbtest${randomUUID().slice(0, 8)}:`;
  let layerA: RedisChannelLayer;
  let layerB: RedisChannelLayer;
  let redisA: Redis;
  let redisB: Redis;
  let app: FastifyInstance;
  const open: WebsocketCommunicator[] = [];
  before(async () => {
    layerA = await RedisChannelLayer.fromUrl(REDIS_URL, { prefix });
    layerB = await RedisChannelLayer.fromUrl(REDIS_URL, { prefix });
    redisA = new Redis(REDIS_URL);
    redisB = new Redis(REDIS_URL);
    app = await apiApp(layerA, new RedisReadingsStore(redisA, { prefix }));
  });
  after(async () => {
    await Promise.all(open.map((c) => c.disconnect()));
    await app.close();
    await new RedisReadingsStore(redisA, { prefix }).clear();
    await layerA.flush();
    await Promise.all([layerA.close(), layerB.close(), redisA.quit(), redisB.quit()]);
  });

  it('delivers a reading posted to process A to a page on process B, and B serves it as history', async () => {
    const routerB = new URLRouter(systemRoutes({ readingsStore: new RedisReadingsStore(redisB, { prefix }), gameStore: new MemoryGameStore() }));
    const page = new WebsocketCommunicator(routerB, '/ws/iot/shared/', { channelLayer: layerB });
    open.push(page);
    assert.equal((await page.connect()).accepted, true);
    assert.deepEqual((await page.receiveJson<HistoryFrame>()).readings, []);
    // B's subscription to the group may take a moment to reach Redis: post until one arrives.
    let value = 0;
    await waitFor(
      async () => {
        const res = await app.inject({ method: 'POST', url: '/api/iot/shared/readings', headers: { 'content-type': 'application/json', ...auth }, payload: JSON.stringify({ value: ++value }) });
        assert.equal(res.statusCode, 200);
        return !(await page.receiveNothing({ timeoutMs: 50 }));
      },
      { timeoutMs: 3000, message: 'a reading crossed from A to B' },
    );
    const live = await page.receiveJson<ReadingFrame>();
    assert.equal(live.type, 'reading');
    assert.equal(live.sensor, 'shared');
    const late = new WebsocketCommunicator(routerB, '/ws/iot/shared/', { channelLayer: layerB });
    open.push(late);
    assert.equal((await late.connect()).accepted, true);
    const history = await late.receiveJson<HistoryFrame>();
    assert.equal(history.readings.length, value);
    assert.deepEqual(history.readings.map((r) => r.value), Array.from({ length: value }, (_, i) => i + 1));
  });
});

describe('IoT across two demo processes over Redis (real processes)', { skip: !redisAvailable() && `Redis unreachable at ${REDIS_URL}` }, () => {
  // Process A: `node dist/demo/server.js` in a child process, where sensors post. Process B: the
  // demo started in this process, where the page watches. They share only Redis.
  const sensor = `xproc-${randomUUID().slice(0, 8)}`;
  const publishKey = 'publish-xproc-key-0123456789abcdef';
  let dir: string;
  let a: ChildProcess | undefined;
  let aOutput = '';
  let aUrl: string;
  let b: RunningDemo;
  const sockets: WebSocket[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-iot-xproc-'));
    a = spawn(process.execPath, [SERVER_JS], {
      cwd: dir,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', CHANNEL_LAYER_URL: REDIS_URL, IOT_API_KEY: API_KEY, SWITCHBOARD_API_KEY: publishKey, LOG_LEVEL: 'warn',
        DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'test-secret-key-0123456789abcdef-0123' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    a.stdout!.on('data', (chunk: Buffer) => (aOutput += chunk.toString()));
    a.stderr!.on('data', (chunk: Buffer) => (aOutput += chunk.toString()));
    aUrl = await waitFor(
      () => {
        if (a!.exitCode !== null) throw new Error(`process A exited with ${a!.exitCode}:\n${aOutput}`);
        return /Switchboard demo on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(aOutput)?.[1];
      },
      { timeoutMs: 15_000, intervalMs: 20, message: 'process A printed its URL' },
    );
    b = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'test-secret-key-0123456789abcdef-0123', CHANNEL_LAYER_URL: REDIS_URL }), { systems: { iotApiKey: API_KEY, gameBoardSize: 20 }, apiKey: publishKey });
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await b?.close();
    if (a !== undefined && a.exitCode === null) {
      const exited = once(a, 'exit');
      a.kill('SIGTERM');
      await exited;
    }
    const redis = new Redis(REDIS_URL);
    await redis.del(`sb:demo:iot:${sensor}:readings`, `sb:demo:iot:${sensor}:seq`);
    await redis.quit();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A page's socket on process B, keeping the frames. */
  async function pageOnB(): Promise<{ frames: Array<HistoryFrame | ReadingFrame>; ws: WebSocket }> {
    const ws = new WebSocket(new URL(`ws/iot/${sensor}/`, b.url.replace(/^http/, 'ws')));
    sockets.push(ws);
    const frames: Array<HistoryFrame | ReadingFrame> = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as HistoryFrame | ReadingFrame));
    await once(ws, 'open');
    await waitFor(() => frames.length >= 1, { message: 'the history frame' });
    assert.equal(frames[0]!.type, 'history');
    return { frames, ws };
  }

  const postToA = async (value: number): Promise<void> => {
    const res = await fetch(new URL(`api/iot/${sensor}/readings`, aUrl), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    assert.equal(res.status, 200, await res.text());
  };

  it('delivers readings POSTed to process A to a page on process B, and B serves them as history', async (t) => {
    const page = await pageOnB();
    assert.deepEqual((page.frames[0] as HistoryFrame).readings, []);
    const readings = () => page.frames.filter((f): f is ReadingFrame => f.type === 'reading');
    // B joined the group before accepting; still, post until the first reading crosses.
    let value = 0;
    await waitFor(
      async () => {
        await postToA(++value);
        return waitFor(() => readings().length > 0, { timeoutMs: 200 }).then(() => true, () => false);
      },
      { timeoutMs: 5_000, intervalMs: 0, message: 'a reading crossed from A to B' },
    );
    // Then time each hop: POST to A → frame on B's socket.
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const expected = readings().length + 1;
      const started = performance.now();
      await postToA(++value);
      await waitFor(() => readings().length >= expected, { timeoutMs: 1_000, intervalMs: 1, message: `reading ${value} on B` });
      latencies.push(performance.now() - started);
    }
    latencies.sort((x, y) => x - y);
    t.diagnostic(`POST to process A → frame on process B: median ${latencies[5]!.toFixed(1)} ms, max ${latencies[9]!.toFixed(1)} ms (10 readings)`);
    assert.deepEqual(readings().map((r) => r.value), Array.from({ length: value }, (_, i) => i + 1).slice(value - readings().length));
    assert.deepEqual(readings().map((r) => r.seq), readings().map((r) => r.value), 'numbered by the shared store');

    const late = await pageOnB();
    assert.deepEqual((late.frames[0] as HistoryFrame).readings.map((r) => r.value), Array.from({ length: value }, (_, i) => i + 1));
  });

  it('carries readings from `switchboard simulate-sensor` (a third process) through A to B', async () => {
    const page = await pageOnB();
    const before = (page.frames[0] as HistoryFrame).readings.length;
    const run = await new Promise<{ code: number | null; stderr: string }>((resolvePromise) => {
      execFile(
        process.execPath,
        [DEMO_CLI, 'simulate-sensor', '--sensor', sensor, '--rate', '20', '--count', '3', '--url', aUrl],
        { env: { ...process.env, IOT_API_KEY: API_KEY }, timeout: 30_000 },
        (err, _stdout, stderr) => resolvePromise({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stderr }),
      );
    });
    assert.equal(run.code, 0, run.stderr);
    const live = await waitFor(() => page.frames.length >= 4 && (page.frames.slice(1) as ReadingFrame[]), { timeoutMs: 2_000, message: 'three readings on B' });
    assert.deepEqual(live.map((r) => r.seq), [before + 1, before + 2, before + 3]);
  });
});
