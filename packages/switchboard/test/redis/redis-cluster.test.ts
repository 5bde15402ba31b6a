/**
 * The Redis layer and stores on a 3-master Redis Cluster with sharded pub/sub, started by this
 * file (three private redis-server processes, `redis-cli --cluster create`) and stopped by PID
 * afterwards: the whole channel-layer conformance suite, the cross-process tests, and the
 * stores' basic round trips (their keys are hash-tagged per group).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { startRedisCluster, type RedisCluster } from '@switchboard/test-support';
import { RedisChannelLayer, RedisHistoryStore, RedisPresenceStore, RedisRateLimiter, type RedisChannelLayerOptions } from 'switchboard/redis';
import { runChannelLayerConformance } from 'switchboard/testing';
import { crossProcessTests, uniquePrefix } from './cross-process-cases.js';

const hasTools = ['redis-server', 'redis-cli'].every((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0);
if (!hasTools && process.env.REQUIRE_SERVICES === '1') throw new Error('REQUIRE_SERVICES=1 but redis-server or redis-cli is not on PATH');
const skip = hasTools ? false : 'redis-server and redis-cli are needed to start a private Redis Cluster';

const cluster: RedisCluster | undefined = hasTools ? await startRedisCluster(3) : undefined;
after(async () => {
  await cluster?.stop();
});

const open = (options: RedisChannelLayerOptions = {}): RedisChannelLayer =>
  new RedisChannelLayer({ cluster: { nodes: cluster!.nodes }, shardedPubSub: true, prefix: uniquePrefix(), ...options });

if (cluster !== undefined) {
  runChannelLayerConformance('redis cluster, sharded pub/sub', () => open(), {
    factoryWithOptions: (options) => open(options),
    peerFactory: (layer) => open({ prefix: (layer as RedisChannelLayer).prefix }),
  });
}

crossProcessTests('RedisChannelLayer across processes: redis cluster, sharded pub/sub', open, skip);

describe('Redis stores on a cluster', { skip }, () => {
  const connection = (): { cluster: { nodes: Array<{ host: string; port: number }> }; prefix: string } => ({ cluster: { nodes: cluster!.nodes }, prefix: uniquePrefix() });

  it('RedisHistoryStore appends and recovers, and flushes every master', async () => {
    const store = new RedisHistoryStore(connection());
    try {
      const first = await store.append('room.a', { type: 'chat.message', n: 1 });
      await store.append('room.b', { type: 'chat.message', n: 2 });
      await store.append('room.a', { type: 'chat.message', n: 3 });
      const recovered = await store.since('room.a', { epoch: first.epoch, offset: 0 });
      assert.equal(recovered.recovered, true);
      assert.deepEqual(recovered.recovered && recovered.events.map((e) => e['n']), [1, 3]);
      await store.flush();
      assert.notEqual((await store.position('room.a')).epoch, first.epoch, 'the flush removed the history');
    } finally {
      await store.flush().catch(() => {});
      await store.close();
    }
  });

  it('RedisPresenceStore lists who is here', async () => {
    const store = new RedisPresenceStore({ ...connection(), ttlMs: 5_000 });
    try {
      assert.deepEqual(await store.add('room', 'alice', 'c1', { name: 'Alice' }), { changed: true });
      assert.deepEqual(await store.add('room', 'alice', 'c2'), { changed: false });
      assert.deepEqual(await store.list('room'), [{ key: 'alice', info: {}, connections: 2 }]);
      assert.deepEqual(await store.remove('room', 'alice', 'c1'), { changed: false });
      assert.deepEqual(await store.remove('room', 'alice', 'c2'), { changed: true });
      assert.deepEqual(await store.list('room'), []);
    } finally {
      await store.close();
    }
  });

  it('RedisRateLimiter shares one bucket between two limiters', async () => {
    const options = { ...connection(), name: 'login', limit: 2, windowMs: 60_000 };
    const a = new RedisRateLimiter(options);
    const b = new RedisRateLimiter(options);
    try {
      assert.equal((await a.consume('ip')).allowed, true);
      assert.equal((await b.consume('ip')).allowed, true);
      assert.equal((await a.consume('ip')).allowed, false, 'the shared bucket is empty');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
