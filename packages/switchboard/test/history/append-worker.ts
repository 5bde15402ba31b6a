/**
 * Child process of test/history/redis-history.test.ts: appends `count` events to one group of a
 * shared RedisHistoryStore as fast as it can (64 in flight) and prints the offsets it got, in the
 * order the appends were issued, as one JSON line.
 *
 *   node append-worker.js <redis url> <prefix> <group> <count> <name>
 */
import { RedisHistoryStore } from '../../src/redis/redis-history-store.js';

const [url, prefix, group, countText, name] = process.argv.slice(2) as [string, string, string, string, string];
const store = new RedisHistoryStore({ url, prefix, maxEvents: 10_000 });
const count = Number(countText);
const offsets: number[] = new Array<number>(count);
let next = 0;
async function lane(): Promise<void> {
  while (next < count) {
    const i = next++;
    offsets[i] = (await store.append(group, { type: 'test.event', from: name, i })).offset;
  }
}
await Promise.all(Array.from({ length: 64 }, lane));
process.stdout.write(`${JSON.stringify({ name, offsets })}\n`);
await store.close();
