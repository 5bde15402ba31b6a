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
 * | `inbox:<layer id>` | pub/sub channel | direct `send` to a process-local channel of that layer, group add/discard requests and acks |
 * | `flush` | pub/sub channel | flush notices: every layer of the prefix clears its state and acks |
 * | `q:<channel>` | list of `<deadline>:<frame>` | a named (worker) channel's queue, PEXPIREd `expiryMs` after the last push |
 * | `group:<group>` | sorted set, score = expiry (ms) | every member (for `groupSize`, presence, dead-process expiry) |
 * | `group-named:<group>` | sorted set, score = expiry (ms) | the members that are named channels (they get list pushes) |
 */
import { randomBytes } from 'node:crypto';
import { ChannelFullError, InvalidChannelNameError, LayerClosedError } from '../errors.js';
import {
  channelCapacityFor,
  isProcessLocalChannel,
  receiveSignal,
  validateChannelName,
  validateChannelPrefix,
  validateGroupName,
  validateMessage,
  type ChannelLayer,
  type ChannelLayerCapabilities,
  type ChannelLayerStats,
  type ChannelReceiver,
  type GroupSendResult,
  type LayerEventListener,
  type LayerMessage,
  type ReceiveOptions,
  type ResolvedLayerOptions,
} from '../layers/channel-layer.js';
import { LayerEvents } from '../layers/layer-events.js';
import { LocalCore } from '../layers/local-core.js';
import { RateLimitedWarnings } from '../rate-limited-warnings.js';
import { createCodec, InboxKind, type FrameCodec } from './codec.js';
import { BlockingPool, closeConnection, deleteKeys, openConnections, withTimeout, type Connection } from './connections.js';
import { GroupPublisher } from './group-publisher.js';
import { CONFIRM_TIMEOUT_MS, LayerGroups } from './layer-groups.js';
import { InboundFrames } from './inbound.js';
import { InboxRequests } from './inbox-requests.js';
import { channelOwner, LAYER_ID_CHARS, LayerKeys } from './keys.js';
import { LayerSession } from './layer-session.js';
import { MembershipSync } from './membership-sync.js';
import { RedisMemberships } from './memberships.js';
import { NamedChannels } from './named-channels.js';
import { NamedGroups } from './named-groups.js';
import { resolveRedisOptions, type RedisChannelLayerOptions } from './options.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';
import { defineScripts, type LayerScripts } from './scripts.js';
import { Subscriptions } from './subscriptions.js';

/** Counters of the Redis layer: the common ones plus Redis-specific ones. */
export interface RedisChannelLayerStats extends ChannelLayerStats {
  /** PUBLISH (or SPUBLISH) commands sent: one per `groupSend`, one per `send` to another process. */
  publishes: number;
  /** `groupSend`s published with one bare PUBLISH: the group has no named members (`named-groups.ts`). */
  barePublishes: number;
  /** `groupSend`s that took the scripted path: the group has (or recently had) named members, or the layer was (re)loading its marks. */
  scriptedPublishes: number;
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
 *   process's inbox, which resolves once published: a full channel over there drops the message
 *   and counts it in that process's `stats.inboxDrops` (docs/channel-layer-spec.md §10: knowing
 *   would take a reply from the owner, a second round trip on every send); to a named channel
 *   (no `!`) it is an atomic capacity-checked push to a Redis list (Lua), consumed by
 *   `receive()` (BLPOP) in any process.
 * - **groupAdd / groupDiscard of another process's channel** write Redis, then ask the owner
 *   through its inbox and resolve when it confirms (it has subscribed / dropped the member), so a
 *   `groupSend` right after reaches / skips the member, as channels_redis does. **flush** tells
 *   every process of the prefix the same way and waits for them before it deletes the keys.
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
    barePublishes: 0,
    scriptedPublishes: 0,
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

  readonly #codec: FrameCodec;
  readonly #keys: LayerKeys;
  readonly #cmd: Connection;
  readonly #sub: Connection;
  readonly #scripts: LayerScripts;
  readonly #publisher: GroupPublisher;
  readonly #local: LocalCore;
  readonly #named: NamedChannels<Connection>;
  readonly #namedGroups: NamedGroups;
  readonly #blocking: BlockingPool;
  readonly #subscriptions: Subscriptions;
  readonly #memberships: RedisMemberships;
  readonly #sync: MembershipSync;
  readonly #inbound: InboundFrames;
  readonly #requests = new InboxRequests();
  readonly #session: LayerSession;
  readonly #warnings: RateLimitedWarnings;
  readonly #events = new LayerEvents();
  readonly #groups: LayerGroups;
  #closed = false;

  /**
   * Creates the layer and starts connecting (operations wait for the first connection, up to
   * `connectTimeoutMs`). Prefer {@link RedisChannelLayer.fromUrl}, which also checks that Redis
   * answers.
   * @param options - the common options (`capacity` 100 messages, `channelCapacity`, `expiryMs`
   *   60_000, `groupExpiryMs` 86_400_000, `maxMessageBytes` 1_048_576), the connection options
   *   (`url` `redis://127.0.0.1:6379/0`, `prefix` `'switchboard:'`, `cluster`, `redisOptions`,
   *   `connectTimeoutMs` 10_000, `logger`) and `serializer` (`'json'`), `shardedPubSub`
   *   (`false`); see {@link RedisChannelLayerOptions}.
   * @throws TypeError for an unknown option or a wrong type, RangeError for a value out of range,
   *   before any connection is opened.
   */
  constructor(options: RedisChannelLayerOptions = {}) {
    const config = resolveRedisOptions(options);
    this.options = config.layer;
    this.prefix = config.prefix;
    this.#codec = createCodec(config.serializer);
    this.#keys = new LayerKeys(config.prefix);
    this.#warnings = new RateLimitedWarnings(config.logger);
    this.#local = new LocalCore({
      capacityFor: (channel) => channelCapacityFor(this.options, channel),
      expiryMs: config.layer.expiryMs,
      stats: this.stats,
      logger: config.logger,
      groupCreated: (group) => this.#subscriptions.add(this.#keys.groupChannel(group)),
      groupEmptied: (group) => this.#subscriptions.remove(this.#keys.groupChannel(group)),
    });
    const connections = openConnections(config, this.id);
    const { command, subscriber } = connections;
    this.#cmd = command;
    this.#sub = subscriber;
    this.#namedGroups = new NamedGroups({
      subscriber,
      subscribe: () => this.#subscriptions.subscribe([this.#keys.namedChannel]),
      members: () => command.smembers(this.#keys.namedGroupsKey),
    }, config.cluster === undefined || config.shardedPubSub);
    this.#session = new LayerSession(config, connections, {
      start: async () => {
        await this.#subscriptions.subscribe([this.#keys.inbox(this.id), this.#keys.flushChannel]);
        if (this.#namedGroups.enabled) await this.#namedGroups.load();
      },
      restore: () => this.#groups.restore(),
      restored: () => this.#events.emit(Object.freeze({ type: 'layer.reconnected' }), (err) =>
        this.#warnings.warn('listener', 1, { err: String(err) }, 'an onLayerEvent listener threw; listeners must not throw')),
      down: () => {
        this.stats.outages++;
        this.#namedGroups.invalidate();
      },
      isClosed: () => this.#closed,
    }, this.#warnings);
    this.#scripts = defineScripts(command);
    this.#publisher = new GroupPublisher(command, this.#scripts, this.#keys, this.#codec, config.layer, config.shardedPubSub, this.#namedGroups);
    const onError = (op: string, err: Error): void => this.#session.failed(op, err);
    this.#subscriptions = new Subscriptions(subscriber, config.shardedPubSub, onError);
    this.#memberships = new RedisMemberships(command, config.layer.groupExpiryMs, onError);
    this.#sync = new MembershipSync({
      local: this.#local,
      memberships: this.#memberships,
      keys: this.#keys,
      groupExpiryMs: config.layer.groupExpiryMs,
      isUp: () => !this.#session.degraded,
      failed: onError,
    });
    this.#blocking = new BlockingPool(command, `${config.prefix}${this.id}:block`);
    this.#inbound = new InboundFrames({
      id: this.id,
      codec: this.#codec,
      keys: this.#keys,
      local: this.#local,
      stats: this.stats,
      warnings: this.#warnings,
      groupExpiryMs: config.layer.groupExpiryMs,
      membershipAdded: () => this.#sync.start(),
      subscribing: (group) => this.#subscriptions.pending(this.#keys.groupChannel(group)),
      confirm: (origin, requestId) => {
        this.#publisher.publish(this.#keys.inbox(origin), this.#codec.requestFrame(this.id, InboxKind.Ack, requestId)).catch((err: Error) => onError('confirm', err));
      },
      acked: (requestId) => this.#requests.ack(requestId),
      flushed: () => this.#groups.clearLocal(),
      namedGroup: (group) => this.#namedGroups.noticed(group),
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
    this.#groups = new LayerGroups({
      id: this.id,
      prefix: config.prefix,
      groupExpiryMs: config.layer.groupExpiryMs,
      unreliableReplies: config.cluster !== undefined && !config.shardedPubSub,
      cmd: command,
      codec: this.#codec,
      keys: this.#keys,
      local: this.#local,
      named: this.#named,
      namedGroups: this.#namedGroups,
      memberships: this.#memberships,
      sync: this.#sync,
      subscriptions: this.#subscriptions,
      publisher: this.#publisher,
      requests: this.#requests,
      session: this.#session,
      clearWarnings: () => this.#warnings.clear(),
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
    this.#session.begin();
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
      await layer.#session.whenStarted(FROM_URL_TIMEOUT_MS);
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
    return !this.#closed && this.#session.connected;
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
    validateChannelPrefix(prefix, MAX_PREFIX_CHARS);
    await this.#started();
    return `${prefix}.${this.id}!${randomId()}`;
  }

  /**
   * Attaches a push receiver to `channel`. For a channel of this process, queued messages are
   * handed over at once, in order. For a named channel, the layer starts consuming its Redis list
   * (competing with the other consumers of that channel, as workers do); a message the receiver
   * refuses is dropped and counted in `stats.inboxDrops`. Attaching again replaces the receiver.
   * @throws {@link InvalidChannelNameError}, also for another process's channel (only its owner
   *   gets its messages); {@link LayerClosedError}; TypeError for a non-function.
   */
  attach(channel: string, receiver: ChannelReceiver): void {
    this.#assertOpen();
    validateChannelName(channel, 'attach');
    if (typeof receiver !== 'function') {
      throw new TypeError(`attach(${JSON.stringify(channel)}): the receiver must be a function (message) => boolean`);
    }
    if (!isProcessLocalChannel(channel)) return this.#named.attach(channel, receiver);
    this.#assertOwn('attach', channel);
    this.#local.attach(channel, receiver);
  }

  /**
   * Sends `message` to one channel (see the class documentation for the three routes). The
   * message is frozen (top level) and, for a channel of this process, not copied.
   * @throws {@link InvalidChannelNameError}, {@link InvalidMessageError}, {@link MessageTooLargeError}.
   * @throws {@link ChannelFullError} when a channel of this process or a named channel is full
   *   (not for another process's channel: see the class documentation).
   * @throws {@link RedisUnavailableError} when the message has to go through Redis and Redis is
   *   down; {@link LayerClosedError} after close.
   */
  async send(channel: string, message: LayerMessage): Promise<void> {
    this.#assertOpen();
    validateChannelName(channel, 'send');
    const json = validateMessage(message, this.options.maxMessageBytes, 'send');
    const event = Object.isFrozen(message) ? message : Object.freeze(message);
    const capacity = channelCapacityFor(this.options, channel);
    const full = (): ChannelFullError =>
      new ChannelFullError(`send(${JSON.stringify(channel)}): the channel is full (capacity ${capacity} messages${isProcessLocalChannel(channel) ? ", or its receiver's backlog is at capacity" : ''}); message of type ${JSON.stringify(event.type)} not delivered`);
    const what = `send(${JSON.stringify(channel)})`;
    if (isProcessLocalChannel(channel)) {
      const owner = channelOwner(channel, this.id);
      if (owner === undefined) {
        if (!this.#local.deliver(channel, event)) throw full();
        this.stats.messagesSent++;
        return;
      }
      await this.#started();
      const reached = await this.#session.command(what, () => this.#publisher.publish(this.#keys.inbox(owner), this.#codec.inboxFrame(this.id, channel, json)));
      this.stats.publishes++;
      if (reached === 0) this.stats.undeliverable++;
      this.stats.messagesSent++;
      return;
    }
    await this.#started();
    const now = Date.now();
    const item = this.#codec.listItem(now + this.options.expiryMs, this.#codec.messageFrame(this.id, event, json));
    const [queued, expired] = await this.#session.command(what, () => this.#scripts.push(this.#keys.queueKey(channel), now, capacity, this.options.expiryMs, item));
    this.stats.messagesExpired += expired;
    if (queued !== 1) throw full();
    this.stats.messagesSent++;
  }

  /**
   * Waits for the next message on `channel`: for a named channel, the next live item of its Redis
   * list (BLPOP on a pooled blocking connection; expired items are dropped and counted); for a
   * channel of this process, its local queue. Several waiters are served in call order. While
   * Redis is down the call keeps waiting.
   * @param options - `signal`: gives up the wait (rejects with its reason; nothing is taken: an
   *   item popped afterwards goes to the next waiter or back to the head of the list).
   * @throws {@link InvalidChannelNameError}, also at once for another process's channel
   *   (channels_redis refuses it too); {@link LayerClosedError} after close, or when the layer
   *   closes while waiting; TypeError for a `signal` that is not an `AbortSignal`.
   */
  async receive(channel: string, options?: ReceiveOptions): Promise<LayerMessage> {
    this.#assertOpen();
    validateChannelName(channel, 'receive');
    const signal = receiveSignal(channel, options);
    if (!isProcessLocalChannel(channel)) return this.#named.receive(channel, signal);
    this.#assertOwn('receive', channel);
    return this.#local.receive(channel, signal);
  }

  /**
   * Adds `channel` to `group`, or refreshes its membership so it expires `groupExpiryMs` from now.
   * For a channel of this process, the first local member of a group makes the process SUBSCRIBE
   * to `g:<group>`; the call resolves once the subscription is confirmed. For a channel of
   * another process, the membership is written to Redis and the owner asked through its inbox;
   * the call resolves once it confirms it has subscribed (or at once when no process owns the
   * channel any more). Either way a `groupSend` from any process right after reaches it. During
   * an outage the local part is done and the rest is replayed on reconnect.
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}; {@link LayerClosedError};
   *   {@link RedisUnavailableError} for another process's channel while Redis is down, or when
   *   its owner does not confirm within 5 s ({@link CONFIRM_TIMEOUT_MS}).
   */
  async groupAdd(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    validateGroupName(group, 'groupAdd');
    validateChannelName(channel, 'groupAdd');
    await this.#started();
    this.#assertOpen();
    await this.#groups.add(group, channel);
  }

  /**
   * Removes `channel` from `group`; no error when it was not a member. The last local member
   * leaving makes this process UNSUBSCRIBE from the group. For another process's channel the
   * call resolves once the owner confirms it dropped the member. During an outage the Redis part
   * is replayed on reconnect.
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}; {@link LayerClosedError};
   *   {@link RedisUnavailableError} for another process's channel while Redis is down, or when
   *   its owner does not confirm within 5 s.
   */
  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    validateGroupName(group, 'groupDiscard');
    validateChannelName(channel, 'groupDiscard');
    await this.#started();
    this.#assertOpen();
    await this.#groups.discard(group, channel);
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
    await this.#started();
    const event = Object.isFrozen(message) ? message : Object.freeze(message);
    this.stats.messagesSent++;
    const local = this.#local.fanOut(group, event);
    // Without a PUBLISH, this process is the only one reached.
    let recipients = local.recipients > 0 ? 1 : 0;
    let dropped = local.dropped;
    if (this.#session.commandUp) {
      try {
        const frame = this.#codec.messageFrame(this.id, event, json);
        const [processes, queued, full, expired, scripted] = await this.#publisher.groupSend(group, frame, Date.now());
        this.stats.publishes++;
        if (scripted) this.stats.scriptedPublishes++;
        else this.stats.barePublishes++;
        this.stats.messagesExpired += expired;
        // The PUBLISH reply counts this process too when it has members (it skips the echo:
        // its members got the message above).
        recipients = processes + queued;
        dropped += full;
      } catch (err) {
        if (this.#closed) throw new LayerClosedError(`groupSend(${JSON.stringify(group)}): the channel layer was closed while sending`);
        this.#session.failed('groupSend', err as Error);
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
    await this.#started();
    return this.#session.command(`groupSize(${JSON.stringify(group)})`, () => this.#scripts.groupSize(this.#keys.groupKey(group), Date.now()));
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
    await this.#groups.release(channel, () => this.#started());
  }

  /**
   * Removes everything under this layer's prefix, in every process that shares it: tells the
   * other layers of the prefix (one PUBLISH on `flush`), waits until each has dropped its
   * receivers, queues and memberships (at most 5 s), clears its own, then deletes every Redis key
   * under the prefix (SCAN + UNLINK; on a cluster, on every master). Meant for tests. Pending
   * `receive()` calls keep waiting; `stats` are kept.
   * @throws {@link LayerClosedError}; {@link RedisUnavailableError} while Redis is down or when
   *   another process does not confirm within 5 s.
   */
  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#started();
    await this.#groups.flushOthers();
    this.#groups.clearLocal();
    await this.#session.command('flush()', () => deleteKeys(this.#cmd, `${this.prefix}*`));
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
    this.#session.close(new LayerClosedError());
    this.#sync.stop();
    this.#requests.rejectAll(new LayerClosedError('the channel layer was closed while waiting for another process to confirm'));
    this.#local.close();
    this.#named.close();
    this.#events.clear();
    this.#warnings.clear();
    this.#blocking.close();
    await Promise.all([...new Set([this.#cmd, this.#sub])].map(closeConnection));
  }

  /**
   * Subscribes to layer-wide events: `{type: 'layer.reconnected'}` after Redis came back from an
   * outage and the layer restored its subscriptions and memberships. Listeners must not throw.
   * @returns a function that unsubscribes (idempotent).
   * @throws {@link LayerClosedError} after close; TypeError for a non-function.
   */
  onLayerEvent(listener: LayerEventListener): () => void {
    this.#assertOpen();
    return this.#events.subscribe(listener);
  }

  #assertOpen(): void {
    if (this.#closed) throw new LayerClosedError();
  }

  /** Waits for the first connection (no-op once started). */
  async #started(): Promise<void> {
    if (!this.#session.isStarted) await this.#session.whenStarted();
  }

  /** Only the owner of a process-local channel can receive from it (channels_redis: "Wrong client prefix"). */
  #assertOwn(op: string, channel: string): void {
    const owner = channelOwner(channel, this.id);
    if (owner === undefined) return;
    throw new InvalidChannelNameError(`${op}(${JSON.stringify(channel)}): the channel belongs to another process (layer ${owner}); only the process whose newChannel() made it can ${op === 'attach' ? 'attach to' : 'receive from'} it`);
  }
}

function randomId(): string {
  return randomBytes((LAYER_ID_CHARS * 3) / 4).toString('base64url');
}
