/**
 * groupSend as one bare PUBLISH for groups without named (worker) members, and the marks that
 * keep named-member delivery right across processes (src/redis/named-groups.ts): a layer whose
 * subscriber connection was away during the add, stale marks, a Redis restart, a flush.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { freePort, reachable, startRedisServer, stopProcess } from '@switchboard/test-support';
import { waitFor } from '../../src/testing/wait-for.js';
import { layerFixtures } from './layer-fixtures.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const available = await reachable(REDIS_URL);
if (!available && process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1 but Redis is not reachable at ${REDIS_URL}`);
const skip = available ? false : `Redis is not reachable at ${REDIS_URL}`;

const uniquePrefix = (): string => `sbtest:${randomBytes(6).toString('hex')}:`;

describe('RedisChannelLayer: bare PUBLISH unless the group has named members', { skip }, () => {
  const { open, admin, children, cleanup } = layerFixtures(REDIS_URL);
  after(cleanup);

  it("a layer whose subscriber connection was away during the add does not trust its marks until it has read them again", async () => {
    const prefix = uniquePrefix();
    const adder = open({ prefix });
    // Slow reconnects: the sender's subscriber stays away for a second after it is killed.
    const sender = open({ prefix, capacity: 1_000_000, redisOptions: { retryStrategy: () => 1_000 } });
    const client = admin();
    const local = await sender.newChannel();
    sender.attach(local, () => true);
    await sender.groupAdd('room', local);
    await sender.groupSend('room', { type: 'warm' });
    assert.equal(sender.stats.barePublishes, 1);

    const list = (await client.client('LIST')) as string;
    const subId = /id=(\d+) .* name=(\S+)/.exec(list.split('\n').find((line) => line.includes(` name=${prefix}${sender.id}:sub`)) ?? '')?.[1];
    assert.ok(subId !== undefined, "found the sender's subscriber connection");
    await client.call('CLIENT', 'KILL', 'ID', subId);
    await waitFor(() => !sender.connected, { message: "the sender noticed its subscriber's loss" });
    const started = Date.now();
    await adder.groupAdd('room', 'worker.away');
    assert.ok(Date.now() - started < 2_000, 'the add did not wait for the unreachable process');
    // Sends while the subscriber is away (command connection up) and right after it is back,
    // before and while the layer reads the marks again: every one must reach the worker.
    let sent = 0;
    let afterReconnect = 0;
    const deadline = Date.now() + 10_000;
    while (afterReconnect < 50 && Date.now() < deadline) {
      await sender.groupSend('room', { type: 'job', i: sent++ });
      if (sender.connected) afterReconnect++;
    }
    assert.equal(afterReconnect, 50, 'the subscriber reconnected');
    assert.equal(await client.llen(`${prefix}q:worker.away`), sent, `all ${sent} sends reached the worker`);
    assert.deepEqual(await adder.receive('worker.away'), { type: 'job', i: 0 });
    assert.equal(sender.stats.barePublishes, 1, 'every send after the loss was scripted');
  });

  it('forgets a stale mark after one scripted send, and a re-add marks the group again', async () => {
    const prefix = uniquePrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    const client = admin();
    await a.groupAdd('room', 'worker.stale');
    assert.equal(await client.sismember(`${prefix}named-groups`, 'room'), 1, 'the group is marked in Redis');
    await b.groupSend('room', { type: 'job', n: 1 });
    assert.deepEqual(await a.receive('worker.stale'), { type: 'job', n: 1 });
    await a.groupDiscard('room', 'worker.stale');
    const scripted = b.stats.scriptedPublishes;
    await b.groupSend('room', { type: 'job', n: 2 });
    assert.equal(b.stats.scriptedPublishes, scripted + 1, 'the stale mark costs one scripted send');
    assert.equal(await client.sismember(`${prefix}named-groups`, 'room'), 0, 'the script unmarked the group');
    const bare = b.stats.barePublishes;
    await b.groupSend('room', { type: 'job', n: 3 });
    assert.equal(b.stats.barePublishes, bare + 1, 'then bare again');
    assert.equal(await client.llen(`${prefix}q:worker.stale`), 0, 'nothing queued for the discarded worker');
    // Other processes forget it at their own next scripted send; a re-add marks it again.
    await a.groupAdd('room', 'worker.stale');
    await b.groupSend('room', { type: 'job', n: 4 });
    assert.deepEqual(await a.receive('worker.stale'), { type: 'job', n: 4 });
    // Expired named memberships count as gone.
    await client.zadd(`${prefix}group-named:room`, Date.now() - 1, 'worker.stale');
    await b.groupSend('room', { type: 'job', n: 5 });
    assert.equal(await client.sismember(`${prefix}named-groups`, 'room'), 0, 'no live named member: unmarked');
  });

  it('marks the groups again after a Redis restart, for processes that start afterwards', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    let server = await startRedisServer(port);
    children.push(server);
    const prefix = uniquePrefix();
    const holder = open({ url, prefix });
    let reconnected = false;
    holder.onLayerEvent(() => {
      reconnected = true;
    });
    await holder.groupAdd('room', 'worker.restart');
    await stopProcess(server, 'SIGKILL');
    server = await startRedisServer(port);
    children.push(server);
    await waitFor(() => reconnected, { timeoutMs: 10_000, message: 'the holder restored its memberships' });
    const client = admin(url);
    assert.equal(await client.sismember(`${prefix}named-groups`, 'room'), 1, 'marked again by the recovery');
    const late = open({ url, prefix });
    await late.groupSend('room', { type: 'job.after.restart' });
    assert.deepEqual(await holder.receive('worker.restart'), { type: 'job.after.restart' });
    await holder.close();
    await late.close();
    await stopProcess(server, 'SIGTERM');
  });

  it('a flush forgets the marks everywhere; the next add marks again', async () => {
    const prefix = uniquePrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    await a.groupAdd('room', 'worker.flush');
    await b.groupSend('room', { type: 'job' });
    assert.equal(b.stats.scriptedPublishes, 1);
    await a.flush();
    await b.groupSend('room', { type: 'job' });
    assert.equal(b.stats.barePublishes, 1, 'no mark after the flush');
    await a.groupAdd('room', 'worker.flush');
    await b.groupSend('room', { type: 'job.after.flush' });
    assert.deepEqual(await a.receive('worker.flush'), { type: 'job.after.flush' });
  });

  it('skips a malformed announcement (counted in decodeErrors) and still acks good ones', async () => {
    const prefix = uniquePrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    await b.groupSend('warm', { type: 'warm' });
    const client = admin();
    await client.publish(`${prefix}named`, `${'X'.repeat(12)}[5,"bad group name ",` + '"r.1"]');
    await client.publish(`${prefix}named`, 'XXXXXXXXXXXX{not json');
    await waitFor(() => b.stats.decodeErrors === 2 && a.stats.decodeErrors === 2, { message: 'both layers counted two bad frames' });
    await a.groupAdd('room', 'worker.after.bad');
    await b.groupSend('room', { type: 'job' });
    assert.deepEqual(await a.receive('worker.after.bad'), { type: 'job' });
  });
});
