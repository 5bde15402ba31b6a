/**
 * Keeps `npm run bench` from rotting: runs every group of the benchmark at a tiny size and at a
 * low rate, and checks the effect, never speed: every planned scenario printed a row in its
 * group's table with finite figures and ratios, every delivery arrived (lost 0), the receivers
 * negotiated permessage-deflate where the server offers it, and the placement line says whether
 * the server was pinned.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redisAvailable, REDIS_URL } from '@switchboard/test-support';
import { plan } from '../../bench/runner/plan.js';
import { runBench } from './run-bench.js';

const CLIENTS = 12;

/** The `## heading` sections of the output, each with its table rows as cells keyed by column. */
function sections(out: string): Map<string, Array<Record<string, string>>> {
  const result = new Map<string, Array<Record<string, string>>>();
  for (const section of out.split(/^## /m).slice(1)) {
    const lines = section.split('\n');
    const rows = lines.filter((l) => l.startsWith('| ')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    const [head, ...body] = rows;
    if (!head) continue;
    result.set(lines[0]!, body.map((cells) => Object.fromEntries(head.map((h, i) => [h, cells[i] ?? '']))));
  }
  return result;
}

const headingOf: Record<string, RegExp> = {
  rate: /^fan-out at a fixed rate/,
  saturation: /^fan-out at saturation/,
  idle: /^idle memory/,
  rooms: /^many small rooms/,
  compression: /^compression/,
};

describe('npm run bench', () => {
  it('reports every scenario of every group at a small size, nothing lost', { timeout: 120_000 }, async () => {
    const withRedis = redisAvailable();
    const { code, out } = await runBench('fanout', {
      BENCH_CLIENTS: String(CLIENTS),
      BENCH_RUNS: '1',
      BENCH_RATE: '40',
      BENCH_SECONDS: '0.3',
      BENCH_MESSAGES: '20',
      BENCH_COMPRESSION_MESSAGES: '10',
      BENCH_WARMUP: '3',
      BENCH_IDLE: '40',
      BENCH_ROOMS: '3',
      BENCH_ROOM_SIZE: '3',
      BENCH_ROOM_RATE: '5',
      BENCH_SETTLE_MS: '3000',
      REDIS_URL,
    });
    assert.equal(code, 0, out);
    assert.match(out, /^# (server pinned to core 0|UNPINNED)/m, 'the placement line');
    assert.doesNotMatch(out, /NaN|Infinity/, out);
    const tables = sections(out);
    const expected = plan.filter((c) => withRedis || !c.server.includes('redis'));
    assert.ok(expected.length >= 17, 'the plan has every scenario');
    for (const c of expected) {
      const heading = [...tables.keys()].find((h) => headingOf[c.group]!.test(h));
      assert.ok(heading, `a ${c.group} table:\n${out}`);
      const row = tables.get(heading)!.find((r) => r.scenario === c.label);
      assert.ok(row, `a row for ${c.group} / ${c.label}:\n${out}`);
      if (c.group === 'idle') {
        assert.match(row['RSS/connection']!, /^-?\d+\.\d KB$/, `${c.label}: RSS/connection`);
        assert.match(row['RSS × bare']!, /^(-?\d+\.\d\d×|n\/a)$/, `${c.label}: RSS ratio`);
        continue;
      }
      assert.equal(row.lost, '0', `${c.group} / ${c.label} delivered everything:\n${out}`);
      assert.match(row['deliveries/s']!, /^[\d,]+$/, `${c.label}: deliveries/s`);
      assert.match(row['server CPU µs/delivery']!, /^\d+\.\d+$/, `${c.label}: CPU per delivery`);
      const ratios = Object.entries(row).filter(([k]) => k.includes('×'));
      assert.ok(ratios.length >= 1, `${c.label}: ratio columns`);
      for (const [k, v] of ratios) assert.match(v, /^\d+\.\d\d×$/, `${c.group} / ${c.label}: ${k}`);
      if (c.group === 'compression') {
        const accepted = c.server === 'bare-deflate' || c.server === 'sb-shared-deflate' ? CLIENTS : c.server === 'framed' || c.server === 'sb-idiom' ? 0 : undefined;
        if (accepted !== undefined) assert.match(row.note!, new RegExp(`deflate ${accepted}/${CLIENTS}$`), `${c.label}: negotiated deflate`);
      }
    }
    const targets = [...tables.keys()].find((h) => h.startsWith('targets'));
    assert.ok(targets && tables.get(targets)!.length >= 5, `the targets table:\n${out}`);
  });
});
