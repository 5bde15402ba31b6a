/**
 * `RedisChannelLayer`: the channel layer shared by several processes through Redis
 * (DESIGN.md §3, docs/channel-layer-spec.md), after channels_redis with the pub/sub fan-out of
 * its `RedisPubSubChannelLayer`.
 *
 * Redis layout (all names start with the `prefix` option, default `switchboard:`):
 *
 * | name | type | what |
 * |---|---|---|
 * | `g:<group>` | pub/sub channel | one PUBLISH per `groupSend` (bare, or from the script when the group has named members); each process with a local member is subscribed once |
 * | `inbox:<layer id>` | pub/sub channel | direct `send` to a process-local channel of that layer, group add/discard requests and acks |
 * | `flush` | pub/sub channel | flush notices: every layer of the prefix clears its state and acks |
 * | `named` | pub/sub channel | "group G has named members" announcements: every layer of the prefix remembers G and acks (`named-groups.ts`) |
 * | `named-groups` | set of group names | the groups that have (or recently had) named members; read by each layer after it subscribed to `named` |
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
  localChannelName,
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
import { closeConnection, deleteKeys, withTimeout } from './connections.js';
import { CONFIRM_TIMEOUT_MS } from './layer-groups.js';
import { assembleLayer, type LayerParts } from './layer-parts.js';
import { newLayerStats, type RedisChannelLayerStats } from './layer-stats.js';
import { channelOwner, LAYER_ID_CHARS } from './keys.js';
import { resolveRedisOptions, type RedisChannelLayerOptions } from './options.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';

export type { RedisChannelLayerStats } from './layer-stats.js';

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
 *   does) and sends **one** PUBLISH to `g:<group>` whatever the group size: a bare PUBLISH when
 *   the group has no named-channel members (every process knows which groups have them before
 *   its next groupSend: `named-groups.ts`), else one EVALSHA that PUBLISHes and pushes to the
 *   named members' lists (`stats.barePublishes` / `stats.scriptedPublishes`). Each other
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
 * Cost model (`npm run bench:redis-cost`, `bench/redis-publish-cost.ts`: a private Redis 7.0 on
 * a shared 2-core box, INFO commandstats and used_cpu deltas per groupSend): to a group without
 * named members, one bare PUBLISH and nothing else, 0.30–0.37 µs of command CPU (3.8–4.2 µs of
 * Redis process CPU with request and reply I/O); before the bare path the script cost 3.6–4.0 µs
 * (7.0–7.5 µs of process CPU). To a group with one named member, the script: 8–12 µs (10–11 µs
 * process). Each receiving process costs Redis one write per PUBLISH, whatever its member count.
 * A `groupAdd` of a named channel costs an SADD, a PUBLISH on `named` and one ack per process.
 * Redis Cluster takes the two-command path for groups with named members (the script would touch
 * keys in other slots); a cluster without sharded pub/sub always takes it (its PUBLISH replies
 * do not count every process, so the announcements could not be confirmed).
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
  readonly stats: RedisChannelLayerStats = newLayerStats();
  /** The effective common options (frozen), defaults filled in. */
  readonly options: ResolvedLayerOptions;
  /** This layer's id: 12 base64url characters, the process part of its channel names. */
  readonly id: string = randomId();
  /** The Redis key prefix. */
  readonly prefix: string;

  readonly #p: LayerParts;
  readonly #events = new LayerEvents();
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
    this.#p = assembleLayer(config, this.id, this.stats, {
      isClosed: () => this.#closed,
      reconnected: () => this.#events.emit(Object.freeze({ type: 'layer.reconnected' }), (err) =>
        this.#p.warnings.warn('listener', 1, { err: String(err) }, 'an onLayerEvent listener threw; listeners must not throw')),
    });
    this.#p.session.begin();
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
      await layer.#p.session.whenStarted(FROM_URL_TIMEOUT_MS);
      await withTimeout(layer.#p.cmd.ping(), FROM_URL_TIMEOUT_MS, () => new RedisUnavailableError(`no PONG from Redis within ${FROM_URL_TIMEOUT_MS} ms`));
      return layer;
    } catch (err) {
      await layer.close();
      if (err instanceof RedisUnavailableError) throw err;
      throw new RedisUnavailableError(`Redis did not answer: ${(err as Error).message}`, err);
    }
  }

  /** Whether the layer's Redis connections are all up right now (started, no outage). */
  get connected(): boolean {
    return !this.#closed && this.#p.session.connected;
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
    return localChannelName(prefix, this.id, randomId());
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
    if (!isProcessLocalChannel(channel)) return this.#p.named.attach(channel, receiver);
    this.#assertOwn('attach', channel);
    this.#p.local.attach(channel, receiver);
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
        if (!this.#p.local.deliver(channel, event)) throw full();
        this.stats.messagesSent++;
        return;
      }
      await this.#started();
      const reached = await this.#p.session.command(what, () => this.#p.publisher.publish(this.#p.keys.inbox(owner), this.#p.codec.inboxFrame(this.id, channel, json)));
      this.stats.publishes++;
      if (reached === 0) this.stats.undeliverable++;
      this.stats.messagesSent++;
      return;
    }
    await this.#started();
    const now = Date.now();
    const item = this.#p.codec.listItem(now + this.options.expiryMs, this.#p.codec.messageFrame(this.id, event, json));
    const [queued, expired] = await this.#p.session.command(what, () => this.#p.scripts.push(this.#p.keys.queueKey(channel), now, capacity, this.options.expiryMs, item));
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
    if (!isProcessLocalChannel(channel)) return this.#p.named.receive(channel, signal);
    this.#assertOwn('receive', channel);
    return this.#p.local.receive(channel, signal);
  }

  /**
   * Adds `channel` to `group`, or refreshes its membership so it expires `groupExpiryMs` from now.
   * For a channel of this process, the first local member of a group makes the process SUBSCRIBE
   * to `g:<group>`; the call resolves once the subscription is confirmed. For a channel of
   * another process, the membership is written to Redis and the owner asked through its inbox;
   * the call resolves once it confirms it has subscribed (or at once when no process owns the
   * channel any more). For a named channel, the membership is written to Redis, the group is
   * marked as having named members (`named-groups`) and announced on `named`; the call resolves
   * once every process the announcement reached has confirmed it. Either way a `groupSend` from
   * any process right after reaches it. During an outage the local part is done and the rest is
   * replayed on reconnect.
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}; {@link LayerClosedError};
   *   {@link RedisUnavailableError} for another process's channel while Redis is down, or when
   *   its owner (for a named channel: any process of the prefix) does not confirm within 5 s
   *   ({@link CONFIRM_TIMEOUT_MS}).
   */
  async groupAdd(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    validateGroupName(group, 'groupAdd');
    validateChannelName(channel, 'groupAdd');
    await this.#started();
    this.#assertOpen();
    await this.#p.groups.add(group, channel);
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
    await this.#p.groups.discard(group, channel);
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
    const local = this.#p.local.fanOut(group, event);
    // Without a PUBLISH, this process is the only one reached.
    let recipients = local.recipients > 0 ? 1 : 0;
    let dropped = local.dropped;
    if (this.#p.session.commandUp) {
      try {
        const frame = this.#p.codec.messageFrame(this.id, event, json);
        const [processes, queued, full, expired, scripted] = await this.#p.publisher.groupSend(group, frame, Date.now());
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
        this.#p.session.failed('groupSend', err as Error);
        this.stats.publishFailures++;
      }
    } else {
      this.stats.publishFailures++;
    }
    if (dropped > 0) {
      this.stats.groupSendDrops += dropped;
      this.#p.warnings.warn(`group:${group}`, dropped, { group, type: event.type, dropped, totalGroupSendDrops: this.stats.groupSendDrops },
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
    return this.#p.session.command(`groupSize(${JSON.stringify(group)})`, () => this.#p.scripts.groupSize(this.#p.keys.groupKey(group), Date.now()));
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
    await this.#p.groups.release(channel, () => this.#started());
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
    await this.#p.groups.flushOthers();
    this.#p.groups.clearLocal();
    await this.#p.session.command('flush()', () => deleteKeys(this.#p.cmd, `${this.prefix}*`));
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
    this.#p.session.close(new LayerClosedError());
    this.#p.sync.stop();
    this.#p.requests.rejectAll(new LayerClosedError('the channel layer was closed while waiting for another process to confirm'));
    this.#p.local.close();
    this.#p.named.close();
    this.#events.clear();
    this.#p.warnings.clear();
    this.#p.blocking.close();
    await Promise.all([...new Set([this.#p.cmd, this.#p.sub])].map(closeConnection));
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
    if (!this.#p.session.isStarted) await this.#p.session.whenStarted();
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
