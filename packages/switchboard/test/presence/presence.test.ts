/** Presence stores: one entry per key with a connection count; atomic first/last; expiry of dead processes. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { InMemoryPresenceStore, InvalidGroupNameError, type PresenceStore } from 'switchboard';
import { RedisPresenceStore } from 'switchboard/redis';
import { waitFor } from 'switchboard/testing';
import { redisAvailable, REDIS_URL } from '@switchboard/test-support';

function behaviours(name: string, make: () => PresenceStore, skip: () => string | false): void {
  describe(`presence store: ${name}`, () => {
    it('reports the first connection of a key as a join and the last as a leave', async (t) => {
      const why = skip();
      if (why) return t.skip(why);
      const store = make();
      try {
        assert.deepEqual(await store.add('users', 'alice', 'c1', { username: 'alice' }), { changed: true });
        assert.deepEqual(await store.add('users', 'alice', 'c2', { username: 'alice' }), { changed: false });
        assert.deepEqual(await store.add('users', 'bob', 'c3', { username: 'bob' }), { changed: true });
        assert.deepEqual(await store.list('users'), [
          { key: 'alice', info: { username: 'alice' }, connections: 2 },
          { key: 'bob', info: { username: 'bob' }, connections: 1 },
        ]);
        assert.deepEqual(await store.remove('users', 'alice', 'c1'), { changed: false });
        assert.deepEqual(await store.remove('users', 'alice', 'c2'), { changed: true });
        assert.deepEqual(await store.remove('users', 'alice', 'c2'), { changed: false }, 'removing twice is not a second leave');
        assert.deepEqual((await store.list('users')).map((e) => e.key), ['bob']);
        await store.remove('users', 'bob', 'c3');
        assert.deepEqual(await store.list('users'), []);
      } finally {
        await store.close();
      }
    });

    it('refuses a bad group name', async (t) => {
      const why = skip();
      if (why) return t.skip(why);
      const store = make();
      try {
        await assert.rejects(store.add('bad group', 'a', 'c'), InvalidGroupNameError);
      } finally {
        await store.close();
      }
    });
  });
}

behaviours('in-memory', () => new InMemoryPresenceStore(), () => false);

const prefix = () => `sbtest:${randomBytes(6).toString('hex')}:`;
const redisSkip = () => (redisAvailable() ? false : `Redis unreachable at ${REDIS_URL}`);
behaviours('redis', () => new RedisPresenceStore({ url: REDIS_URL, prefix: prefix() }), redisSkip);

describe('RedisPresenceStore across processes', () => {
  it('counts tabs on two processes once, and expires the entries of a process that died', async (t) => {
    const why = redisSkip();
    if (why) return t.skip(why);
    const p = prefix();
    const a = new RedisPresenceStore({ url: REDIS_URL, prefix: p, ttlMs: 300, refreshIntervalMs: 50 });
    const b = new RedisPresenceStore({ url: REDIS_URL, prefix: p, ttlMs: 300, refreshIntervalMs: 50 });
    try {
      const joins = await Promise.all([a.add('users', 'carol', 'a1'), b.add('users', 'carol', 'b1')]);
      assert.equal(joins.filter((j) => j.changed).length, 1, 'exactly one join for two racing tabs');
      assert.deepEqual((await a.list('users')).map((e) => [e.key, e.connections]), [['carol', 2]]);
      await b.add('users', 'dave', 'b2');
      // b dies: it stops refreshing, so its connections expire while a's stay.
      await b.close();
      await waitFor(async () => (await a.list('users')).length === 1 && (await a.list('users'))[0]!.connections === 1, { timeoutMs: 3000 });
      assert.deepEqual((await a.list('users')).map((e) => e.key), ['carol']);
    } finally {
      await a.close();
      await b.close().catch(() => undefined);
    }
  });
});
