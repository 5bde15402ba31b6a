/**
 * `RedisChannelLayer`: the channel layer shared by several processes through Redis
 * (DESIGN.md §3, docs/channel-layer-spec.md), after channels_redis with the pub/sub fan-out of
 * its `RedisPubSubChannelLayer`.
 *
 * Redis layout (all names start with the `prefix` option, default `switchboard:`):
 *
 * | name | type | what |
 * |---|---|---|
 * | `g:<group>` | pub/sub channel | one PUBLISH per `groupSend`; each process with a local member is subscribed once |
 * | `inbox:<layer id>` | pub/sub channel | direct `send` to a process-local channel of that layer, and group add/discard notices |
 * | `q:<channel>` | list of `<deadline>:<frame>` | a named (worker) channel's queue, PEXPIREd `expiryMs` after the last push |
 * | `group:<group>` | sorted set, score = expiry (ms) | every member (for `groupSize`, presence, dead-process expiry) |
 * | `group-named:<group>` | sorted set, score = expiry (ms) | the members that are named channels (they get list pushes) |
 */
import { randomBytes } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { ChannelFullError, InvalidChannelNameError, LayerClosedError } from '../errors.js';
import {
  channelCapacityFor,
  isProcessLocalChannel,
  validateChannelName,
  validateGroupName,
  validateMessage,
  type ChannelLayer,
  type ChannelLayerCapabilities,
  type ResolvedLayerOptions,
  type ChannelLayerStats,
  type ChannelReceiver,
  type GroupSendResult,
  type LayerEventListener,
  type LayerMessage,
} from '../layers/channel-layer.js';
import { createCodec, InboxKind, type Frame, type FrameCodec } from './codec.js';
import { BlockingPool, closeConnection, describeTarget, openConnections, withTimeout, type Connection } from './connections.js';
import { InboundFrames } from './inbound.js';
import { channelOwner, LAYER_ID_CHARS, LayerKeys } from './keys.js';
import { RedisMemberships } from './memberships.js';
import { NamedChannels } from './named-channels.js';
import { resolveRedisOptions, type RedisChannelLayerOptions, type ResolvedRedisOptions } from './options.js';
import { OutageMonitor } from './outage-monitor.js';
import { LocalCore } from '../layers/local-core.js';
import { RateLimitedWarnings } from '../rate-limited-warnings.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';
import { defineScripts, type LayerScripts } from './scripts.js';
import { Subscriptions } from './subscriptions.js';

/** Counters of the Redis layer: the common ones plus Redis-specific ones. */
export interface RedisChannelLayerStats extends ChannelLayerStats {
  /** PUBLISH (or SPUBLISH) commands sent: one per `groupSend`, one per `send` to another process. */
  publishes: number;
  /** `groupSend`s that could not be published (Redis down); local members still got them. */
  publishFailures: number;
  /** Messages from other processes dropped because the local channel was full. */
  inboxDrops: number;
  /** Direct sends to another process's channel that no process was listening for (owner gone). */
  undeliverable: number;
  /** Frames from Redis that could not be decoded (skipped and logged). */
  decodeErrors: number;
  /** Redis outages seen since start-up. */
  outages: number;
}

/** Longest `newChannel` prefix that still leaves room for `.` + the layer id within 99 characters. */
const MAX_PREFIX_CHARS = 99 - 1 - LAYER_ID_CHARS;
/** The membership refresh runs every `groupExpiryMs / 4`, within these bounds. */
const MIN_REFRESH_MS = 10;
const MAX_REFRESH_MS = 60_000;
/** `fromUrl` gives Redis this long to answer. */
const FROM_URL_TIMEOUT_MS = 3_000;

/**
 * A channel layer on Redis, for several server processes (and CLIs, workers) sharing groups.
 *
 * Guarantees and costs (see `docs/channel-layer-spec.md` and `docs/scaling.md`):
 * - **groupSend** validates and encodes the message once, delivers it *synchronously* to this
 *   process's local members (the same frozen object to every receiver, as the in-memory layer
 *   does) and sends **one** PUBLISH to `g:<group>` whatever the group size (one EVALSHA that
 *   PUBLISHes, and pushes to lists only when the group has named-channel members). Each other
 *   process with members is subscribed once per group, decodes the frame once, freezes it and
 *   hands the same object to its members; a process ignores the echo of its own message.
 *   Result: `recipients` = processes published to (the PUBLISH reply) + named channels queued;
 *   `dropped` = members of this process that were full + named channels that were full (drops in
 *   other processes are counted in *their* `stats.groupSendDrops`).
 * - **send** to a process-local channel of this layer is delivered directly (throws
 *   {@link ChannelFullError} when full); to another process's channel it is one PUBLISH to that
 *   process's inbox (a full channel over there drops the message and counts it in that process's
 *   `stats.inboxDrops`); to a named channel (no `!`) it is an atomic capacity-checked push to a
 *   Redis list (Lua), consumed by `receive()` (BLPOP) in any process.
 * - **Membership** is local (for the fan-out) and in Redis (`group:<group>`, score = expiry), so
 *   `groupSize` counts members of every process. One `unref()`ed timer re-ZADDs the memberships
 *   of channels with an attached receiver every `groupExpiryMs / 4` (at most 60 s); memberships
 *   of a process that died are not refreshed and expire after `groupExpiryMs`.
 * - **Ordering**: FIFO per sender → channel (one command connection per layer; Redis keeps
 *   order per publishing connection); at-most-once everywhere.
 * - **Redis outage**: local delivery keeps working (`groupSend` still reaches local members and
 *   resolves; `stats.publishFailures` counts what other processes missed); `groupAdd`,
 *   `groupDiscard` and `releaseChannel` update local state and are replayed on reconnect;
 *   `send` to another process or a named channel, `groupSize` and `flush` reject with
 *   {@link RedisUnavailableError}; pending `receive()`s keep waiting. Commands are not queued
 *   while Redis is down (ioredis `enableOfflineQueue: false`), so memory stays bounded. The outage
 *   is logged once (`error`), the recovery once (`info`). On reconnect the layer re-SUBSCRIBEs
 *   everything (ioredis `autoResubscribe` does too; the layer does not rely on it), re-ZADDs its
 *   memberships (a restarted Redis has lost them), and emits `{type: 'layer.reconnected'}` to
 *   {@link onLayerEvent} listeners so consumers can resync (history covers the gap).
 *
 * Connections: one command connection, one subscriber connection, and one blocking connection
 * per named channel being received (pooled). `close()` closes them all.

 *
 * Cost model (`bench/redis-publish-cost.ts`, 2-core dev box, Redis 7.0): the groupSend script
 * costs Redis about 3.8 µs of CPU per call (a bare PUBLISH: 0.2 µs, plus request handling for
 * each command), but it is one command for the sending Node process: ~75k script calls/s from
 * one connection against ~52k/s for a PUBLISH + EXISTS pair (a bare PUBLISH: ~100k/s). Each
 * receiving process costs Redis one write per PUBLISH, whatever its member count. Redis Cluster
 * takes the two-command path (the script would touch keys in other slots).
 *
 * @example
 * ```ts
 * const layer = await RedisChannelLayer.fromUrl('redis://127.0.0.1:6379/0', { prefix: 'chat:' });
 * const inbox = await layer.newChannel();
 * layer.attach(inbox, (event) => { console.log(event.type); return true; });
 * await layer.groupAdd('chat.lobby', inbox);
 * await layer.groupSend('chat.lobby', { type: 'chat.message', text: 'hi' });
 * ```
 */
export class RedisChannelLayer implements ChannelLayer {
  /** `{crossProcess: true, flush: true, groupSize: true}`. */
  readonly capabilities: ChannelLayerCapabilities = Object.freeze({ crossProcess: true, flush: true, groupSize: true });
  /** Counters; see {@link RedisChannelLayerStats}. */
  readonly stats: RedisChannelLayerStats = {
    messagesSent: 0,
    groupSendDrops: 0,
    messagesExpired: 0,
    publishes: 0,
    publishFailures: 0,
    inboxDrops: 0,
    undeliverable: 0,
    decodeErrors: 0,
    outages: 0,
  };
  /** The effective common options (frozen), defaults filled in. */
  readonly options: ResolvedLayerOptions;
  /** This layer's id: 12 base64url characters, the process part of its channel names. */
  readonly id: string = randomId();
  /** The Redis key prefix. */
  readonly prefix: string;

  readonly #config: ResolvedRedisOptions;
  readonly #codec: FrameCodec;
  readonly #keys: LayerKeys;
  readonly #cmd: Connection;
  readonly #sub: Connection;
  readonly #scripts: LayerScripts;
  readonly #local: LocalCore;
  readonly #named: NamedChannels<Connection>;
  readonly #blocking: BlockingPool;
  readonly #subscriptions: Subscriptions;
  readonly #memberships: RedisMemberships;
  readonly #inbound: InboundFrames;
  /** Named channel → group → membership deadline, for the memberships this layer added. */
  readonly #namedMemberships = new Map<string, Map<string, number>>();
  readonly #monitor: OutageMonitor;
  readonly #warnings: RateLimitedWarnings;
  readonly #listeners = new Set<LayerEventListener>();
  readonly #started: Promise<void>;
  #resolveStarted!: () => void;
  #rejectStarted!: (err: Error) => void;
  #isStarted = false;
  #starting = false;
  #refreshTimer: NodeJS.Timeout | undefined;
  #recoverEpoch = 0;
  #closed = false;

  /**
   * Creates the layer and starts connecting (operations wait for the first connection, up to
   * `connectTimeoutMs`). Prefer {@link RedisChannelLayer.fromUrl}, which also checks that Redis
   * answers.
   * @param options - the common options (`capacity` 100 messages, `expiryMs` 60_000,
   *   `groupExpiryMs` 86_400_000, `maxMessageBytes` 1_048_576) plus `url`
   *   (`redis://127.0.0.1:6379/0`), `prefix` (`'switchboard:'`), `serializer` (`'json'`),
   *   `cluster`, `shardedPubSub` (`false`), `redisOptions`, `connectTimeoutMs` (10_000), `logger`;
   *   see {@link RedisChannelLayerOptions}.
   * @throws RangeError / TypeError for a bad option, before any connection is opened.
   */
  constructor(options: RedisChannelLayerOptions = {}) {
    const config = resolveRedisOptions(options);
    this.#config = config;
    this.options = Object.freeze({ ...config.layer });
    this.prefix = config.prefix;
    this.#codec = createCodec(config.serializer);
    this.#keys = new LayerKeys(config.prefix);
    this.#warnings = new RateLimitedWarnings(config.logger);
    this.#started = new Promise<void>((resolve, reject) => {
      this.#resolveStarted = resolve;
      this.#rejectStarted = reject;
    });
    this.#started.catch(() => {});
    this.#local = new LocalCore({
      capacityFor: (channel) => channelCapacityFor(this.options, channel),
      expiryMs: config.layer.expiryMs,
      stats: this.stats,
      logger: config.logger,
      groupCreated: (group) => this.#subscriptions.add(this.#keys.groupChannel(group)),
      groupEmptied: (group) => this.#subscriptions.remove(this.#keys.groupChannel(group)),
    });
    this.#monitor = new OutageMonitor(config.logger, describeTarget(config), {
      ready: () => this.#onConnectionReady(),
      down: () => {
        this.stats.outages++;
      },
    });
    const { command, subscriber } = openConnections(config, this.id);
    this.#cmd = command;
    this.#sub = subscriber;
    if (command === subscriber) {
      this.#monitor.watch('cluster', command);
    } else {
      this.#monitor.watch('command', command);
      this.#monitor.watch('subscriber', subscriber);
    }
    this.#scripts = defineScripts(command);
    const onError = (op: string, err: Error): void => this.#commandFailed(op, err);
    this.#subscriptions = new Subscriptions(subscriber, config.shardedPubSub, onError);
    this.#memberships = new RedisMemberships(command, config.layer.groupExpiryMs, onError);
    this.#blocking = new BlockingPool(command, `${config.prefix}${this.id}:block`);
    this.#inbound = new InboundFrames({
      id: this.id,
      codec: this.#codec,
      keys: this.#keys,
      local: this.#local,
      stats: this.stats,
      warnings: this.#warnings,
      groupExpiryMs: config.layer.groupExpiryMs,
      membershipAdded: () => this.#startRefresh(),
    });
    this.#named = new NamedChannels<Connection>({
      isClosed: () => this.#closed,
      listKey: (channel) => this.#keys.queueKey(channel),
      decodeItem: (channel, item) => this.#inbound.decodeListItem(channel, item),
      pushBack: async (key, item) => {
        await this.#cmd.lpush(key, item).catch(() => {});
      },
      refused: (channel, message) => {
        this.stats.inboxDrops++;
        this.#warnings.warn(`channel:${channel}`, 1, { channel, type: message.type },
          `the receiver of ${JSON.stringify(channel)} refused a message of type ${JSON.stringify(message.type)}; dropped`);
      },
      takeConnection: () => this.#blocking.take(),
      returnConnection: (connection) => this.#blocking.give(connection),
    });
    subscriber.on(config.shardedPubSub ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, frame: Buffer) => {
      if (this.#closed) return;
      try {
        this.#inbound.handle(channel, frame);
      } catch (err) {
        // A receiver threw (they must not). Never let it unwind into ioredis' reply parser.
        this.#warnings.warn('receiver', 1, { err: String(err) }, `a channel receiver threw while handling a message from Redis; receivers must not throw: ${String(err)}`);
      }
    });
    this.#onConnectionReady();
  }

  /**
   * Creates a layer, connects and PINGs Redis; the way `getChannelLayer()` builds it from
   * `CHANNEL_LAYER_URL`.
   * @param url - `redis://[user:password@]host:port/db` or `rediss://…`.
   * @param options - everything {@link RedisChannelLayerOptions} takes except `url`.
   * @throws {@link RedisUnavailableError} when Redis does not answer within 3 s (the layer's
   *   connections are closed first, so the process can exit); RangeError/TypeError for bad options.
   */
  static async fromUrl(url: string, options: Omit<RedisChannelLayerOptions, 'url'> = {}): Promise<RedisChannelLayer> {
    const layer = new RedisChannelLayer({ ...options, url });
    try {
      await layer.#whenStarted(FROM_URL_TIMEOUT_MS);
      await withTimeout(layer.#cmd.ping(), FROM_URL_TIMEOUT_MS, () => new RedisUnavailableError(`no PONG from Redis within ${FROM_URL_TIMEOUT_MS} ms`));
      return layer;
    } catch (err) {
      await layer.close();
      if (err instanceof RedisUnavailableError) throw err;
      throw new RedisUnavailableError(`Redis did not answer: ${(err as Error).message}`, err);
    }
  }

  /** Whether the layer's Redis connections are all up right now (started, no outage). */
  get connected(): boolean {
    return this.#isStarted && !this.#closed && this.#monitor.allUp();
  }

  /**
   * Returns a new, unique, process-local channel name `${prefix}.${layerId}!${random}` (12
   * base64url characters each, from `crypto.randomBytes`). Messages for it reach this process
   * through its inbox, to which it subscribed at start-up.
   * @param prefix - default `'specific'`; 1 to 86 characters from `[A-Za-z0-9._-]`.
   * @throws {@link InvalidChannelNameError}; {@link LayerClosedError}; {@link RedisUnavailableError}
   *   when the first connection did not come up within `connectTimeoutMs`.
   */
  async newChannel(prefix = 'specific'): Promise<string> {
    this.#assertOpen();
    validateChannelName(prefix, 'newChannel');
    if (prefix.includes('!')) {
      throw new InvalidChannelNameError(`newChannel(${JSON.stringify(prefix)}): the prefix must not contain "!"; the layer adds the process-local part itself`);
    }
    if (prefix.length > MAX_PREFIX_CHARS) {
      throw new InvalidChannelNameError(`newChannel("${prefix.slice(0, 20)}…"): the prefix is ${prefix.length} characters; the limit is ${MAX_PREFIX_CHARS}`);
    }
    if (!this.#isStarted) await this.#whenStarted();
    return `${prefix}.${this.id}!${randomId()}`;
  }

  /**
   * Attaches a push receiver to `channel`. For a channel of this process, queued messages are
   * handed over at once, in order. For a named channel, the layer starts consuming its Redis list
   * (competing with the other consumers of that channel, as workers do); a message the receiver
   * refuses is dropped and counted in `stats.inboxDrops`. Attaching again replaces the receiver.
   * @throws {@link InvalidChannelNameError}; {@link LayerClosedError}; TypeError for a non-function.
   */
  attach(channel: string, receiver: ChannelReceiver): void {
    this.#assertOpen();
    validateChannelName(channel, 'attach');
    if (typeof receiver !== 'function') {
      throw new TypeError(`attach(${JSON.stringify(channel)}): the receiver must be a function (message) => boolean`);
    }
    if (isProcessLocalChannel(channel)) this.#local.attach(channel, receiver);
    else this.#named.attach(channel, receiver);
  }

  /**
   * Sends `message` to one channel (see the class documentation for the three routes). The
   * message is frozen (top level) and, for a channel of this process, not copied.
   * @throws {@link InvalidChannelNameError}, {@link InvalidMessageError}, {@link MessageTooLargeError}.
   * @throws {@link ChannelFullError} when a channel of this process or a named channel is full.
   * @throws {@link RedisUnavailableError} when the message has to go through Redis and Redis is
   *   down; {@link LayerClosedError} after close.
   */
  async send(channel: string, message: LayerMessage): Promise<void> {
    this.#assertOpen();
    validateChannelName(channel, 'send');
    const json = validateMessage(message, this.options.maxMessageBytes, 'send');
    const event = Object.isFrozen(message) ? message : Object.freeze(message);
    if (isProcessLocalChannel(channel)) {
      const owner = channelOwner(channel, this.id);
      if (owner === undefined) {
        if (!this.#local.deliver(channel, event)) {
          throw new ChannelFullError(`send(${JSON.stringify(channel)}): the channel is full (capacity ${this.options.capacity} messages, or its receiver's backlog is at capacity); message of type ${JSON.stringify(event.type)} not delivered`);
        }
        this.stats.messagesSent++;
        return;
      }
      if (!this.#isStarted) await this.#whenStarted();
      const frame = this.#codec.inboxFrame(this.id, InboxKind.Message, channel, event, json);
      const reached = await this.#command('send', channel, () => this.#publish(this.#keys.inbox(owner), frame));
      this.stats.publishes++;
      if (reached === 0) this.stats.undeliverable++;
      this.stats.messagesSent++;
      return;
    }
    if (!this.#isStarted) await this.#whenStarted();
    const now = Date.now();
    const item = this.#codec.listItem(now + this.options.expiryMs, this.#codec.messageFrame(this.id, event, json));
    const [queued, expired] = await this.#command('send', channel, () =>
      this.#scripts.push(this.#keys.queueKey(channel), now, channelCapacityFor(this.options, channel), this.options.expiryMs, item),
    );
    this.stats.messagesExpired += expired;
    if (queued !== 1) {
      throw new ChannelFullError(`send(${JSON.stringify(channel)}): the channel is full (capacity ${channelCapacityFor(this.options, channel)} messages); message of type ${JSON.stringify(event.type)} not delivered`);
    }
    this.stats.messagesSent++;
  }

  /**
   * Waits for the next message on `channel`: for a named channel, the next live item of its Redis
   * list (BLPOP on a pooled blocking connection; expired items are dropped and counted); for a
   * channel of this process, its local queue. Several waiters are served in call order. While
   * Redis is down the call keeps waiting.
   * @throws {@link InvalidChannelNameError}; {@link LayerClosedError} after close, or when the
   *   layer closes while waiting.
   */
  async receive(channel: string): Promise<LayerMessage> {
    this.#assertOpen();
    validateChannelName(channel, 'receive');
    if (isProcessLocalChannel(channel)) return this.#local.receive(channel);
    return this.#named.receive(channel);
  }

  /**
   * Adds `channel` to `group`, or refreshes its membership so it expires `groupExpiryMs` from now.
   * For a channel of this process, the first local member of a group makes the process SUBSCRIBE
   * to `g:<group>`; the call resolves once the subscription is confirmed, so a `groupSend` from
   * any process right after reaches it. A channel of another process is added in Redis and its
   * owner is told through its inbox (it subscribes shortly after this resolves). During an
   * outage the local part is done and the rest is replayed on reconnect.
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}; {@link LayerClosedError};
   *   {@link RedisUnavailableError} for another process's channel while Redis is down.
   */
  async groupAdd(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    validateGroupName(group, 'groupAdd');
    validateChannelName(channel, 'groupAdd');
    if (!this.#isStarted) await this.#whenStarted();
    this.#assertOpen();
    const deadline = Date.now() + this.options.groupExpiryMs;
    const groupKey = this.#keys.groupKey(group);
    if (isProcessLocalChannel(channel)) {
      const owner = channelOwner(channel, this.id);
      if (owner === undefined) {
        this.#local.addMember(group, channel, deadline);
        this.#startRefresh();
        await Promise.all([this.#subscriptions.pending(this.#keys.groupChannel(group)), this.#memberships.add(groupKey, deadline, channel)]);
        return;
      }
      await this.#command('groupAdd', channel, () => this.#memberships.addMany(groupKey, [[deadline, channel]]));
      await this.#command('groupAdd', channel, () => this.#publish(this.#keys.inbox(owner), this.#codec.inboxFrame(this.id, InboxKind.GroupAdd, channel, group)));
      return;
    }
    let groups = this.#namedMemberships.get(channel);
    if (groups === undefined) this.#namedMemberships.set(channel, (groups = new Map()));
    groups.set(group, deadline);
    await Promise.all([this.#memberships.add(groupKey, deadline, channel), this.#memberships.add(this.#keys.namedGroupKey(group), deadline, channel)]);
  }

  /**
   * Removes `channel` from `group`; no error when it was not a member. The last local member
   * leaving makes this process UNSUBSCRIBE from the group. During an outage the Redis part is
   * replayed on reconnect.
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}; {@link LayerClosedError};
   *   {@link RedisUnavailableError} for another process's channel while Redis is down.
   */
  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    validateGroupName(group, 'groupDiscard');
    validateChannelName(channel, 'groupDiscard');
    if (!this.#isStarted) await this.#whenStarted();
    this.#assertOpen();
    const groupKey = this.#keys.groupKey(group);
    if (isProcessLocalChannel(channel)) {
      const owner = channelOwner(channel, this.id);
      if (owner === undefined) {
        this.#local.removeMember(group, channel);
        await this.#memberships.remove([[groupKey, [channel]]]);
        return;
      }
      await this.#command('groupDiscard', channel, () => this.#cmd.zrem(groupKey, channel));
      await this.#command('groupDiscard', channel, () => this.#publish(this.#keys.inbox(owner), this.#codec.inboxFrame(this.id, InboxKind.GroupDiscard, channel, group)));
      return;
    }
    const groups = this.#namedMemberships.get(channel);
    groups?.delete(group);
    if (groups?.size === 0) this.#namedMemberships.delete(channel);
    await this.#memberships.remove([[groupKey, [channel]], [this.#keys.namedGroupKey(group), [channel]]]);
  }

  /**
   * Delivers `message` to every member of `group`, at most once each: synchronously to this
   * process's members, and with one PUBLISH to every other process that has members (plus list
   * pushes for named-channel members). Every local member gets the same object, frozen once.
   * A full member misses the message without an error: counted in `stats.groupSendDrops` and
   * logged at most once per group per 10 s. While Redis is down, local members still get the
   * message and the call resolves (other processes miss it: `stats.publishFailures`).
   * @returns `recipients`: the processes the message was published to (the PUBLISH reply, this
   *   process included when it has members; while Redis is down, 1 when a local member got it)
   *   plus the named channels it was queued for; `dropped`: members of this process and named
   *   channels that were full (drops in other processes land in *their* `stats.groupSendDrops`).
   *   See `docs/channel-layer-spec.md` §6: not a member count; use `groupSize()` for that.
   * @throws {@link InvalidGroupNameError}, {@link InvalidMessageError}, {@link MessageTooLargeError};
   *   {@link LayerClosedError}; {@link RedisUnavailableError} only if the layer never connected.
   */
  async groupSend(group: string, message: LayerMessage): Promise<GroupSendResult> {
    this.#assertOpen();
    validateGroupName(group, 'groupSend');
    const json = validateMessage(message, this.options.maxMessageBytes, 'groupSend');
    if (!this.#isStarted) await this.#whenStarted();
    const event = Object.isFrozen(message) ? message : Object.freeze(message);
    this.stats.messagesSent++;
    const local = this.#local.fanOut(group, event);
    // Without a PUBLISH, this process is the only one reached.
    let recipients = local.recipients > 0 ? 1 : 0;
    let dropped = local.dropped;
    if (this.#monitor.isUp(this.#commandName)) {
      try {
        const frame = this.#codec.messageFrame(this.id, event, json);
        const [processes, queued, full, expired] = await this.#publishGroup(group, frame, Date.now());
        this.stats.publishes++;
        this.stats.messagesExpired += expired;
        // The PUBLISH reply counts this process too when it has members (it skips the echo:
        // its members got the message above).
        recipients = processes + queued;
        dropped += full;
      } catch (err) {
        if (this.#closed) throw new LayerClosedError(`groupSend(${JSON.stringify(group)}): the channel layer was closed while sending`);
        this.#commandFailed('groupSend', err as Error);
        this.stats.publishFailures++;
      }
    } else {
      this.stats.publishFailures++;
    }
    if (dropped > 0) {
      this.stats.groupSendDrops += dropped;
      this.#warnings.warn(`group:${group}`, dropped, { group, type: event.type, dropped, totalGroupSendDrops: this.stats.groupSendDrops },
        `groupSend(${JSON.stringify(group)}): ${dropped} member(s) full, message of type ${JSON.stringify(event.type)} dropped for them`);
    }
    return { recipients, dropped };
  }

  /**
   * Number of live members of `group` across all processes (the expired ones are removed first,
   * in the same Lua call).
   * @throws {@link InvalidGroupNameError}; {@link LayerClosedError}; {@link RedisUnavailableError}.
   */
  async groupSize(group: string): Promise<number> {
    this.#assertOpen();
    validateGroupName(group, 'groupSize');
    if (!this.#isStarted) await this.#whenStarted();
    return this.#command('groupSize', group, () => this.#scripts.groupSize(this.#keys.groupKey(group), Date.now()));
  }

  /**
   * Forgets `channel`: detaches its receiver, drops its queue (for a named channel: deletes its
   * Redis list) and removes it from every group this layer added it to, in Redis too; groups left
   * without local members are unsubscribed. Pending `receive()` calls keep waiting. No error for
   * an unknown channel. During an outage the Redis part is replayed on reconnect.
   * @throws {@link InvalidChannelNameError}; {@link LayerClosedError}.
   */
  async releaseChannel(channel: string): Promise<void> {
    this.#assertOpen();
    validateChannelName(channel, 'releaseChannel');
    if (isProcessLocalChannel(channel)) {
      const left = this.#local.release(channel);
      if (left.length > 0) await this.#memberships.remove(left.map((group) => [this.#keys.groupKey(group), [channel]]));
      return;
    }
    this.#named.detach(channel);
    const groups = this.#namedMemberships.get(channel);
    this.#namedMemberships.delete(channel);
    if (!this.#isStarted) await this.#whenStarted();
    const removals: Array<[string, string[]]> = [];
    for (const group of groups?.keys() ?? []) removals.push([this.#keys.groupKey(group), [channel]], [this.#keys.namedGroupKey(group), [channel]]);
    await Promise.all([
      this.#memberships.remove(removals),
      // At-most-once: if this fails (Redis down), the queue still expires after expiryMs.
      this.#cmd.unlink(this.#keys.queueKey(channel)).catch((err: Error) => this.#commandFailed('releaseChannel', err)),
    ]);
  }

  /**
   * Deletes every Redis key under this layer's prefix (SCAN + UNLINK; on a cluster, on every
   * master) and this layer's receivers, queues and memberships; unsubscribes its groups. Meant for
   * tests: other processes sharing the prefix lose their state too. Pending `receive()` calls keep
   * waiting; `stats` are kept.
   * @throws {@link LayerClosedError}; {@link RedisUnavailableError} while Redis is down.
   */
  async flush(): Promise<void> {
    this.#assertOpen();
    if (!this.#isStarted) await this.#whenStarted();
    for (const group of this.#local.clear()) this.#subscriptions.remove(this.#keys.groupChannel(group));
    this.#named.detachAll();
    this.#namedMemberships.clear();
    this.#memberships.clear();
    this.#warnings.clear();
    this.#stopRefresh();
    await this.#command('flush', this.prefix, () => this.#deleteKeys());
  }

  /**
   * Closes the layer: stops the refresh timer, rejects pending `receive()` calls with
   * {@link LayerClosedError}, QUITs its connections (or drops them when Redis is down). Afterwards
   * every other method rejects (or, for `attach`/`onLayerEvent`, throws) {@link LayerClosedError}.
   * Memberships in Redis are left to expire (as if the process died); release channels first for
   * a clean exit. Calling `close()` again is a no-op.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#monitor.stop();
    this.#stopRefresh();
    this.#rejectStarted(new LayerClosedError());
    this.#local.close();
    this.#named.close();
    this.#listeners.clear();
    this.#warnings.clear();
    this.#blocking.close();
    await Promise.all([...new Set([this.#cmd, this.#sub])].map(closeConnection));
  }

  /**
   * Subscribes to layer-wide events: `{type: 'layer.reconnected'}` after Redis came back from an
   * outage and the layer restored its subscriptions and memberships. Listeners must not throw.
   * @returns a function that unsubscribes (idempotent).
   * @throws {@link LayerClosedError} after close.
   */
  onLayerEvent(listener: LayerEventListener): () => void {
    this.#assertOpen();
    if (typeof listener !== 'function') throw new TypeError('onLayerEvent: the listener must be a function');
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  // ---- start-up, outages, recovery ----

  get #commandName(): string {
    return this.#cmd === this.#sub ? 'cluster' : 'command';
  }

  #assertOpen(): void {
    if (this.#closed) throw new LayerClosedError();
  }

  /** Resolves once connected and subscribed to the inbox; rejects after `timeoutMs`. */
  async #whenStarted(timeoutMs = this.#config.connectTimeoutMs): Promise<void> {
    if (this.#isStarted) return;
    await withTimeout(this.#started, timeoutMs, () => {
      const last = this.#monitor.lastError;
      return new RedisUnavailableError(
        `no connection to Redis within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${last.message})`}; is Redis running at ${describeTarget(this.#config)}?`,
        last,
      );
    });
  }

  /** A connection became ready: finish start-up, or recover from an outage. */
  #onConnectionReady(): void {
    if (this.#closed || !this.#monitor.allUp()) return;
    if (this.#isStarted) {
      if (this.#monitor.inOutage) void this.#recover();
      return;
    }
    if (this.#starting) return;
    this.#starting = true;
    this.#subscriptions.subscribe([this.#keys.inbox(this.id)]).then(
      () => {
        this.#starting = false;
        if (this.#closed) return;
        this.#isStarted = true;
        this.#monitor.arm();
        this.#resolveStarted();
      },
      (err: Error) => {
        this.#starting = false;
        this.#monitor.commandFailed('subscriber', err);
      },
    );
  }

  /**
   * After an outage: re-SUBSCRIBE everything, drop stale subscriptions, re-ZADD memberships and
   * replay failed removals; then log the recovery once and emit `layer.reconnected`.
   */
  async #recover(): Promise<void> {
    const epoch = ++this.#recoverEpoch;
    try {
      const wanted = [this.#keys.inbox(this.id)];
      for (const group of this.#local.groups()) wanted.push(this.#keys.groupChannel(group));
      await this.#subscriptions.restore(wanted);
      await Promise.all([this.#resyncMemberships(), this.#memberships.replayRemovals()]);
      if (epoch !== this.#recoverEpoch || this.#closed) return;
      this.#monitor.recovered();
      const event: LayerMessage = Object.freeze({ type: 'layer.reconnected' });
      for (const listener of [...this.#listeners]) {
        try {
          listener(event);
        } catch (err) {
          this.#warnings.warn('listener', 1, { err: String(err) }, 'an onLayerEvent listener threw; listeners must not throw');
        }
      }
    } catch (err) {
      if (epoch !== this.#recoverEpoch || this.#closed) return;
      this.#monitor.commandFailed(this.#commandName, err as Error);
      // Connections that still look ready get another attempt; otherwise the next 'ready' retries.
      if (this.#monitor.allUp()) setTimeout(() => this.#onConnectionReady(), 500).unref();
    }
  }

  /** Re-ZADDs every membership this layer holds (a restarted Redis has lost them). */
  async #resyncMemberships(): Promise<void> {
    const now = Date.now();
    const byKey = new Map<string, Array<[number, string]>>();
    const add = (key: string, deadline: number, member: string): void => {
      let list = byKey.get(key);
      if (list === undefined) byKey.set(key, (list = []));
      list.push([deadline, member]);
    };
    this.#local.refreshAttached(now + this.options.groupExpiryMs);
    for (const [group, channel, deadline] of this.#local.memberships()) {
      if (deadline > now) add(this.#keys.groupKey(group), deadline, channel);
    }
    for (const [channel, groups] of this.#namedMemberships) {
      for (const [group, deadline] of groups) {
        if (deadline <= now) continue;
        add(this.#keys.groupKey(group), deadline, channel);
        add(this.#keys.namedGroupKey(group), deadline, channel);
      }
    }
    await Promise.all([...byKey].map(([key, entries]) => this.#memberships.addMany(key, entries)));
  }

  /** Reports a failed command: part of an outage (logged once) or, if Redis is up, a warning. */
  #commandFailed(op: string, err: Error): void {
    if (this.#closed) return;
    this.#monitor.commandFailed(this.#commandName, err);
    if (this.#monitor.inOutage || !this.#isStarted) return;
    this.#warnings.warn(`command:${op}`, 1, { op, err: err.message }, `Redis command for ${op} failed: ${err.message}`);
  }

  // ---- commands ----

  #publish(channel: string, frame: Frame): Promise<number> {
    return this.#config.shardedPubSub ? (this.#cmd.spublish(channel, frame) as Promise<number>) : this.#cmd.publish(channel, frame);
  }

  /** One PUBLISH (+ named-member pushes); resolves `[processes, queued, full, expired]`. */
  async #publishGroup(group: string, frame: Frame, now: number): Promise<[number, number, number, number]> {
    const { capacity, expiryMs } = this.options;
    const namedKey = this.#keys.namedGroupKey(group);
    if (!(this.#cmd instanceof Cluster)) {
      return this.#scripts.groupSend(namedKey, this.#keys.groupChannel(group), frame, now, now + expiryMs, capacity, expiryMs, this.#keys.queuePrefix);
    }
    // Cluster: the members' lists live in other slots, so the client does what the script does.
    const [processes, hasNamed] = await Promise.all([this.#publish(this.#keys.groupChannel(group), frame), this.#cmd.exists(namedKey)]);
    if (hasNamed === 0) return [processes, 0, 0, 0];
    await this.#cmd.zremrangebyscore(namedKey, '-inf', now);
    const members = await this.#cmd.zrange(namedKey, 0, -1);
    const item = this.#codec.listItem(now + expiryMs, frame);
    const results = await Promise.all(members.map((member) => this.#scripts.push(this.#keys.queueKey(member), now, capacity, expiryMs, item)));
    let queued = 0;
    let expired = 0;
    for (const [ok, gone] of results) {
      queued += ok;
      expired += gone;
    }
    return [processes, queued, members.length - queued, expired];
  }

  async #deleteKeys(): Promise<void> {
    const pattern = `${this.prefix}*`;
    const cluster = this.#cmd instanceof Cluster;
    const nodes: Redis[] = this.#cmd instanceof Cluster ? this.#cmd.nodes('master') : [this.#cmd];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
        cursor = next;
        if (keys.length === 0) continue;
        // On a cluster, one key per UNLINK (the keys of one node still span slots).
        if (cluster) await Promise.all(keys.map((key) => node.unlink(key)));
        else await node.unlink(...keys);
      } while (cursor !== '0');
    }
  }

  /** Runs a command that must reach Redis; maps failures to RedisUnavailableError / LayerClosedError. */
  async #command<T>(op: string, subject: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (this.#closed) throw new LayerClosedError(`${op}(${JSON.stringify(subject)}): the channel layer was closed while waiting for Redis`);
      this.#commandFailed(op, err as Error);
      throw new RedisUnavailableError(`${op}(${JSON.stringify(subject)}): Redis is unreachable (${(err as Error).message})`, err);
    }
  }

  // ---- membership refresh ----

  #startRefresh(): void {
    if (this.#refreshTimer !== undefined || this.#closed) return;
    const interval = Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, Math.floor(this.options.groupExpiryMs / 4)));
    this.#refreshTimer = setInterval(() => this.#refresh(), interval);
    this.#refreshTimer.unref();
  }

  #stopRefresh(): void {
    if (this.#refreshTimer !== undefined) clearInterval(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  /** Re-ZADDs the memberships of attached channels so they outlive `groupExpiryMs`. */
  #refresh(): void {
    if (this.#local.groupCount === 0) return this.#stopRefresh();
    // During an outage nothing is sent; the resync after it re-adds everything.
    if (this.#monitor.inOutage || !this.#monitor.allUp()) return;
    const deadline = Date.now() + this.options.groupExpiryMs;
    for (const [group, channels] of this.#local.refreshAttached(deadline)) {
      this.#memberships
        .addMany(this.#keys.groupKey(group), channels.map((channel): [number, string] => [deadline, channel]))
        .catch((err: Error) => this.#commandFailed('refresh', err));
    }
  }
}

function randomId(): string {
  return randomBytes((LAYER_ID_CHARS * 3) / 4).toString('base64url');
}
