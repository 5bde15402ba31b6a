/**
 * `RedisHistoryStore`: per-group history shared by every process on one Redis (DESIGN.md §4).
 *
 * Keys (hash-tagged by group, so a group's keys share a Redis Cluster slot):
 * - `${prefix}history:{group}:meta`: hash `{epoch, top}`, PEXPIRE `metaTtlMs` after its last use;
 * - `${prefix}history:{group}:stream`: a Redis Stream, entry ID `<offset>-0`, fields
 *   `t` (Redis `TIME` in ms) and `e` (the event's JSON without its position), `XADD MAXLEN ~
 *   maxEvents`, PEXPIRE `ttlMs` after the last append.
 *
 * Offset assignment and append are one Lua script (HINCRBY + XADD), so appends from any number
 * of processes get distinct offsets in the order Redis ran them. When the meta hash is missing (first
 * use, expired, Redis restarted without persistence, FLUSHDB) the script creates a new epoch and
 * drops any stream left behind: positions of the old epoch never recover against the new one.
 * `since` is one script too (meta + XRANGE), so it sees one consistent state. The window is
 * checked exactly (at most `maxEvents` missed, the first missed one younger than `ttlMs`, by
 * Redis' clock), whatever the approximate trimming kept.
 *
 * Cost: `append` one EVALSHA (HGET, HINCRBY, XADD, 2 PEXPIRE); `since` one EVALSHA (XRANGE of
 * the missed entries); `position` one EVALSHA.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_LAYER_OPTIONS, validateGroupName, validateMessage, type LayerMessage } from '../layers/channel-layer.js';
import { resolveHistoryOptions, type HistoryEvent, type HistoryRecovery, type HistoryStore, type HistoryStoreOptions, type ResolvedHistoryOptions } from '../history/history-store.js';
import type { HistoryPosition } from '../history/position.js';
import { resolveConnectionOptions, type RedisConnectionOptions } from './connection-options.js';
import type { Connection } from './connections.js';
import { StoreConnection } from './store-connection.js';

/** Millisecond clock of the Redis server, and the meta hash created when missing. */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local top = 0
if epoch then
  top = tonumber(redis.call('HGET', KEYS[1], 'top'))
else
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'top', 0)
end
`;

/** KEYS = meta, stream; ARGV = new epoch, metaTtlMs, maxEvents, ttlMs, event JSON. Returns {epoch, offset}. */
const APPEND = `${PRELUDE}
top = redis.call('HINCRBY', KEYS[1], 'top', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], top .. '-0', 't', now, 'e', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {epoch, top}
`;

/**
 * KEYS = meta, stream; ARGV = new epoch, metaTtlMs, maxEvents, ttlMs, client epoch, client offset.
 * Returns {epoch, top, recovered (1|0), event JSON...}.
 */
const SINCE = `${PRELUDE}
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local from = tonumber(ARGV[6])
if epoch ~= ARGV[5] or from > top or top - from > tonumber(ARGV[3]) then return {epoch, top, 0} end
if from == top then return {epoch, top, 1} end
local entries = redis.call('XRANGE', KEYS[2], (from + 1) .. '-0', '+')
if #entries ~= top - from or entries[1][1] ~= (from + 1) .. '-0' then return {epoch, top, 0} end
local fields = entries[1][2]
if tonumber(fields[2]) < now - tonumber(ARGV[4]) then return {epoch, top, 0} end
local out = {epoch, top, 1}
for i, entry in ipairs(entries) do out[i + 3] = entry[2][4] end
return out
`;

/** KEYS = meta, stream; ARGV = new epoch, metaTtlMs. Returns {epoch, top}. */
const POSITION = `${PRELUDE}
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {epoch, top}
`;

/**
 * Options for {@link RedisHistoryStore}: the history window and the shared Redis connection
 * options (`url`, `prefix`, `cluster`, `redisOptions`, `connectTimeoutMs` 10_000, `logger`).
 */
export interface RedisHistoryStoreOptions extends HistoryStoreOptions, RedisConnectionOptions {}

type Scripted = Connection & {
  sbHistoryAppend(meta: string, stream: string, epoch: string, metaTtlMs: number, maxEvents: number, ttlMs: number, json: string): Promise<[string, number]>;
  sbHistorySince(meta: string, stream: string, epoch: string, metaTtlMs: number, maxEvents: number, ttlMs: number, since: string, offset: number): Promise<[string, number, number, ...string[]]>;
  sbHistoryPosition(meta: string, stream: string, epoch: string, metaTtlMs: number): Promise<[string, number]>;
};

function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}

/** History in Redis streams, consistent across processes. */
export class RedisHistoryStore implements HistoryStore {
  readonly options: ResolvedHistoryOptions;
  readonly #connection: StoreConnection;
  readonly #redis: Scripted;
  readonly #prefix: string;

  /**
   * @throws RangeError for bad window options, a bad prefix or a non-positive
   *   `connectTimeoutMs`; TypeError for a bad URL, cluster or logger.
   */
  constructor(options: RedisHistoryStoreOptions = {}) {
    const { url, prefix, cluster, redisOptions, connectTimeoutMs, logger, ...window } = options;
    this.options = resolveHistoryOptions(window);
    const config = resolveConnectionOptions({ url, prefix, cluster, redisOptions, connectTimeoutMs, logger }, 'RedisHistoryStore');
    this.#prefix = config.prefix;
    this.#connection = new StoreConnection(config, { component: 'RedisHistoryStore', role: 'history', meanwhile: 'history operations reject with RedisUnavailableError' });
    const redis = this.#connection.redis;
    redis.defineCommand('sbHistoryAppend', { numberOfKeys: 2, lua: APPEND });
    redis.defineCommand('sbHistorySince', { numberOfKeys: 2, lua: SINCE });
    redis.defineCommand('sbHistoryPosition', { numberOfKeys: 2, lua: POSITION });
    this.#redis = redis as Scripted;
  }

  async append(group: string, event: LayerMessage): Promise<HistoryEvent> {
    validateGroupName(group, 'history.append');
    const { epoch: _e, offset: _o, ...plain } = event;
    const json = validateMessage(plain, DEFAULT_LAYER_OPTIONS.maxMessageBytes, 'history.append');
    const [meta, stream] = this.#keys(group);
    const { maxEvents, ttlMs, metaTtlMs } = this.options;
    const [epoch, offset] = await this.#command('append', group, () => this.#redis.sbHistoryAppend(meta, stream, newEpoch(), metaTtlMs, maxEvents, ttlMs, json));
    return Object.freeze({ ...plain, epoch, offset }) as unknown as HistoryEvent;
  }

  async since(group: string, position: HistoryPosition): Promise<HistoryRecovery> {
    validateGroupName(group, 'history.since');
    const [meta, stream] = this.#keys(group);
    const { maxEvents, ttlMs, metaTtlMs } = this.options;
    // An offset Redis cannot hold exactly can never be recovered; -1 fails the script's checks.
    const from = Number.isSafeInteger(position.offset) && position.offset >= 0 ? position.offset : Number.MAX_SAFE_INTEGER;
    const reply = await this.#command('since', group, () => this.#redis.sbHistorySince(meta, stream, newEpoch(), metaTtlMs, maxEvents, ttlMs, String(position.epoch), from));
    const [epoch, top, recovered, ...entries] = reply;
    if (recovered !== 1) return { recovered: false, epoch, offset: top };
    const events = entries.map((json, i) => Object.freeze({ ...(JSON.parse(json) as LayerMessage), epoch, offset: from + 1 + i }) as HistoryEvent);
    return { recovered: true, epoch, offset: top, events };
  }

  async position(group: string): Promise<HistoryPosition> {
    validateGroupName(group, 'history.position');
    const [meta, stream] = this.#keys(group);
    const [epoch, offset] = await this.#command('position', group, () => this.#redis.sbHistoryPosition(meta, stream, newEpoch(), this.options.metaTtlMs));
    return { epoch, offset };
  }

  async flush(): Promise<void> {
    await this.#connection.deleteKeys(`history.flush(${JSON.stringify(this.#prefix)})`, 'history:*');
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }

  #keys(group: string): [string, string] {
    const base = `${this.#prefix}history:{${group}}`;
    return [`${base}:meta`, `${base}:stream`];
  }

  /** Runs a command with the backend's outage policy (see `store-connection.ts`). */
  #command<T>(op: string, group: string, run: () => Promise<T>): Promise<T> {
    return this.#connection.run(`history.${op}(${JSON.stringify(group)})`, run);
  }
}
