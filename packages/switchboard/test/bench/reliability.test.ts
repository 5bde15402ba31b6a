/**
 * Keeps `npm run bench:reliability` from rotting: runs the fault-and-load script at a tiny size
 * and checks that every part prints its line and its row, that every row holds, and that the run
 * exits 0. It asserts behaviour (nothing lost, everything closed again), never speed or memory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBench } from './run-bench.js';

describe('npm run bench:reliability', () => {
  it('runs every part at a small size and prints the table', { timeout: 120_000 }, async () => {
    const { code, out } = await runBench('reliability', {
      RELIABILITY_FUZZ_FRAMES: '300',
      RELIABILITY_FUZZ_CLIENTS: '3',
      RELIABILITY_CHURN: '60',
      RELIABILITY_IDLE: '60',
      RELIABILITY_BURST_MEMBERS: '3',
      RELIABILITY_BURST_MESSAGES: '10',
      RELIABILITY_BURST_DELAY_MS: '5',
    });
    assert.equal(code, 0, out);
    assert.match(out, /^fuzz: bystander received ([\d,]+)\/\1 in order; server still serving: yes$/m, out);
    assert.match(out, /^fuzz: close codes .*(1003|1007|4400)×/m, 'the fuzz drew close codes from the server');
    assert.match(out, /raw frames 1002×\d+/, 'raw protocol errors answered 1002');
    assert.match(out, /^churn: 60 cycles .* 0 failed$/m, out);
    assert.match(out, /^idle: 60 connections /m, out);
    assert.match(out, /^burst: 3 members × 10 messages .*received per member: 30 30 30 of 30$/m, out);
    assert.match(out, /^\| part +\| figure +\| expected +\| result \|$/m, 'the table header');
    for (const part of ['fuzz with a bystander', 'churn', 'idle connections', 'burst \\(busy senders\\)']) {
      assert.match(out, new RegExp(`^\\| ${part} +\\|.*\\| ok +\\|$`, 'm'), `row ${part} holds:\n${out}`);
    }
  });
});
