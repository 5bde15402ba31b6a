/**
 * The history-store conformance suite: every `HistoryStore` (in-memory, Redis, yours) runs the
 * same tests of the contract in `src/history/history-store.ts` (DESIGN.md §4), as channel layers
 * run `runChannelLayerConformance`. Only the public interface is used.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { InvalidGroupNameError, InvalidMessageError } from '../errors.js';
import type { HistoryEvent, HistoryStore, HistoryStoreOptions } from '../history/history-store.js';

/** Creates a fresh store for one test, with the given window options. */
export type HistoryStoreFactory = (options: HistoryStoreOptions) => HistoryStore | Promise<HistoryStore>;

/** Options of {@link runHistoryStoreConformance}. */
export interface HistoryStoreConformanceOptions {
  /** Tests this store does not pass, by exact name, with the reason. An unknown name throws. */
  skip?: Array<{ reason: string; tests: string[] }>;
}

interface HistoryCase {
  readonly name: string;
  /** Window options of the store this test gets. */
  readonly options?: HistoryStoreOptions;
  run(store: HistoryStore): Promise<void>;
}

const groupName = (): string => `history.group.${randomBytes(6).toString('hex')}`;
const texts = (events: readonly HistoryEvent[]): unknown[] => events.map((e) => e['text']);

async function appendAll(store: HistoryStore, group: string, count: number, from = 1): Promise<HistoryEvent[]> {
  const out: HistoryEvent[] = [];
  for (let i = from; i < from + count; i++) out.push(await store.append(group, { type: 'test.event', text: `e${i}` }));
  return out;
}

const CASES: readonly HistoryCase[] = [
  {
    name: 'assigns offsets 1, 2, 3… within one epoch and returns the stored event',
    async run(store) {
      const group = groupName();
      const [a, b, c] = await appendAll(store, group, 3);
      assert.deepEqual([a!.offset, b!.offset, c!.offset], [1, 2, 3]);
      assert.equal(a!.epoch, c!.epoch);
      assert.match(a!.epoch, /^[A-Za-z0-9_-]{1,64}$/);
      assert.equal(a!.type, 'test.event');
      assert.equal(a!['text'], 'e1');
      assert.ok(Object.isFrozen(a), 'the stored event is frozen');
      assert.deepEqual(await store.position(group), { epoch: a!.epoch, offset: 3 });
    },
  },
  {
    name: 'replaces an epoch and offset the event brought with it',
    async run(store) {
      const group = groupName();
      const stored = await store.append(group, { type: 'test.event', epoch: 'forged', offset: 99 });
      assert.equal(stored.offset, 1);
      assert.notEqual(stored.epoch, 'forged');
      const recovery = await store.since(group, { epoch: stored.epoch, offset: 0 });
      assert.ok(recovery.recovered);
      assert.deepEqual(recovery.events.map((e) => [e.epoch, e.offset]), [[stored.epoch, 1]]);
    },
  },
  {
    name: 'returns exactly the events after a position, in order',
    async run(store) {
      const group = groupName();
      const events = await appendAll(store, group, 6);
      const epoch = events[0]!.epoch;
      const recovery = await store.since(group, { epoch, offset: 2 });
      assert.equal(recovery.recovered, true);
      assert.ok(recovery.recovered);
      assert.deepEqual(texts(recovery.events), ['e3', 'e4', 'e5', 'e6']);
      assert.deepEqual(recovery.events.map((e) => e.offset), [3, 4, 5, 6]);
      assert.ok(recovery.events.every((e) => e.epoch === epoch && e.type === 'test.event'));
      assert.equal(recovery.offset, 6);
      const fromStart = await store.since(group, { epoch, offset: 0 });
      assert.ok(fromStart.recovered);
      assert.equal(fromStart.events.length, 6);
    },
  },
  {
    name: 'recovers nothing missed at the latest position',
    async run(store) {
      const group = groupName();
      const events = await appendAll(store, group, 2);
      assert.deepEqual(await store.since(group, { epoch: events[0]!.epoch, offset: 2 }), { recovered: true, epoch: events[0]!.epoch, offset: 2, events: [] });
    },
  },
  {
    name: 'gives an unused group offset 0 and a stable epoch',
    async run(store) {
      const group = groupName();
      const first = await store.position(group);
      assert.equal(first.offset, 0);
      assert.deepEqual(await store.position(group), first, 'the same epoch on the next call');
      assert.deepEqual(await store.since(group, first), { recovered: true, epoch: first.epoch, offset: 0, events: [] });
      const stored = await store.append(group, { type: 'test.event' });
      assert.deepEqual([stored.epoch, stored.offset], [first.epoch, 1]);
    },
  },
  {
    name: 'refuses recovery from another epoch',
    async run(store) {
      const group = groupName();
      const events = await appendAll(store, group, 3);
      const recovery = await store.since(group, { epoch: 'another-epoch', offset: 1 });
      assert.deepEqual(recovery, { recovered: false, epoch: events[0]!.epoch, offset: 3 });
    },
  },
  {
    name: 'refuses recovery from a position ahead of the group',
    async run(store) {
      const group = groupName();
      const events = await appendAll(store, group, 2);
      assert.deepEqual(await store.since(group, { epoch: events[0]!.epoch, offset: 3 }), { recovered: false, epoch: events[0]!.epoch, offset: 2 });
    },
  },
  {
    name: 'recovers a gap of maxEvents events and refuses a longer one',
    options: { maxEvents: 5 },
    async run(store) {
      const group = groupName();
      const events = await appendAll(store, group, 12);
      const epoch = events[0]!.epoch;
      const within = await store.since(group, { epoch, offset: 7 });
      assert.ok(within.recovered, 'exactly maxEvents missed');
      assert.deepEqual(texts(within.events), ['e8', 'e9', 'e10', 'e11', 'e12']);
      assert.deepEqual(await store.since(group, { epoch, offset: 6 }), { recovered: false, epoch, offset: 12 }, 'one more than maxEvents missed: no partial replay');
      assert.deepEqual(await store.since(group, { epoch, offset: 0 }), { recovered: false, epoch, offset: 12 });
    },
  },
  {
    name: 'refuses recovery when the first missed event is older than ttlMs',
    options: { ttlMs: 300 },
    async run(store) {
      const group = groupName();
      const [old] = await appendAll(store, group, 1);
      await delay(450); // time itself must pass
      await appendAll(store, group, 2, 2);
      const epoch = old!.epoch;
      assert.deepEqual(await store.since(group, { epoch, offset: 0 }), { recovered: false, epoch, offset: 3 }, 'e1 expired: no partial replay of e2, e3');
      const recent = await store.since(group, { epoch, offset: 1 });
      assert.ok(recent.recovered, 'the events after the expired one are still recoverable');
      assert.deepEqual(texts(recent.events), ['e2', 'e3']);
    },
  },
  {
    name: 'keeps the epoch and latest offset after the events expired, so an up-to-date position still recovers',
    options: { ttlMs: 200, metaTtlMs: 60_000 },
    async run(store) {
      const group = groupName();
      const [event] = await appendAll(store, group, 1);
      await delay(350);
      assert.deepEqual(await store.since(group, { epoch: event!.epoch, offset: 1 }), { recovered: true, epoch: event!.epoch, offset: 1, events: [] });
      assert.deepEqual(await store.since(group, { epoch: event!.epoch, offset: 0 }), { recovered: false, epoch: event!.epoch, offset: 1 });
      const next = await store.append(group, { type: 'test.event' });
      assert.deepEqual([next.epoch, next.offset], [event!.epoch, 2], 'offsets go on in the same epoch');
    },
  },
  {
    name: 'starts a new epoch when the history is lost, and refuses positions of the old one',
    async run(store) {
      const group = groupName();
      const [before] = await appendAll(store, group, 3);
      await store.flush();
      const after = await store.append(group, { type: 'test.event', text: 'after' });
      assert.notEqual(after.epoch, before!.epoch);
      assert.equal(after.offset, 1);
      assert.deepEqual(await store.since(group, { epoch: before!.epoch, offset: 0 }), { recovered: false, epoch: after.epoch, offset: 1 });
    },
  },
  {
    name: 'keeps groups apart',
    async run(store) {
      const [g1, g2] = [groupName(), groupName()];
      const a = await store.append(g1, { type: 'test.event', text: 'a' });
      const b = await store.append(g2, { type: 'test.event', text: 'b' });
      assert.equal(b.offset, 1, 'each group counts from 1');
      const r1 = await store.since(g1, { epoch: a.epoch, offset: 0 });
      assert.ok(r1.recovered);
      assert.deepEqual(texts(r1.events), ['a']);
      assert.equal((await store.since(g2, { epoch: a.epoch, offset: 0 })).recovered, a.epoch === b.epoch);
    },
  },
  {
    name: 'gives concurrent appends distinct offsets with no gap, in the stored order',
    options: { maxEvents: 500 },
    async run(store) {
      const group = groupName();
      const stored = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(group, { type: 'test.event', text: `c${i}` })));
      const offsets = stored.map((e) => e.offset).sort((x, y) => x - y);
      assert.deepEqual(offsets, Array.from({ length: 200 }, (_, i) => i + 1));
      const recovery = await store.since(group, { epoch: stored[0]!.epoch, offset: 0 });
      assert.ok(recovery.recovered);
      const byOffset = new Map(stored.map((e) => [e.offset, e['text']]));
      assert.deepEqual(texts(recovery.events), recovery.events.map((e) => byOffset.get(e.offset)), 'each offset replays the event it was given');
    },
  },
  {
    name: 'refuses a bad group name and an invalid event',
    async run(store) {
      await assert.rejects(store.append('bad group', { type: 'x' }), (err: unknown) => err instanceof InvalidGroupNameError && err.code === 'SB_ERR_INVALID_GROUP_NAME');
      await assert.rejects(store.since('bad group', { epoch: 'e', offset: 0 }), InvalidGroupNameError);
      await assert.rejects(store.position(''), InvalidGroupNameError);
      await assert.rejects(store.append(groupName(), { type: '' } as never), (err: unknown) => err instanceof InvalidMessageError && err.code === 'SB_ERR_INVALID_MESSAGE');
      await assert.rejects(store.append(groupName(), { type: 'x', n: 1n } as never), InvalidMessageError);
    },
  },
];

/** Names of the conformance tests, for `skip`. */
export const HISTORY_STORE_CONFORMANCE_TESTS: readonly string[] = CASES.map((c) => c.name);

/**
 * Registers `describe("history store conformance: <name>")` with one `it` per behaviour. Each test
 * gets a fresh store from `factory` (with its window options), flushed and closed afterwards.
 * @param skipAll - a reason to skip every test (e.g. Redis unreachable), or `false`.
 * @throws Error at registration for a skip naming an unknown test.
 */
export function runHistoryStoreConformance(name: string, factory: HistoryStoreFactory, options: HistoryStoreConformanceOptions & { skipAll?: () => string | false } = {}): void {
  const skipped = new Map<string, string>();
  for (const { reason, tests } of options.skip ?? []) {
    for (const test of tests) {
      if (!HISTORY_STORE_CONFORMANCE_TESTS.includes(test)) throw new Error(`runHistoryStoreConformance(${JSON.stringify(name)}): no test named ${JSON.stringify(test)}`);
      skipped.set(test, reason);
    }
  }
  describe(`history store conformance: ${name}`, () => {
    for (const testCase of CASES) {
      const reason = skipped.get(testCase.name);
      it(testCase.name, reason === undefined ? {} : { skip: reason }, async (t) => {
        const why = options.skipAll?.() ?? false;
        if (why) return t.skip(why);
        const store = await factory(testCase.options ?? {});
        try {
          await testCase.run(store);
        } finally {
          await store.flush().catch(() => undefined);
          await store.close();
        }
      });
    }
  });
}
