import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pino from 'pino';
import { ChannelFullError, LayerClosedError } from '../../src/errors.js';
import { DEFAULT_LAYER_OPTIONS, type LayerMessage } from '../../src/layers/channel-layer.js';
import { InMemoryChannelLayer, type InMemoryChannelLayerOptions, type LayerLogger } from '../../src/layers/in-memory.js';
import { runChannelLayerConformance } from '../../src/testing/layer-conformance.js';

runChannelLayerConformance('in-memory', () => new InMemoryChannelLayer(), {
  factoryWithOptions: (options) => new InMemoryChannelLayer(options),
});

/** A fake pino logger that records `warn` calls. */
function fakeLogger(): LayerLogger & { calls: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const calls: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return {
    calls,
    warn(obj, msg) {
      calls.push({ obj: obj as Record<string, unknown>, msg });
    },
  };
}

describe('InMemoryChannelLayer', () => {
  const layers: InMemoryChannelLayer[] = [];
  const open = (options?: InMemoryChannelLayerOptions): InMemoryChannelLayer => {
    const layer = new InMemoryChannelLayer(options);
    layers.push(layer);
    return layer;
  };
  after(async () => {
    for (const layer of layers) await layer.close();
  });

  it('delivers the sender\'s own object, frozen, to every member of a groupSend', async () => {
    const layer = open();
    const got: LayerMessage[][] = [[], [], []];
    for (const inbox of got) {
      const channel = await layer.newChannel();
      layer.attach(channel, (m) => inbox.push(m) > 0);
      await layer.groupAdd('room', channel);
    }
    const queued = 'worker.queued';
    await layer.groupAdd('room', queued);
    const message = { type: 'chat.message', payload: { text: 'hi' } };
    const result = await layer.groupSend('room', message);
    assert.deepEqual(result, { recipients: 4, dropped: 0 });
    for (const inbox of got) assert.equal(inbox[0], message, 'not a copy');
    assert.equal(await layer.receive(queued), message, 'the queued member gets the same object');
    assert.ok(Object.isFrozen(message), 'the top level is frozen');
    assert.ok(!Object.isFrozen(message.payload), 'nested objects are not deep-frozen (no deep work per send)');
  });

  it('delivers synchronously to attached receivers, inside groupSend and send', async () => {
    const layer = open();
    const channel = await layer.newChannel();
    const got: LayerMessage[] = [];
    layer.attach(channel, (m) => got.push(m) > 0);
    await layer.groupAdd('g', channel);
    const pending = layer.groupSend('g', { type: 'a' });
    assert.equal(got.length, 1, 'delivered before the promise settles');
    await pending;
    const sent = layer.send(channel, { type: 'b' });
    assert.equal(got.length, 2);
    await sent;
  });

  it('refuses out-of-range options with RangeError and a wrong type with TypeError', () => {
    for (const bad of [
      { capacity: 0 },
      { capacity: 2.5 },
      { capacity: -1 },
      { expiryMs: 0 },
      { groupExpiryMs: Number.NaN },
      { maxMessageBytes: Infinity },
    ]) {
      assert.throws(() => new InMemoryChannelLayer(bad), RangeError, JSON.stringify(bad));
    }
    assert.throws(() => new InMemoryChannelLayer({ capacity: '10' as unknown as number }), { name: 'TypeError', message: /capacity must be a number, got "10"/ });
    assert.throws(() => new InMemoryChannelLayer({ logger: {} as LayerLogger }), TypeError);
  });

  it('fills in defaults and freezes the effective options', () => {
    const layer = open({ capacity: 5, logger: fakeLogger() });
    assert.deepEqual(layer.options, { ...DEFAULT_LAYER_OPTIONS, capacity: 5 });
    assert.ok(Object.isFrozen(layer.options));
    assert.ok(!('logger' in layer.options));
    assert.deepEqual(layer.capabilities, { crossProcess: false, flush: true, groupSize: true });
  });

  it('accepts a pino logger', () => {
    open({ logger: pino({ enabled: false }) });
  });

  it('logs a drop warning at most once per group per 10 s and counts every drop', async () => {
    const logger = fakeLogger();
    const layer = open({ logger });
    const full = await layer.newChannel();
    const ok = await layer.newChannel();
    layer.attach(full, () => false);
    layer.attach(ok, () => true);
    for (const group of ['room.a', 'room.b']) {
      await layer.groupAdd(group, full);
      await layer.groupAdd(group, ok);
    }
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await layer.groupSend('room.a', { type: 'tick', i }), { recipients: 1, dropped: 1 });
    }
    await layer.groupSend('room.b', { type: 'tick' });
    assert.equal(layer.stats.groupSendDrops, 6);
    assert.equal(logger.calls.length, 2, 'one warning for room.a, one for room.b');
    const [first, second] = logger.calls;
    assert.equal(first!.obj.group, 'room.a');
    assert.equal(first!.obj.dropped, 1);
    assert.equal(first!.obj.type, 'tick');
    assert.match(first!.msg, /groupSend\("room\.a"\): 1 member\(s\) full/);
    assert.equal(second!.obj.group, 'room.b');
  });

  it('does not log drops without a logger, but still counts them', async () => {
    const layer = open();
    const full = await layer.newChannel();
    layer.attach(full, () => false);
    await layer.groupAdd('g', full);
    assert.deepEqual(await layer.groupSend('g', { type: 'x' }), { recipients: 0, dropped: 1 });
    assert.equal(layer.stats.groupSendDrops, 1);
  });

  it('counts expired queued messages in stats.messagesExpired', async () => {
    const layer = open({ expiryMs: 20 });
    await layer.send('worker.a', { type: 'old.1' });
    await layer.send('worker.a', { type: 'old.2' });
    await delay(60); // waiting for the expiry itself
    await layer.send('worker.a', { type: 'new' });
    assert.equal((await layer.receive('worker.a')).type, 'new');
    assert.equal(layer.stats.messagesExpired, 2);
  });

  it('drops expired messages from the backlog on attach', async () => {
    const layer = open({ expiryMs: 30 });
    const channel = await layer.newChannel();
    await layer.send(channel, { type: 'old' });
    await delay(80); // waiting for the expiry itself
    await layer.send(channel, { type: 'new' });
    const got: string[] = [];
    layer.attach(channel, (m) => got.push(m.type) > 0);
    assert.deepEqual(got, ['new']);
    assert.equal(layer.stats.messagesExpired, 1);
  });

  it('keeps at-most-once delivery when a receiver discards and re-adds members during a groupSend', async () => {
    const layer = open();
    const channels = [await layer.newChannel(), await layer.newChannel(), await layer.newChannel()];
    const counts = new Map<string, number>();
    let shuffled = false;
    for (const channel of channels) {
      layer.attach(channel, (m) => {
        counts.set(channel, (counts.get(channel) ?? 0) + 1);
        if (m.type === 'shuffle' && channel === channels[1] && !shuffled) {
          shuffled = true;
          // Synchronous re-entrancy: move everyone (including itself) to the end of the group.
          for (const c of channels) {
            void layer.groupDiscard('g', c);
            void layer.groupAdd('g', c);
          }
        }
        return true;
      });
      await layer.groupAdd('g', channel);
    }
    await layer.groupSend('g', { type: 'shuffle' });
    await delay(0);
    for (const channel of channels) assert.ok((counts.get(channel) ?? 0) <= 1, `${channel} got it at most once`);
    counts.clear();
    await layer.groupSend('g', { type: 'after' });
    assert.deepEqual([...counts.values()], [1, 1, 1], 'membership intact afterwards');
  });

  it('does not deliver a groupSend to a member added by a receiver during that send', async () => {
    const layer = open();
    const first = await layer.newChannel();
    const late = await layer.newChannel();
    const lateGot: string[] = [];
    layer.attach(late, (m) => lateGot.push(m.type) > 0);
    layer.attach(first, (m) => {
      if (m.type === 'one') void layer.groupAdd('g', late);
      return true;
    });
    await layer.groupAdd('g', first);
    await layer.groupSend('g', { type: 'one' });
    await delay(0);
    await layer.groupSend('g', { type: 'two' });
    assert.deepEqual(lateGot, ['two']);
  });

  it('survives a receiver that closes the layer during a groupSend', async () => {
    const layer = open();
    const a = await layer.newChannel();
    const b = await layer.newChannel();
    const got: string[] = [];
    layer.attach(a, () => {
      got.push('a');
      void layer.close();
      return true;
    });
    layer.attach(b, () => got.push('b') > 0);
    await layer.groupAdd('g', a);
    await layer.groupAdd('g', b);
    await layer.groupSend('g', { type: 'x' });
    assert.deepEqual(got, ['a']);
    await assert.rejects(layer.groupSend('g', { type: 'x' }), LayerClosedError);
  });

  it('keeps memberships of attached channels past groupExpiryMs and removes others lazily', async () => {
    const layer = open({ groupExpiryMs: 20 });
    const attached = await layer.newChannel();
    layer.attach(attached, () => true);
    await layer.groupAdd('g', attached);
    await layer.groupAdd('g', 'worker.idle');
    assert.equal(await layer.groupSize('g'), 2);
    await delay(60); // waiting for the expiry itself
    assert.deepEqual(await layer.groupSend('g', { type: 'x' }), { recipients: 1, dropped: 0 });
    assert.equal(await layer.groupSize('g'), 1);
    await layer.send('worker.idle', { type: 'marker' });
    assert.equal((await layer.receive('worker.idle')).type, 'marker', 'the expired member got no broadcast');
  });

  it('serves a pending receive directly from send', async () => {
    const layer = open({ capacity: 1 });
    const pending = layer.receive('worker.a');
    await layer.send('worker.a', { type: 'one' });
    await layer.send('worker.a', { type: 'two' }); // the queue is still empty: capacity 1 is not exceeded
    assert.equal((await pending).type, 'one');
    await assert.rejects(layer.send('worker.a', { type: 'three' }), ChannelFullError);
    assert.equal((await layer.receive('worker.a')).type, 'two');
  });

  it('keeps pending receives across flush and rejects them on close', async () => {
    const layer = open();
    const pending = layer.receive('worker.a');
    await layer.flush();
    await layer.send('worker.a', { type: 'after.flush' });
    assert.equal((await pending).type, 'after.flush');
    const second = layer.receive('worker.b');
    await layer.close();
    await assert.rejects(second, (err: unknown) => err instanceof LayerClosedError && /receive\("worker\.b"\)/.test(err.message));
  });

  it('delivers 1,000 queued messages to a worker in order and reuses queue space', async () => {
    const layer = open({ capacity: 50 });
    let sent = 0;
    let received = 0;
    while (received < 1_000) {
      while (sent < 1_000 && sent - received < 50) await layer.send('worker.big', { type: 'n', i: sent++ });
      const m = await layer.receive('worker.big');
      assert.equal(m.i, received++);
    }
  });

  it('unsubscribes layer-event listeners', () => {
    const layer = open();
    const off = layer.onLayerEvent(() => assert.fail('in-memory never emits'));
    off();
    assert.throws(() => layer.onLayerEvent('nope' as never), TypeError);
  });

  it('refuses a prefix that leaves no room for the generated part', async () => {
    const layer = open();
    const name = await layer.newChannel('p'.repeat(90));
    assert.ok(name.split('!')[0]!.length <= 99);
    await assert.rejects(layer.newChannel('p'.repeat(91)), /the limit is 90/);
  });

  it('forgets a released channel in every group it was in', async () => {
    const layer = open();
    for (let i = 0; i < 100; i++) {
      const channel = await layer.newChannel();
      layer.attach(channel, () => true);
      await layer.groupAdd('g', channel);
      await layer.groupAdd(`g.${i}`, channel);
      await layer.releaseChannel(channel);
    }
    assert.equal(await layer.groupSize('g'), 0);
    assert.deepEqual(await layer.groupSend('g', { type: 'x' }), { recipients: 0, dropped: 0 });
    for (let i = 0; i < 100; i++) assert.equal(await layer.groupSize(`g.${i}`), 0);
  });

  for (const groups of [3, 40]) {
    // A channel's groups are a flat list up to 16 and a Map past that (group-deadlines.ts).
    it(`keeps the memberships of a channel in ${groups} groups through discards, sends and release`, async () => {
      const layer = open();
      const channel = await layer.newChannel();
      const got: string[] = [];
      layer.attach(channel, (m) => (got.push(String(m.group)), true));
      for (let i = 0; i < groups; i++) await layer.groupAdd(`g.${i}`, channel);
      await layer.groupAdd('g.0', channel); // again: still one membership
      for (let i = 1; i < groups; i += 2) await layer.groupDiscard(`g.${i}`, channel);
      for (let i = 0; i < groups; i++) await layer.groupSend(`g.${i}`, { type: 'x', group: `g.${i}` });
      assert.deepEqual(got, Array.from({ length: groups }, (_, i) => `g.${i}`).filter((_, i) => i % 2 === 0));
      await layer.releaseChannel(channel);
      for (let i = 0; i < groups; i++) assert.equal(await layer.groupSize(`g.${i}`), 0);
    });
  }
});
