/**
 * Keeps `npm run bench` from rotting: runs the fan-out benchmark at a tiny size and checks that
 * every scenario reports a rate and a ratio. It asserts behaviour (the bench runs and reaches
 * every receiver), never speed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redisAvailable, REDIS_URL } from '@switchboard/test-support';
import { runBench } from './run-bench.js';


describe('npm run bench (fan-out)', () => {
  it('reports every scenario at a small size', async () => {
    const withRedis = redisAvailable();
    const { code, out } = await runBench('fanout', { BENCH_CLIENTS: '20', BENCH_MESSAGES: '20', BENCH_RUNS: '1', REDIS_URL });
    assert.equal(code, 0, out);
    const labels = ['bare ws loop', 'ws loop, bytes once', 'ws loop, framed once + cork', 'socket.io io.to(room).emit', 'switchboard in-memory'];
    if (withRedis) labels.push('switchboard redis, local send', 'switchboard redis, remote send');
    for (const label of labels) {
      assert.match(out, new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+[\\d,]+ msg/s\\s+ratio \\d+\\.\\d\\d`, 'm'), `no result line for ${label}:\n${out}`);
    }
  });
});
