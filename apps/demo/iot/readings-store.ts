/**
 * Recent sensor readings, so a page opened late first gets the last readings of a sensor before
 * the live ones (SEEDS.md system 2, issue 5).
 *
 * Two implementations, chosen by configuration ({@link createReadingsStore}):
 * - {@link MemoryReadingsStore}: a ring per sensor in this process. Enough for one process (the
 *   in-memory channel layer cannot cross processes either).
 * - {@link RedisReadingsStore}: a Redis list per sensor (`LPUSH` + `LTRIM`), so every process
 *   behind the load balancer sees the readings any process ingested. Used whenever the demo runs
 *   on the Redis channel layer: with several processes, a reading POSTed to process A must show in
 *   the history a page on process B gets.
 *
 * This is a cache of recent values, not a time-series database: readings older than the last
 * `perSensor` are dropped, and a Redis list expires after `ttlMs` without a new reading.
 */
import type { Redis } from 'ioredis';

/** One stored reading. */
export interface StoredReading {
  /** Position in the sensor's sequence: 1, 2, 3, ... across all processes. Clients dedupe by it. */
  readonly seq: number;
  /** The measured value (any finite number). */
  readonly value: number;
  /** When it was measured, ISO-8601 in UTC (`2024-05-01T12:00:00.000Z`). */
  readonly ts: string;
}

/** A reading to store: `seq` is assigned by the store. */
export interface NewReading {
  readonly value: number;
  readonly ts: string;
}

/**
 * Bounded per-sensor history of readings.
 *
 * Guarantees: `add` assigns consecutive `seq` numbers to its readings, in order, atomically (two
 * concurrent `add`s, even from two processes on Redis, never get the same numbers, and the list
 * order is the `seq` order); `recent` returns at most `perSensor` readings, oldest first.
 */
export interface ReadingsStore {
  /** Readings kept per sensor. */
  readonly perSensor: number;
  /** Whether every process sharing the backend sees the same readings. */
  readonly shared: boolean;
  /**
   * Appends readings (in the given order) to `sensor`'s history and drops the oldest beyond
   * `perSensor`. Returns them with their `seq`.
   */
  add(sensor: string, readings: readonly NewReading[]): Promise<StoredReading[]>;
  /** The last `limit` (default `perSensor`) readings of `sensor`, oldest first; `[]` if unknown. */
  recent(sensor: string, limit?: number): Promise<StoredReading[]>;
  /** Forgets every sensor (tests). */
  clear(): Promise<void>;
  /** Releases the backend (a Redis store closes its connection only if it opened it). */
  close(): Promise<void>;
}

/** Options shared by both stores. */
export interface ReadingsStoreOptions {
  /** Readings kept per sensor. Default 200. */
  perSensor?: number;
}

function checkPerSensor(perSensor: number): number {
  if (!Number.isSafeInteger(perSensor) || perSensor < 1 || perSensor > 100_000) {
    throw new RangeError(`readings store: perSensor must be a whole number from 1 to 100000, got ${perSensor}`);
  }
  return perSensor;
}

/** A fixed-size ring of readings, oldest overwritten first. */
class Ring {
  readonly #items: StoredReading[] = [];
  #start = 0;
  nextSeq = 1;
  constructor(readonly capacity: number) {}

  push(reading: StoredReading): void {
    if (this.#items.length < this.capacity) this.#items.push(reading);
    else {
      this.#items[this.#start] = reading;
      this.#start = (this.#start + 1) % this.capacity;
    }
  }

  last(limit: number): StoredReading[] {
    const n = this.#items.length;
    const take = Math.min(limit, n);
    const out: StoredReading[] = new Array(take);
    for (let i = 0; i < take; i++) out[i] = this.#items[(this.#start + n - take + i) % n]!;
    return out;
  }
}

/**
 * In-process store: a ring of the last `perSensor` readings per sensor, at most `maxSensors`
 * sensors (the sensor not written to for the longest time is forgotten first). One process only.
 */
export class MemoryReadingsStore implements ReadingsStore {
  readonly perSensor: number;
  readonly shared = false;
  readonly #maxSensors: number;
  // Map order is insertion order; a write re-inserts, so the first key is the least recently written.
  readonly #rings = new Map<string, Ring>();

  /** @param options.maxSensors - sensors kept, default 10_000. */
  constructor(options: ReadingsStoreOptions & { maxSensors?: number } = {}) {
    this.perSensor = checkPerSensor(options.perSensor ?? 200);
    this.#maxSensors = options.maxSensors ?? 10_000;
  }

  async add(sensor: string, readings: readonly NewReading[]): Promise<StoredReading[]> {
    let ring = this.#rings.get(sensor);
    if (ring === undefined) {
      ring = new Ring(this.perSensor);
      if (this.#rings.size >= this.#maxSensors) {
        const oldest = this.#rings.keys().next().value;
        if (oldest !== undefined) this.#rings.delete(oldest);
      }
    } else {
      this.#rings.delete(sensor);
    }
    this.#rings.set(sensor, ring);
    const stored: StoredReading[] = [];
    for (const r of readings) {
      const reading: StoredReading = { seq: ring.nextSeq++, value: r.value, ts: r.ts };
      ring.push(reading);
      stored.push(reading);
    }
    return stored;
  }

  async recent(sensor: string, limit = this.perSensor): Promise<StoredReading[]> {
    return this.#rings.get(sensor)?.last(Math.min(limit, this.perSensor)) ?? [];
  }

  async clear(): Promise<void> {
    this.#rings.clear();
  }

  async close(): Promise<void> {}
}

/** Options of {@link RedisReadingsStore}. */
export interface RedisReadingsStoreOptions extends ReadingsStoreOptions {
  /** Key prefix; keys are `<prefix>iot:<sensor>:readings` and `…:seq`. Default `sb:demo:`. */
  prefix?: string;
  /** A sensor's keys expire this long after its last reading, in milliseconds. Default 7 days. */
  ttlMs?: number;
  /** Whether `close()` also closes `redis`. Default `false` (the caller owns the client). */
  ownsClient?: boolean;
}

// Atomic append: numbers the readings with INCRBY and pushes them in that order, so the list order
// is the seq order even when two processes append to the same sensor at once.
// KEYS[1] list, KEYS[2] seq counter; ARGV[1] perSensor, ARGV[2] ttl ms, ARGV[3..] JSON objects
// `{"value":…,"ts":"…"}` encoded by JS. The script splices `"seq":n,` in front of each without
// decoding it, so values keep JS's full float precision (Lua's cjson would round to 14 digits).
// Returns the seq of the first reading.
const APPEND_SCRIPT = `
local n = #ARGV - 2
local last = redis.call('INCRBY', KEYS[2], n)
local first = last - n + 1
for i = 1, n do
  redis.call('LPUSH', KEYS[1], '{"seq":' .. string.format('%d', first + i - 1) .. ',' .. string.sub(ARGV[i + 2], 2))
end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return first
`;

/**
 * Shared store: one Redis list per sensor, newest first (`LPUSH`, then `LTRIM` to `perSensor`),
 * plus a `seq` counter; both written by one Lua script, so appends are atomic across processes.
 * One `EVAL` per `add` (a whole batch), one `LRANGE` per `recent`.
 */
export class RedisReadingsStore implements ReadingsStore {
  readonly perSensor: number;
  readonly shared = true;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #ownsClient: boolean;

  /** @param redis - an ioredis client (not in subscriber mode). */
  constructor(redis: Redis, options: RedisReadingsStoreOptions = {}) {
    this.perSensor = checkPerSensor(options.perSensor ?? 200);
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'sb:demo:';
    this.#ttlMs = options.ttlMs ?? 7 * 24 * 3600 * 1000;
    this.#ownsClient = options.ownsClient ?? false;
  }

  #keys(sensor: string): [string, string] {
    const base = `${this.#prefix}iot:${sensor}`;
    return [`${base}:readings`, `${base}:seq`];
  }

  async add(sensor: string, readings: readonly NewReading[]): Promise<StoredReading[]> {
    if (readings.length === 0) return [];
    const [list, seq] = this.#keys(sensor);
    const args = readings.map((r) => JSON.stringify({ value: r.value, ts: r.ts }));
    const first = Number(await this.#redis.eval(APPEND_SCRIPT, 2, list, seq, String(this.perSensor), String(this.#ttlMs), ...args));
    return readings.map((r, i) => ({ seq: first + i, value: r.value, ts: r.ts }));
  }

  async recent(sensor: string, limit = this.perSensor): Promise<StoredReading[]> {
    const take = Math.min(limit, this.perSensor);
    if (take <= 0) return [];
    const [list] = this.#keys(sensor);
    const items = await this.#redis.lrange(list, 0, take - 1);
    const out: StoredReading[] = [];
    for (let i = items.length - 1; i >= 0; i--) {
      const r = JSON.parse(items[i]!) as { seq: number; value: number; ts: string };
      out.push({ seq: Number(r.seq), value: Number(r.value), ts: String(r.ts) });
    }
    return out;
  }

  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}iot:*`, 'COUNT', 500);
      if (keys.length > 0) await this.#redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#redis.quit().catch(() => undefined);
  }
}

/**
 * Picks the store for the configuration: {@link RedisReadingsStore} when a Redis client is given
 * (the demo passes one when `CHANNEL_LAYER_URL` is `redis://…`, i.e. when several processes may
 * serve the same sensors), else {@link MemoryReadingsStore}.
 */
export function createReadingsStore(options: { redis?: Redis | undefined } & RedisReadingsStoreOptions = {}): ReadingsStore {
  const { redis, ...rest } = options;
  return redis ? new RedisReadingsStore(redis, rest) : new MemoryReadingsStore(rest);
}
