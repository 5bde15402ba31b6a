import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ChannelFullError, LayerClosedError } from '../../src/errors.js';
import type { LayerMessage } from '../../src/layers/channel-layer.js';
import {
  RedisChannelLayer,
  RedisUnavailableError,
  type RedisChannelLayerOptions,
  type RedisLayerLogger,
} from '../../src/redis/index.js';
import { runChannelLayerConformance } from '../../src/testing/layer-conformance.js';
import { freePort, reachable, startRedisServer, stopProcess } from '@switchboard/test-support';
import { waitFor } from '../../src/testing/wait-for.js';
import { crossProcessTests } from './cross-process-cases.js';
import { layerFixtures } from './layer-fixtures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';



const available = await reachable(REDIS_URL);
if (!available && process.env.REQUIRE_SERVICES === '1') {
  throw new Error(`REQUIRE_SERVICES=1 but Redis is not reachable at ${REDIS_URL}`);
}
const skipReason = available ? undefined : `Redis is not reachable at ${REDIS_URL} (set REQUIRE_SERVICES=1 to fail instead of skipping)`;

/** A key prefix no other test (or test run) uses. */
const uniquePrefix = (): string => `sbtest:${randomBytes(6).toString('hex')}:`;

if (available) {
  runChannelLayerConformance('redis', () => new RedisChannelLayer({ url: REDIS_URL, prefix: uniquePrefix() }), {
    factoryWithOptions: (options) => new RedisChannelLayer({ url: REDIS_URL, prefix: uniquePrefix(), ...options }),
    peerFactory: (layer) => new RedisChannelLayer({ url: REDIS_URL, prefix: (layer as RedisChannelLayer).prefix }),
  });
} else {
  describe('channel layer conformance: redis', () => {
    it('runs against a real Redis', { skip: skipReason }, () => {});
  });
}

crossProcessTests('RedisChannelLayer across processes: one redis-server', (options = {}) => new RedisChannelLayer({ url: REDIS_URL, ...options }), skipReason ?? false);

/** A fake pino logger that records every line. */
function fakeLogger(): RedisLayerLogger & { lines: Array<{ level: string; obj: object; msg: string }>; count(level: string): number } {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  return {
    lines,
    count: (level) => lines.filter((line) => line.level === level).length,
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
  };
}

/** A push receiver that records what it gets. */
function recorder(): { messages: LayerMessage[]; receiver: (message: LayerMessage) => boolean } {
  const messages: LayerMessage[] = [];
  return { messages, receiver: (message) => messages.push(message) > 0 };
}



/** A raw MONITOR connection (ioredis' monitor() races its own MONITOR reply under load). */
async function rawMonitor(url: string): Promise<{ lines: string[]; close(): void }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port || 6379), hostname);
  await once(socket, 'connect');
  const lines: string[] = [];
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\r\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  socket.on('error', () => {});
  socket.write('MONITOR\r\n');
  await waitFor(() => lines.includes('+OK'), { message: 'MONITOR started' });
  return { lines, close: () => socket.destroy() };
}


describe('RedisChannelLayer', { skip: skipReason }, () => {
  const { layers, children, open, admin, cleanup } = layerFixtures(REDIS_URL);
  const monitors: Array<{ close(): void }> = [];
  /** Clients whose name (CLIENT SETNAME, set by the layer) starts with `prefix`. */
  const clientsNamed = async (client: Redis, prefix: string): Promise<number> => {
    const list = (await client.client('LIST')) as string;
    return list.split('\n').filter((line) => line.includes(` name=${prefix}`)).length;
  };
  const keysUnder = async (client: Redis, prefix: string): Promise<string[]> => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  };
  const numsub = async (client: Redis, channel: string): Promise<number> => {
    const reply = (await client.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
    return Number(reply[1]);
  };
  const pubsubChannels = async (client: Redis, prefix: string): Promise<string[]> =>
    ((await client.call('PUBSUB', 'CHANNELS', `${prefix}*`)) as string[]).sort();

  after(async () => {
    await cleanup();
    for (const monitor of monitors) monitor.close();
  });

  it('refuses bad options before connecting', () => {
    assert.throws(() => new RedisChannelLayer({ prefix: 'has space:' }), RangeError);
    assert.throws(() => new RedisChannelLayer({ prefix: 'glob*' }), RangeError);
    assert.throws(() => new RedisChannelLayer({ serializer: 'xml' as 'json' }), TypeError);
    assert.throws(() => new RedisChannelLayer({ url: 'http://localhost' }), TypeError);
    assert.throws(() => new RedisChannelLayer({ shardedPubSub: true }), TypeError);
    assert.throws(() => new RedisChannelLayer({ capacity: 1.5 }), RangeError);
  });

  it('fromUrl connects and PINGs, and rejects within about 3 s when Redis is unreachable', async () => {
    const prefix = uniquePrefix();
    const layer = await RedisChannelLayer.fromUrl(REDIS_URL, { prefix });
    layers.push(layer);
    assert.equal(layer.connected, true);
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(RedisChannelLayer.fromUrl(`redis://127.0.0.1:${port}/0`, { prefix }), (err: unknown) => {
      assert.ok(err instanceof RedisUnavailableError, String(err));
      assert.equal(err.code, 'SB_ERR_LAYER_UNAVAILABLE');
      assert.match(err.message, /within 3000 ms.*ECONNREFUSED/);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 2_500 && elapsed < 5_000, `rejected after ${elapsed} ms`);
  });

  it('delivers a groupSend from one process to the members of another with exactly one PUBLISH', async () => {
    const prefix = uniquePrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    const monitor = await rawMonitor(REDIS_URL);
    monitors.push(monitor);
    const onA = [recorder(), recorder()];
    const onB = [recorder(), recorder(), recorder()];
    for (const [layer, recorders] of [[a, onA], [b, onB]] as const) {
      for (const r of recorders) {
        const channel = await layer.newChannel();
        layer.attach(channel, r.receiver);
        await layer.groupAdd('room', channel);
      }
    }
    const sends = 5;
    for (let i = 0; i < sends; i++) {
      const result = await a.groupSend('room', { type: 'chat.message', i });
      assert.deepEqual(result, { recipients: 2, dropped: 0 }, 'published to 2 processes (PUBLISH reply)');
    }
    await waitFor(() => onB.every((r) => r.messages.length === sends), { message: `B's members got ${sends} messages` });
    for (const r of [...onA, ...onB]) assert.deepEqual(r.messages.map((m) => m.i), [0, 1, 2, 3, 4]);
    // Same object for every member of one process, frozen.
    assert.equal(onB[0]!.messages[0], onB[2]!.messages[0]);
    assert.ok(Object.isFrozen(onB[0]!.messages[0]));
    // A marker after the sends on A's command connection: once MONITOR shows it, it has shown
    // every command A sent before it.
    await a.send('marker.channel', { type: 'test.marker' });
    await waitFor(() => monitor.lines.some((line) => line.includes(`"${prefix}q:marker.channel"`)), { message: 'MONITOR saw the marker' });
    const ours = monitor.lines.filter((line) => line.includes(prefix));
    const publishes = ours.filter((line) => line.toLowerCase().includes(`"publish" "${prefix}g:room"`));
    assert.equal(publishes.length, sends, `one PUBLISH per groupSend; MONITOR saw:\n${ours.join('\n')}`);
    // Nothing else: no script, no EXISTS, no list push (the group has no named members).
    const extra = ours.filter((line) => !line.includes('marker.channel') && (/"(evalsha|eval|[lr]push)"/i.test(line) || line.includes('group-named:')));
    assert.deepEqual(extra, [], 'no other command per groupSend');
    assert.equal(a.stats.barePublishes, sends);
    assert.equal(a.stats.scriptedPublishes, 0);
  });

  it('subscribes once per group per process and unsubscribes when the last local member leaves', async () => {
    const prefix = uniquePrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    const client = admin();
    const channel = `${prefix}g:room`;
    assert.equal(await numsub(client, channel), 0);
    const onA = await Promise.all([a.newChannel(), a.newChannel(), a.newChannel()]);
    const onB = await Promise.all([b.newChannel(), b.newChannel()]);
    await Promise.all(onA.map((name) => a.groupAdd('room', name)));
    assert.equal(await numsub(client, channel), 1, 'three members on A: one subscription');
    await Promise.all(onB.map((name) => b.groupAdd('room', name)));
    assert.equal(await numsub(client, channel), 2, 'plus two on B: two subscriptions');
    await a.releaseChannel(onA[0]!);
    await a.groupDiscard('room', onA[1]!);
    assert.equal(await numsub(client, channel), 2, 'A still has a member');
    await a.releaseChannel(onA[2]!);
    await waitFor(async () => (await numsub(client, channel)) === 1, { message: 'A unsubscribed' });
    await b.groupDiscard('room', onB[0]!);
    await b.releaseChannel(onB[1]!);
    await waitFor(async () => (await numsub(client, channel)) === 0, { message: 'B unsubscribed' });
    assert.deepEqual(await pubsubChannels(client, prefix), [`${prefix}flush`, `${prefix}inbox:${a.id}`, `${prefix}inbox:${b.id}`, `${prefix}named`].sort(), 'only the inboxes, the flush and the named channels remain');
    assert.equal(await a.groupSize('room'), 0);
    assert.deepEqual(await keysUnder(client, prefix), [], 'no keys left');
  });

  it('sends to another process\'s channel through its inbox, and adds it to a group remotely', async () => {
    const prefix = uniquePrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    const got = recorder();
    const onB = await b.newChannel();
    b.attach(onB, got.receiver);
    for (let i = 0; i < 3; i++) await a.send(onB, { type: 'direct.message', i });
    await waitFor(() => got.messages.length === 3, { message: 'B got the direct messages' });
    assert.deepEqual(got.messages.map((m) => m.i), [0, 1, 2]);
    assert.equal(a.stats.publishes, 3);
    // A adds B's channel to a group; B subscribes on being told through its inbox.
    await a.groupAdd('remote', onB);
    const client = admin();
    await waitFor(async () => (await numsub(client, `${prefix}g:remote`)) === 1, { message: 'B subscribed to the group' });
    await a.groupSend('remote', { type: 'group.message' });
    await waitFor(() => got.messages.at(-1)?.type === 'group.message', { message: 'B got the group message' });
    assert.equal(await a.groupSize('remote'), 1);
    await a.groupDiscard('remote', onB);
    await waitFor(async () => (await numsub(client, `${prefix}g:remote`)) === 0, { message: 'B unsubscribed' });
  });

  it('queues named-channel messages in Redis for a receiver in another process, with capacity', async () => {
    const prefix = uniquePrefix();
    const a = open({ prefix, capacity: 3 });
    const b = open({ prefix, capacity: 3 });
    const pending = b.receive('jobs.thumbnails');
    for (let i = 0; i < 4; i++) await a.send('jobs.thumbnails', { type: 'job.thumbnail', i });
    assert.equal((await pending).i, 0, 'a waiting receive gets the first message');
    const rest = [await b.receive('jobs.thumbnails'), await b.receive('jobs.thumbnails'), await b.receive('jobs.thumbnails')];
    assert.deepEqual(rest.map((m) => m.i), [1, 2, 3]);
    for (let i = 0; i < 3; i++) await a.send('jobs.resize', { type: 'job.resize', i });
    await assert.rejects(a.send('jobs.resize', { type: 'job.resize', i: 3 }), (err: unknown) => err instanceof ChannelFullError && err.code === 'SB_ERR_CHANNEL_FULL');
    await assert.rejects(b.send('jobs.resize', { type: 'job.resize', i: 3 }), ChannelFullError, 'the capacity is shared by every process');
    // A named channel in a group gets group messages through its list.
    await a.groupAdd('workers', 'jobs.audit');
    const result = await b.groupSend('workers', { type: 'audit.entry' });
    assert.deepEqual(result, { recipients: 1, dropped: 0 });
    assert.equal((await a.receive('jobs.audit')).type, 'audit.entry');
    // attach() on a named channel consumes its list.
    const got = recorder();
    a.attach('jobs.push', got.receiver);
    await b.send('jobs.push', { type: 'job.push' });
    await waitFor(() => got.messages.length === 1, { message: 'the attached receiver got the named-channel message' });
    await a.releaseChannel('jobs.push');
  });

  it('counts and logs (rate-limited) the drops of full members in the receiving process', async () => {
    const prefix = uniquePrefix();
    const logger = fakeLogger();
    const a = open({ prefix });
    const b = open({ prefix, logger });
    const full = await b.newChannel();
    b.attach(full, () => false);
    const ok = recorder();
    const okChannel = await b.newChannel();
    b.attach(okChannel, ok.receiver);
    await b.groupAdd('room', full);
    await b.groupAdd('room', okChannel);
    for (let i = 0; i < 3; i++) await a.groupSend('room', { type: 'chat.message', i });
    await waitFor(() => ok.messages.length === 3 && b.stats.groupSendDrops === 3, { message: 'B counted 3 drops' });
    assert.equal(a.stats.groupSendDrops, 0, 'the sender cannot see drops in other processes');
    assert.equal(logger.count('warn'), 1, 'one warning per group per 10 s');
    assert.match(logger.lines[0]!.msg, /"room".*full/);
  });

  it('carries any JSON event between processes, and skips frames it cannot decode', async () => {
    const prefix = uniquePrefix();
    const a = open({ prefix });
    const logger = fakeLogger();
    const b = open({ prefix, logger });
    const got = recorder();
    const onB = await b.newChannel();
    b.attach(onB, got.receiver);
    await b.groupAdd('room', onB);
    const event = { type: 'chat.message', text: 'héllo ✓', n: 2 ** 53 - 1, nested: { list: [1, 'two', null] } };
    await a.groupSend('room', event);
    await a.send(onB, { type: 'direct', ok: true });
    await a.send('jobs.packed', event);
    await waitFor(() => got.messages.length === 2, { message: 'B got the group and the direct message' });
    assert.deepEqual(got.messages[0], event);
    assert.deepEqual(got.messages[1], { type: 'direct', ok: true });
    assert.deepEqual(await b.receive('jobs.packed'), event);
    // A foreign publisher on the group's pub/sub channel: its frame is skipped, not fatal.
    const raw = new Redis(REDIS_URL);
    try {
      await raw.publish(`${prefix}g:room`, 'XXXXXXXXXXXX{not json');
    } finally {
      raw.disconnect();
    }
    await waitFor(() => b.stats.decodeErrors === 1, { message: 'B counted an undecodable frame' });
    assert.match(logger.lines.find((line) => line.level === 'warn')!.msg, /undecodable/);
    await a.groupSend('room', { type: 'chat.message', text: 'after' });
    await waitFor(() => got.messages.length === 3, { message: 'B still receives after the bad frame' });
  });

  it('lets the memberships of a dead process expire while live ones are refreshed', async () => {
    const prefix = uniquePrefix();
    const groupExpiryMs = 600;
    const a = open({ prefix, groupExpiryMs });
    const b = open({ prefix, groupExpiryMs });
    for (const layer of [a, a, b]) {
      const channel = await layer.newChannel();
      layer.attach(channel, () => true);
      await layer.groupAdd('room', channel);
    }
    assert.equal(await b.groupSize('room'), 3);
    // Time itself is under test here: past two expiry periods the refreshed memberships live on.
    await delay(groupExpiryMs * 2);
    assert.equal(await b.groupSize('room'), 3, 'refreshed memberships did not expire');
    await a.close(); // dies without releasing its channels
    await waitFor(async () => (await b.groupSize('room')) === 1, { timeoutMs: groupExpiryMs * 4, message: "A's memberships expired" });
    const client = admin();
    await waitFor(async () => (await numsub(client, `${prefix}g:room`)) === 1, { message: "A's subscription went with its connection" });
  });

  it('keeps serving local members through a Redis restart, logs the outage once and resubscribes', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    let server = await startRedisServer(port);
    children.push(server);
    const prefix = uniquePrefix();
    const logger = fakeLogger();
    const a = open({ url, prefix, logger });
    const b = open({ url, prefix });
    const events: string[] = [];
    a.onLayerEvent((event) => events.push(`a:${event.type}`));
    b.onLayerEvent((event) => events.push(`b:${event.type}`));
    // A raw ioredis subscriber, to check the client's own autoResubscribe (issue 3: test it).
    const raw = admin(url);
    const rawGot: string[] = [];
    raw.on('message', (_channel: string, message: string) => rawGot.push(message));
    await raw.subscribe('raw.check');

    const a1 = recorder();
    const b1 = recorder();
    const a1Channel = await a.newChannel();
    const b1Channel = await b.newChannel();
    a.attach(a1Channel, a1.receiver);
    b.attach(b1Channel, b1.receiver);
    await a.groupAdd('room', a1Channel);
    await b.groupAdd('room', b1Channel);
    const a3Channel = await a.newChannel();
    a.attach(a3Channel, () => true);
    await a.groupAdd('room', a3Channel);
    await b.groupSend('room', { type: 'before' });
    await waitFor(() => a1.messages.length === 1, { message: 'A got the message before the restart' });
    // A worker-style receive that waits through the restart.
    const job = b.receive('jobs.restart');

    await stopProcess(server, 'SIGKILL');
    await waitFor(() => logger.count('error') === 1, { message: 'A logged the outage' });
    assert.equal(a.connected, false);
    for (let i = 0; i < 5; i++) {
      const result = await a.groupSend('room', { type: 'during', i });
      assert.deepEqual(result, { recipients: 1, dropped: 0 }, 'this process only: its members (a1, a3) still get it');
    }
    assert.equal(a1.messages.filter((m) => m.type === 'during').length, 5);
    assert.equal(a.stats.publishFailures, 5);
    // Membership changes during the outage are replayed after it.
    const a2 = recorder();
    const a2Channel = await a.newChannel();
    a.attach(a2Channel, a2.receiver);
    await a.groupAdd('room', a2Channel);
    await a.releaseChannel(a3Channel);
    await assert.rejects(a.send(b1Channel, { type: 'direct' }), RedisUnavailableError);
    await assert.rejects(a.groupSize('room'), RedisUnavailableError);
    assert.equal(logger.count('error'), 1, 'one error line for the whole outage');

    server = await startRedisServer(port);
    children.push(server);
    await waitFor(() => events.includes('a:layer.reconnected') && events.includes('b:layer.reconnected'), {
      timeoutMs: 10_000,
      message: 'both layers emitted layer.reconnected',
    });
    assert.deepEqual(events.sort(), ['a:layer.reconnected', 'b:layer.reconnected'], 'one event per layer, none at the first connect');
    assert.equal(logger.count('error'), 1, 'still one error line');
    assert.equal(logger.count('info'), 1, 'one recovery line');
    assert.equal(a.stats.outages, 1);
    await b.groupSend('room', { type: 'after' });
    await waitFor(() => a1.messages.at(-1)?.type === 'after' && a2.messages.at(-1)?.type === 'after', {
      message: 'A\'s members (old and added during the outage) get B\'s messages again',
    });
    await a.groupSend('room', { type: 'after.a' });
    await waitFor(() => b1.messages.at(-1)?.type === 'after.a', { message: 'B gets A\'s messages again' });
    assert.equal(await b.groupSize('room'), 3, 'the restarted Redis got the live memberships back (a1, a2, b1)');
    await a.send('jobs.restart', { type: 'job.after' });
    assert.equal((await job).type, 'job.after', 'the pending receive survived the restart');
    // ioredis resubscribed the raw client on its own.
    const publisher = admin(url);
    await waitFor(async () => {
      await publisher.publish('raw.check', 'ping');
      return rawGot.length > 0;
    }, { timeoutMs: 5_000, message: 'ioredis autoResubscribe restored the raw subscription' });
    await a.close();
    await b.close();
    raw.disconnect();
    publisher.disconnect();
    await stopProcess(server, 'SIGTERM');
  });

  it('leaves no clients, subscriptions or keys behind after 2,000 connect/disconnect cycles', async () => {
    const prefix = uniquePrefix();
    const client = admin();
    assert.equal(await clientsNamed(client, prefix), 0);
    const a = open({ prefix });
    const b = open({ prefix });
    await Promise.all([a.newChannel(), b.newChannel()]);
    const baselineClients = await clientsNamed(client, prefix);
    assert.equal(baselineClients, 4, 'two connections per layer');
    const baselineChannels = await pubsubChannels(client, prefix);
    const cycle = async (layer: RedisChannelLayer, i: number): Promise<void> => {
      const channel = await layer.newChannel();
      layer.attach(channel, () => true);
      await layer.groupAdd('lobby', channel);
      await layer.groupAdd(`room.${i % 10}`, channel);
      await layer.groupSend(`room.${i % 10}`, { type: 'chat.message', i });
      await layer.releaseChannel(channel);
    };
    const cycles = 2_000;
    const concurrency = 25;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < cycles) {
          const i = next++;
          await cycle(i % 2 === 0 ? a : b, i);
        }
      }),
    );
    await waitFor(async () => JSON.stringify(await pubsubChannels(client, prefix)) === JSON.stringify(baselineChannels), {
      message: 'subscriptions back to the two inboxes',
    });
    assert.equal(await clientsNamed(client, prefix), baselineClients);
    assert.deepEqual(await keysUnder(client, prefix), [], 'no keys left');
    assert.equal(await a.groupSize('lobby'), 0);
    await a.close();
    await b.close();
    await waitFor(async () => (await clientsNamed(client, prefix)) === 0, { message: 'every connection closed' });
    assert.deepEqual(await pubsubChannels(client, prefix), []);
  });

  it('rejects a pending named-channel receive with LayerClosedError on close', async () => {
    const prefix = uniquePrefix();
    const layer = open({ prefix });
    const pending = layer.receive('jobs.never');
    pending.catch(() => {}); // close() rejects it before assert.rejects looks
    const client = admin();
    await waitFor(async () => ((await client.client('LIST')) as string).includes(` name=${prefix}${layer.id}:block`), { message: 'the pump opened its blocking connection' });
    await layer.close();
    await assert.rejects(pending, LayerClosedError);
  });
});
