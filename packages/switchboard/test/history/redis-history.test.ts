/**
 * RedisHistoryStore beyond the conformance suite: appends from two processes at once, a Redis
 * restart (history lost → new epoch), and what an outage looks like to the caller.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { LayerUnavailableError } from 'switchboard';
import { RedisHistoryStore, RedisUnavailableError } from 'switchboard/redis';
import { waitFor } from 'switchboard/testing';
import { freePort, startRedisServer, stopProcess } from '@switchboard/test-support';
import { redisAvailable, REDIS_URL } from '@switchboard/test-support';

const run = promisify(execFile);
const skip = redisAvailable() ? false : `Redis unreachable at ${REDIS_URL}`;
const uniquePrefix = (): string => `sbtest:${randomBytes(6).toString('hex')}:`;
const WORKER = new URL('./append-worker.js', import.meta.url).pathname;

describe('RedisHistoryStore', { skip }, () => {
  const stores: RedisHistoryStore[] = [];
  const servers: ChildProcess[] = [];
  const open = (options: ConstructorParameters<typeof RedisHistoryStore>[0]): RedisHistoryStore => {
    const store = new RedisHistoryStore(options);
    stores.push(store);
    return store;
  };

  after(async () => {
    for (const store of stores) {
      await store.flush().catch(() => undefined);
      await store.close();
    }
    for (const server of servers) await stopProcess(server);
  });

  it('gives appends from two processes at once distinct offsets, increasing within each process, with no gap', async () => {
    const prefix = uniquePrefix();
    const group = 'history.two-processes';
    const count = 300;
    const results = await Promise.all(
      ['a', 'b'].map(async (name) => JSON.parse((await run(process.execPath, [WORKER, REDIS_URL, prefix, group, String(count), name])).stdout) as { name: string; offsets: number[] }),
    );
    for (const { name, offsets } of results) {
      assert.equal(offsets.length, count);
      assert.ok(offsets.every((offset, i) => i === 0 || offset > offsets[i - 1]!), `process ${name}: offsets increase in the order it appended`);
    }
    const all = results.flatMap((r) => r.offsets).sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 2 * count }, (_, i) => i + 1), 'every offset once, none missing');
    const store = open({ url: REDIS_URL, prefix, maxEvents: 10_000 });
    const position = await store.position(group);
    const recovery = await store.since(group, { epoch: position.epoch, offset: 0 });
    assert.ok(recovery.recovered);
    assert.equal(recovery.events.length, 2 * count);
    const interleaved = recovery.events.map((e) => e['from']);
    assert.ok(interleaved.includes('a') && interleaved.includes('b'));
  });

  it('starts a new epoch after Redis restarts without persistence, and refuses the old positions', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    let server = await startRedisServer(port);
    servers.push(server);
    const store = open({ url, prefix: uniquePrefix(), connectTimeoutMs: 5_000 });
    const before = await store.append('history.restart', { type: 'test.event', text: 'before' });
    await stopProcess(server);

    await assert.rejects(store.append('history.restart', { type: 'test.event' }), (err: unknown) => {
      assert.ok(err instanceof RedisUnavailableError && err instanceof LayerUnavailableError);
      assert.equal(err.code, 'SB_ERR_LAYER_UNAVAILABLE');
      assert.match(err.message, /history\.append\("history\.restart"\): Redis is unreachable/);
      return true;
    });

    server = await startRedisServer(port);
    servers.push(server);
    // ioredis reconnects with backoff; appends fail fast until then.
    const after = await waitFor(() => store.append('history.restart', { type: 'test.event', text: 'after' }), { timeoutMs: 10_000, intervalMs: 50, message: 'append after the restart' });
    assert.notEqual(after.epoch, before.epoch);
    assert.equal(after.offset, 1);
    assert.deepEqual(await store.since('history.restart', { epoch: before.epoch, offset: before.offset }), { recovered: false, epoch: after.epoch, offset: 1 });
  });

  it('rejects bad options at construction', () => {
    assert.throws(() => new RedisHistoryStore({ maxEvents: 0 }), RangeError);
    assert.throws(() => new RedisHistoryStore({ ttlMs: -1 }), RangeError);
    assert.throws(() => new RedisHistoryStore({ ttlMs: 10_000, metaTtlMs: 1_000 }), /metaTtlMs \(1000\) must be at least ttlMs \(10000\)/);
  });
});
