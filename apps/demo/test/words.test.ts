/** WordStreamConsumer and SimulatedSensorConsumer: timed streams that stop with the socket. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as randomWords from 'random-words';
import { InMemoryChannelLayer, URLRouter, type WebsocketTarget } from 'switchboard';
import { WebsocketCommunicator, waitFor } from 'switchboard/testing';
import { SimulatedSensorConsumer } from '../consumers/iot.js';
import { WordStreamConsumer, randomWord, streamOptions } from '../consumers/words.js';
import { systemRoutes } from '../systems-routes.js';
import { MemoryGameStore } from '../game/game-store.js';
import { MemoryReadingsStore } from '../iot/readings-store.js';
import { connectClient } from '@switchboard/test-support';
import { startTestServer } from 'switchboard/testing';

/** Active `setTimeout`/`setInterval` handles in this process. */
function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** Every active resource (timers, sockets, servers, ...), counted by kind. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/** Whether no kind of resource is above its `baseline` count. */
function atMost(baseline: Record<string, number>): boolean {
  return Object.entries(activeResources()).every(([kind, n]) => n <= (baseline[kind] ?? 0));
}

// random-words 2.0.1 exports `wordList`; its index.d.ts declares `wordsList`, which does not exist.
const words = new Set((randomWords as unknown as { wordList: string[] }).wordList);
assert.ok(words.size > 1000, 'random-words exports its list as wordList');

describe('WordStreamConsumer', () => {
  const layer = new InMemoryChannelLayer();
  after(() => layer.close());

  async function open(consumer: WebsocketTarget, path = '/ws/any_url/'): Promise<WebsocketCommunicator> {
    const c = new WebsocketCommunicator(consumer, path, { channelLayer: layer });
    const result = await c.connect();
    assert.equal(result.accepted, true);
    return c;
  }

  it('sends a random word at once, then one every intervalMs', async () => {
    const Fast = WordStreamConsumer.with(streamOptions({ intervalMs: 20 }));
    const start = performance.now(); // before the consumer exists, so before its first timer
    const c = await open(Fast);
    const arrivals: number[] = [];
    for (let i = 0; i < 4; i++) {
      const frame = await c.receiveJson<{ message: string }>({ timeoutMs: 1000 });
      arrivals.push(performance.now());
      assert.deepEqual(Object.keys(frame), ['message']);
      assert.ok(words.has(frame.message), `${JSON.stringify(frame.message)} is from random-words' list`);
    }
    for (let i = 1; i < arrivals.length; i++) {
      // Word i cannot be sent before i intervals have passed (timers never fire early; 2 ms for
      // clock granularity). Only a lower bound: a busy test process may read words late and
      // then several at once, so the gaps between reads prove nothing.
      assert.ok(arrivals[i]! - start >= i * 20 - 2, `word ${i} arrived ${(arrivals[i]! - start).toFixed(1)} ms after the start`);
    }
    await c.disconnect();
  });

  it('stops after count words and keeps the connection open, idle', async () => {
    const baseline = activeTimeouts();
    const c = await open(WordStreamConsumer.with(streamOptions({ intervalMs: 5, count: 3 })));
    for (let i = 0; i < 3; i++) await c.receiveJson();
    assert.equal(await c.receiveNothing({ timeoutMs: 60 }), true);
    assert.equal(activeTimeouts(), baseline, 'no timer left once the stream ended');
    await c.disconnect();
  });

  it('stops the stream the moment the socket closes', async () => {
    const baseline = activeTimeouts();
    const c = await open(WordStreamConsumer.with(streamOptions({ intervalMs: 10 })));
    await c.receiveJson();
    await c.receiveJson();
    const consumer = c.consumer as WordStreamConsumer;
    assert.equal(activeTimeouts(), baseline + 1, 'one interval timer per connection');
    await c.disconnect();
    assert.equal(activeTimeouts(), baseline, 'the timer was cleared in disconnect()');
    const sent = consumer.sentCount;
    // A stopped stream stays stopped: still the same count several intervals later.
    await waitFor(() => activeTimeouts() === baseline, { timeoutMs: 100 });
    assert.equal(consumer.sentCount, sent);
  });

  it('leaves no timer behind after 1,000 connect/disconnect cycles', async () => {
    // Warm up once: lazily created process-wide handles are not per-connection leaks.
    const warm = await open(WordStreamConsumer);
    await warm.receiveJson();
    await warm.disconnect();
    const baseline = activeTimeouts();
    const baselineAll = activeResources();
    for (let i = 0; i < 1000; i++) {
      const c = await open(WordStreamConsumer); // default 2 s interval: the timer is pending at disconnect
      await c.receiveJson();
      await c.disconnect(i % 2 === 0 ? 1000 : 1001);
    }
    await waitFor(() => activeTimeouts() <= baseline, { timeoutMs: 2000, message: `Timeout handles back to ${baseline}` });
    assert.equal(activeTimeouts(), baseline);
    // No handle of any other kind either (immediates, promises of the layer, ...).
    await waitFor(() => atMost(baselineAll), { timeoutMs: 2000, message: `active resources back to ${JSON.stringify(baselineAll)}` });
  });

  it('rejects a configuration that would busy-loop or never send', () => {
    assert.throws(() => streamOptions({ intervalMs: 0 }), RangeError);
    assert.throws(() => streamOptions({ count: -1 }), RangeError);
    assert.throws(() => streamOptions({ count: 1.5 }), RangeError);
    assert.deepEqual(streamOptions(), { intervalMs: 2000, count: 100 }, 'the seed\'s pace by default');
  });

  it('draws words from the random-words list', () => {
    for (let i = 0; i < 50; i++) assert.ok(words.has(randomWord()));
  });
});

describe('SimulatedSensorConsumer', () => {
  it('sends {"data": <integer 0..100>} at the interval, as the seed', async () => {
    const c = new WebsocketCommunicator(SimulatedSensorConsumer.with(streamOptions({ intervalMs: 5, count: 20 })), '/ws/two_url/', { channelLayer: null });
    assert.equal((await c.connect()).accepted, true);
    for (let i = 0; i < 20; i++) {
      const frame = await c.receiveJson<{ data: number }>();
      assert.deepEqual(Object.keys(frame), ['data']);
      assert.ok(Number.isInteger(frame.data) && frame.data >= 0 && frame.data <= 100, `data ${frame.data}`);
    }
    assert.equal(await c.receiveNothing({ timeoutMs: 30 }), true);
    await c.disconnect();
  });
});

describe('word stream over a real socket', () => {
  it('pushes words on ws/any_url/ and ws/words/ and stops when the client goes away', async () => {
    const routes = systemRoutes({
      readingsStore: new MemoryReadingsStore(),
      gameStore: new MemoryGameStore(),
      wordStream: { intervalMs: 10 },
    });
    const server = await startTestServer(new URLRouter(routes));
    try {
      const baseline = activeTimeouts();
      for (const path of ['/ws/any_url/', '/ws/words/']) {
        const client = await connectClient(`${server.url}${path}`);
        await waitFor(() => client.messages.length >= 3, { message: `3 words on ${path}` });
        for (const m of client.messages) assert.ok(words.has((JSON.parse(m) as { message: string }).message));
        client.ws.close();
        await client.closed;
      }
      // The server runs disconnect() once it sees the close: the interval timers are gone.
      await waitFor(() => server.server.stats.connectionsOpen === 0 && activeTimeouts() <= baseline, { message: 'server-side timers cleared' });
    } finally {
      await server.close();
    }
  });

  it('leaves no handle behind after 1,000 connect/disconnect cycles over real sockets', async () => {
    // A word a minute: every connection closes with its interval timer pending, and a leaked timer
    // would still be there when the check below gives up (it would not fire and stop itself).
    const routes = systemRoutes({ readingsStore: new MemoryReadingsStore(), gameStore: new MemoryGameStore(), wordStream: { intervalMs: 60_000 } });
    const server = await startTestServer(new URLRouter(routes));
    try {
      const cycle = async (): Promise<void> => {
        const client = await connectClient(`${server.url}/ws/any_url/`);
        await waitFor(() => client.messages.length >= 1, { message: 'the first word' });
        client.ws.close();
        await client.closed;
      };
      await cycle(); // warm-up: process-wide handles created once are not per-connection leaks
      await waitFor(() => server.server.stats.connectionsOpen === 0);
      const baseline = activeResources();
      const started = performance.now();
      for (let i = 0; i < 1000; i++) await cycle();
      await waitFor(() => server.server.stats.connectionsOpen === 0 && atMost(baseline), {
        timeoutMs: 2000,
        message: `active resources back to ${JSON.stringify(baseline)}, now ${JSON.stringify(activeResources())}`,
      });
      assert.ok(performance.now() - started < 60_000);
    } finally {
      await server.close();
    }
  });
});
