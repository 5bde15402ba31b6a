/**
 * The benchmark's output: one Markdown table per group (medians over the runs, ratios to the
 * group's yardsticks measured in the same run) and the targets as ratios. Every figure
 * is finite; a figure that cannot be computed prints `n/a`.
 */
import { config, type Group } from './config.js';
import type { Case } from './plan.js';
import type { Sample } from './measure.js';

/** A case with its runs' samples. */
export interface Result {
  readonly case: Case;
  readonly samples: readonly Sample[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Median figures of a result. */
export interface Figures {
  /** Deliveries per second, µs of server CPU per delivery, deliveries lost over all runs. */
  readonly rate: number;
  readonly cpu: number;
  readonly lost: number;
  readonly rss: number;
  readonly heap: number;
  readonly deflate: number;
  /** Server CPU time ÷ window time: below ~90% at saturation, something else set the pace. */
  readonly busy: number;
  /** The publisher's CPU µs per delivery (Redis rows), else NaN. */
  readonly senderCpu: number;
}

export function figures(r: Result): Figures {
  const m = (f: (s: Sample) => number): number => median(r.samples.map(f));
  return {
    rate: m((s) => s.received / (s.ms / 1000)),
    cpu: m((s) => s.cpuUs / s.received),
    lost: r.samples.reduce((sum, s) => sum + (s.expected - s.received), 0),
    rss: m((s) => s.rssPerConn ?? NaN),
    heap: m((s) => s.heapPerConn ?? NaN),
    deflate: Math.min(...r.samples.map((s) => s.deflate)),
    busy: m((s) => s.cpuUs / (s.ms * 1000)),
    senderCpu: m((s) => (s.senderCpuUs === undefined ? NaN : s.senderCpuUs / s.received)),
  };
}

const ok = (n: number): boolean => Number.isFinite(n) && n > 0;
const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const us = (n: number): string => (Number.isFinite(n) ? n.toFixed(n < 10 ? 3 : 2) : 'n/a');
const pct = (n: number): string => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : 'n/a');
const kb = (n: number): string => (Number.isFinite(n) ? `${(n / 1024).toFixed(1)} KB` : 'n/a');
/** `a / b` as `1.23×`, or `n/a` when either is not a positive number. */
export const ratio = (a: number, b: number): string => (ok(a) && ok(b) ? `${(a / b).toFixed(2)}×` : 'n/a');

/** The group's heading line. */
export function heading(group: Group): string {
  switch (group) {
    case 'rate':
      return `fan-out at a fixed rate: ${config.clients} receivers in one room, ${config.rate} broadcasts/s of a ~100-byte chat message for ${config.seconds} s`;
    case 'saturation':
      return `fan-out at saturation: ${config.clients} receivers in one room, ${config.messages} broadcasts of ~100 bytes, ten per event-loop turn`;
    case 'idle':
      return `idle memory: ${config.idle} open connections, server growth per connection after full collections`;
    case 'rooms':
      return `many small rooms: ${config.rooms} rooms × ${config.roomSize} clients, each sending ${config.roomRate} msg/s for ${config.seconds} s (every message to its whole room)`;
    case 'compression':
      return `compression: ${config.clients} receivers offering permessage-deflate, ${config.compressionMessages} broadcasts of ~1 KB JSON at saturation`;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** The group's table, Markdown. */
export function groupTable(group: Group, results: readonly Result[]): string {
  const mine = results.filter((r) => r.case.group === group);
  const by = (role: 'bare' | 'framed'): Figures | undefined => {
    const r = mine.find((x) => x.case.role === role);
    return r && figures(r);
  };
  const bare = by('bare');
  const framed = by('framed');
  if (group === 'idle') {
    return table([
      ['scenario', 'RSS/connection', 'RSS × bare', 'heap/connection', 'note'],
      ...mine.map((r) => {
        const f = figures(r);
        return [r.case.label, kb(f.rss), ratio(f.rss, bare?.rss ?? NaN), kb(f.heap), r.case.note];
      }),
    ]);
  }
  const head = ['scenario', 'deliveries/s', 'server busy', 'server CPU µs/delivery'];
  if (group === 'compression') head.push('CPU × per-socket', 'CPU × framed');
  else head.push('CPU × bare', ...(framed ? ['CPU × framed', 'deliveries × bare'] : []));
  head.push('lost', 'note');
  return table([
    head,
    ...mine.map((r) => {
      const f = figures(r);
      const row = [r.case.label, int(f.rate), pct(f.busy), us(f.cpu), ratio(f.cpu, bare?.cpu ?? NaN)];
      if (framed) row.push(ratio(f.cpu, framed.cpu));
      if (framed && group !== 'compression') row.push(ratio(f.rate, bare?.rate ?? NaN));
      let note = r.case.deflate ? `${r.case.note}; deflate ${f.deflate}/${config.clients}` : r.case.note;
      if (Number.isFinite(f.senderCpu)) note += `; publisher ${us(f.senderCpu)} µs/delivery`;
      // Below 90% of the offered rate the server could not keep up: that row measured saturation.
      if (group === 'rate' && f.rate < 0.9 * config.rate * config.clients) note += '; BEHIND the offered rate';
      row.push(int(f.lost), note);
      return row;
    }),
  ]);
}

/** The targets, each as the measured ratio and whether it is met (a reading aid, not a test). */
export function targets(results: readonly Result[]): string {
  const find = (group: Group, server: string): Figures | undefined => {
    const r = results.find((x) => x.case.group === group && x.case.server === server);
    return r && figures(r);
  };
  // Saturation: ten broadcasts per turn make the write pattern the same in every run, while a
  // fixed-rate row's coalescing depends on how late the server's ticks ran (docs/performance.md).
  const fan = (server: string): Figures | undefined => find('saturation', server) ?? find('rate', server);
  const rows: string[][] = [['target', 'measured', 'met']];
  const add = (target: string, a: number | undefined, b: number | undefined, limit: number, atLeast = false): void => {
    if (a === undefined || b === undefined) return;
    const r = a / b;
    const met = !Number.isFinite(limit) ? '-' : ok(a) && ok(b) ? ((atLeast ? r >= limit : r <= limit) ? 'yes' : 'no') : 'n/a';
    rows.push([target, ratio(a, b), met]);
  };
  add('natural handler ≤ 1.3× idiom CPU/delivery (saturation)', fan('sb-natural')?.cpu, fan('sb-idiom')?.cpu, 1.3);
  add('idiom ≤ 1.2× framed-once+cork CPU/delivery (saturation)', fan('sb-idiom')?.cpu, fan('framed')?.cpu, 1.2);
  add('idle RSS/connection ≤ 1.2× bare ws', find('idle', 'sb-idle')?.rss, find('idle', 'bare')?.rss, 1.2);
  add('many small rooms CPU/delivery ≤ bare ws', find('rooms', 'sb-rooms')?.cpu, find('rooms', 'bare-rooms')?.cpu, 1);
  add('redis fan-out ≥ 1.3× socket.io + redis adapter deliveries/s', find('saturation', 'sb-redis')?.rate, find('saturation', 'socketio-redis')?.rate, 1.3, true);
  add('shared compression ≤ 1.5× uncompressed framed CPU/delivery', find('compression', 'sb-shared-deflate')?.cpu, find('compression', 'framed')?.cpu, 1.5);
  add('(per-socket deflate vs uncompressed framed, for scale)', find('compression', 'bare-deflate')?.cpu, find('compression', 'framed')?.cpu, Infinity);
  return rows.length > 1 ? table(rows) : '';
}
