/**
 * Keeps `npm run bench` from rotting: runs the fan-out benchmark at a tiny size and checks that
 * every scenario reports a rate and a ratio. It asserts behaviour (the bench runs and reaches
 * every receiver), never speed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { redisAvailable, REDIS_URL } from '@switchboard/test-support';

const benchJs = fileURLToPath(new URL('../../bench/fanout.js', import.meta.url));

describe('npm run bench (fan-out)', () => {
  it('reports every scenario at a small size', async () => {
    const withRedis = redisAvailable();
    const child = spawn(process.execPath, [benchJs], {
      env: { ...process.env, BENCH_CLIENTS: '20', BENCH_MESSAGES: '20', BENCH_RUNS: '1', REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, out);
    const labels = ['bare ws loop', 'ws loop, bytes once', 'ws loop, framed once + cork', 'socket.io io.to(room).emit', 'switchboard in-memory'];
    if (withRedis) labels.push('switchboard redis, local send', 'switchboard redis, remote send');
    for (const label of labels) {
      assert.match(out, new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+[\\d,]+ msg/s\\s+ratio \\d+\\.\\d\\d`, 'm'), `no result line for ${label}:\n${out}`);
    }
  });
});
