/**
 * The Lua scripts of the Redis layer. Each runs atomically on the server, so "check the capacity,
 * then push" cannot race with another process (channels_redis does the same with its own Lua).
 * ioredis sends them with EVALSHA and falls back to EVAL after a `NOSCRIPT` (e.g. once Redis
 * restarted), so a restart needs no special handling.
 *
 * List items are `<deadline ms>:<frame>` (see `codec.ts`); scripts compare the decimal deadline
 * with the `now` the caller passes (the caller's clock, as channels_redis does), dropping expired
 * items from the head of the list before they count against `capacity`.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Frame } from './codec.js';

/** Drops expired items from the head of list `key`; returns how many. */
const TRIM = `
local function trim(key, now)
  local expired = 0
  while true do
    local head = redis.call('LINDEX', key, 0)
    if not head then break end
    local deadline = tonumber(string.match(head, '^(%d+):'))
    if deadline and deadline > now then break end
    redis.call('LPOP', key)
    expired = expired + 1
  end
  return expired
end
local function push(key, item, now, capacity, expiryMs)
  local expired = trim(key, now)
  if redis.call('LLEN', key) >= capacity then return 0, expired end
  redis.call('RPUSH', key, item)
  redis.call('PEXPIRE', key, expiryMs)
  return 1, expired
end
`;

/**
 * KEYS[1] = list; ARGV = now, capacity, expiryMs, item.
 * Returns `{queued (1) or full (0), expired}`.
 */
const PUSH = `${TRIM}
local ok, expired = push(KEYS[1], ARGV[4], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3])
return {ok, expired}
`;

/**
 * KEYS[1] = zset of the group's named-channel members (`group-named:<group>`), KEYS[2] = the set
 * of groups with named members (`named-groups`);
 * ARGV = pub/sub channel, frame, now, deadline, capacity, expiryMs, list-key prefix, group.
 * One PUBLISH, then pushes to the lists of the group's live named members. The layer only runs
 * it for a group marked in `named-groups` (or before it knows the marks, `named-groups.ts`);
 * with no live named member left it unmarks the group (atomically: a concurrent add re-marks
 * it after). Returns `{processes reached, named queued, named full, expired, live named members}`.
 * Touches keys it was not given (the members' lists), so it is for a single Redis server only;
 * the cluster path does the same work from the client.
 */
const GROUP_SEND = `${TRIM}
local processes = redis.call('PUBLISH', ARGV[1], ARGV[2])
local now = tonumber(ARGV[3])
local members = {}
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  members = redis.call('ZRANGE', KEYS[1], 0, -1)
end
if #members == 0 then
  redis.call('SREM', KEYS[2], ARGV[8])
  return {processes, 0, 0, 0, 0}
end
local item = ARGV[4] .. ':' .. ARGV[2]
local capacity = tonumber(ARGV[5])
local queued, full, expired = 0, 0, 0
for _, member in ipairs(members) do
  local ok, dropped = push(ARGV[7] .. member, item, now, capacity, ARGV[6])
  queued = queued + ok
  full = full + 1 - ok
  expired = expired + dropped
end
return {processes, queued, full, expired, #members}
`;

/**
 * KEYS as {@link GROUP_SEND}; ARGV = pub/sub channel, frame, now, group.
 * The PUBLISH of {@link GROUP_SEND}, returning the live named members instead of pushing to
 * them, for a layer whose named channels have capacities of their own (`channelCapacity`): the
 * caller pushes with each member's capacity. Unmarks the group when none is left. Returns
 * `{processes, member...}`.
 */
const GROUP_SEND_LIST = `
local processes = redis.call('PUBLISH', ARGV[1], ARGV[2])
local out = {}
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[3]))
  out = redis.call('ZRANGE', KEYS[1], 0, -1)
end
if #out == 0 then redis.call('SREM', KEYS[2], ARGV[4]) end
table.insert(out, 1, processes)
return out
`;

/** KEYS[1] = group zset; ARGV = now. Removes expired members, returns the live count. */
const GROUP_SIZE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
`;

/** Typed entry points to the scripts, bound to one connection. */
export interface LayerScripts {
  /** Capacity-checked push to a named channel's list. Resolves `[queued 1 | full 0, expired]`. */
  push(listKey: string, now: number, capacity: number, expiryMs: number, item: Frame): Promise<[number, number]>;
  /** One PUBLISH plus pushes to named members. Resolves `[processes, queued, full, expired, live named]`. */
  groupSend(
    namedKey: string,
    markersKey: string,
    group: string,
    pubsubChannel: string,
    frame: Frame,
    now: number,
    deadline: number,
    capacity: number,
    expiryMs: number,
    listKeyPrefix: string,
  ): Promise<[number, number, number, number, number]>;
  /** One PUBLISH; resolves `[processes, ...live named members]` (see `GROUP_SEND_LIST`). */
  groupSendList(namedKey: string, markersKey: string, group: string, pubsubChannel: string, frame: Frame, now: number): Promise<[number, ...string[]]>;
  /** Live members of a group zset (expired ones removed first). */
  groupSize(groupKey: string, now: number): Promise<number>;
}

type ScriptFn = (...args: Array<string | number | Buffer>) => Promise<unknown>;

/** Registers the scripts on `connection` (ioredis `defineCommand`) and returns typed callers. */
export function defineScripts(connection: Redis | Cluster): LayerScripts {
  connection.defineCommand('sbPush', { numberOfKeys: 1, lua: PUSH });
  connection.defineCommand('sbGroupSend', { numberOfKeys: 2, lua: GROUP_SEND });
  connection.defineCommand('sbGroupSize', { numberOfKeys: 1, lua: GROUP_SIZE });
  connection.defineCommand('sbGroupSendList', { numberOfKeys: 2, lua: GROUP_SEND_LIST });
  const commands = connection as unknown as Record<'sbPush' | 'sbGroupSend' | 'sbGroupSize' | 'sbGroupSendList', ScriptFn>;
  return {
    push: (listKey, now, capacity, expiryMs, item) =>
      commands.sbPush.call(connection, listKey, now, capacity, expiryMs, item) as Promise<[number, number]>,
    groupSend: (namedKey, markersKey, group, pubsubChannel, frame, now, deadline, capacity, expiryMs, listKeyPrefix) =>
      commands.sbGroupSend.call(connection, namedKey, markersKey, pubsubChannel, frame, now, deadline, capacity, expiryMs, listKeyPrefix, group) as Promise<
        [number, number, number, number, number]
      >,
    groupSendList: (namedKey, markersKey, group, pubsubChannel, frame, now) =>
      commands.sbGroupSendList.call(connection, namedKey, markersKey, pubsubChannel, frame, now, group) as Promise<[number, ...string[]]>,
    groupSize: (groupKey, now) => commands.sbGroupSize.call(connection, groupKey, now) as Promise<number>,
  };
}
