/**
 * The whole demo through a Redis outage (issue 3: "the process keeps serving its local
 * connections"): the demo runs on a private redis-server (layer, presence, history, IoT and dice
 * stores all on it), Redis is killed by PID mid-conversation, chat goes on between the clients of
 * this process, Redis comes back, and chat flows again with no crash; a client that asked for
 * recovery (`since=`) is told to reconnect with 1012 and gets what it missed.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { waitFor } from 'switchboard/testing';
import { startDemo, type RunningDemo } from '../../app.js';
import { loadConfig } from '../../config.js';
import { chatFrames } from '../chat-frames.js';
import { connectClient, type TestClient } from '@switchboard/test-support';
import { freePort, startRedisServer, stopProcess } from '@switchboard/test-support';
import { redisAvailable } from '@switchboard/test-support';

const skip = redisAvailable() ? false : 'redis-server is needed (set REQUIRE_SERVICES=1 to fail instead)';

const frames = chatFrames;
const said = (c: TestClient): string[] => frames(c).filter((f) => typeof f.message === 'string').map((f) => f.message!);

describe('the demo through a Redis outage', { skip }, () => {
  let redis: ChildProcess | undefined;
  let port: number;
  let demo: RunningDemo;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => void unhandled.push(err);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    port = await freePort();
    redis = await startRedisServer(port);
    demo = await startDemo(
      loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'outage-test-secret-0123456789abcdef', CHANNEL_LAYER_URL: `redis://127.0.0.1:${port}/0` }),
      { apiKey: 'outage-test-api-key-0123456789', redisPrefix: 'sb:outage:' },
    );
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await demo?.close();
    if (redis) await stopProcess(redis);
  });

  it('keeps local chat going while Redis is down, and recovers after it is back', async () => {
    const room = `${demo.url.replace('http', 'ws')}ws/chat/outage/`;
    const seed = await connectClient(room); // seed protocol: no since
    const sdk = await connectClient(`${room}?since=`); // what the SDK sends on a first open
    await waitFor(() => frames(sdk).some((f) => f.type === 'switchboard.history'), { message: 'the SDK-style client got its position' });

    seed.ws.send(JSON.stringify({ message: 'before' }));
    await waitFor(() => said(seed).includes('before') && said(sdk).includes('before'), { message: 'both got "before"' });
    const last = frames(sdk).filter((f) => f.message === 'before')[0]!;
    assert.equal(typeof last.offset, 'number', 'live events carry a position');

    await stopProcess(redis!);
    seed.ws.send(JSON.stringify({ message: 'during' }));
    await waitFor(() => said(seed).includes('during') && said(sdk).includes('during'), { timeoutMs: 5_000, message: 'local members still get "during"' });
    assert.equal(seed.ws.readyState, seed.ws.OPEN, 'the sender was not closed');

    redis = await startRedisServer(port);
    // After the layer reconnects, the client that asked for recovery is told to come back...
    const closed = await sdk.closed;
    assert.equal(closed.code, 1012, `closed with ${closed.code} ${closed.reason}`);
    // ...and the seed client is left alone, and chat flows again.
    seed.ws.send(JSON.stringify({ message: 'after' }));
    await waitFor(() => said(seed).includes('after'), { timeoutMs: 10_000, message: 'chat flows again after the restart' });

    // It comes back with its last position: the restarted Redis lost the history (new epoch), so
    // it is told recovered: false and gets the stored messages from the database instead.
    const back = await connectClient(`${room}?since=${encodeURIComponent(`${last.epoch}:${last.offset}`)}`);
    await waitFor(() => said(back).includes('after'), { timeoutMs: 5_000, message: 'the stored messages after recovered: false' });
    const control = frames(back).find((f) => f.type === 'switchboard.history')!;
    assert.equal(control.recovered, false);
    assert.deepEqual(said(back), ['before', 'during', 'after']);
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
    for (const c of [seed, back]) c.ws.close();
  });
});
