/**
 * How the Redis channel layer's parts are built and wired to each other (one place, so that
 * `redis-channel-layer.ts` is the layer's API and its routes only): the connections, the local
 * core, the session (start-up, outages, recovery), subscriptions, memberships, inbound frames,
 * named channels, the named-groups marks and the group publisher.
 */
import { channelCapacityFor } from '../layers/channel-layer.js';
import { LocalCore } from '../layers/local-core.js';
import { RateLimitedWarnings } from '../rate-limited-warnings.js';
import { createCodec, InboxKind, type FrameCodec } from './codec.js';
import { BlockingPool, openConnections, type Connection } from './connections.js';
import { GroupPublisher } from './group-publisher.js';
import { InboundFrames } from './inbound.js';
import { InboxRequests } from './inbox-requests.js';
import { LayerKeys } from './keys.js';
import { LayerGroups } from './layer-groups.js';
import { LayerSession } from './layer-session.js';
import type { RedisChannelLayerStats } from './layer-stats.js';
import { MembershipSync } from './membership-sync.js';
import { RedisMemberships } from './memberships.js';
import { NamedChannels } from './named-channels.js';
import { NamedGroups } from './named-groups.js';
import type { ResolvedRedisOptions } from './options.js';
import { defineScripts, type LayerScripts } from './scripts.js';
import { Subscriptions } from './subscriptions.js';

/** The parts of one layer. */
export interface LayerParts {
  readonly codec: FrameCodec;
  readonly keys: LayerKeys;
  readonly warnings: RateLimitedWarnings;
  readonly local: LocalCore;
  /** The command connection. */
  readonly cmd: Connection;
  /** The subscriber connection (the same object as `cmd` on a cluster). */
  readonly sub: Connection;
  readonly namedGroups: NamedGroups;
  readonly session: LayerSession;
  readonly scripts: LayerScripts;
  readonly publisher: GroupPublisher;
  readonly subscriptions: Subscriptions;
  readonly memberships: RedisMemberships;
  readonly sync: MembershipSync;
  readonly blocking: BlockingPool;
  readonly inbound: InboundFrames;
  readonly named: NamedChannels<Connection>;
  readonly groups: LayerGroups;
  readonly requests: InboxRequests;
}

/** What the parts ask of the layer itself. */
export interface LayerPartsHost {
  /** Whether the layer was closed. */
  isClosed(): boolean;
  /** The layer recovered from an outage (emit `layer.reconnected`). */
  reconnected(): void;
}

/**
 * Builds the parts of the layer `id` and starts listening on its subscriber connection; the
 * caller begins the session (`parts.session.begin()`) once it holds the parts.
 */
export function assembleLayer(config: ResolvedRedisOptions, id: string, stats: RedisChannelLayerStats, host: LayerPartsHost): LayerParts {
  const requests = new InboxRequests();
  const codec = createCodec(config.serializer);
  const keys = new LayerKeys(config.prefix);
  const warnings = new RateLimitedWarnings(config.logger);
  const local = new LocalCore({
    capacityFor: (channel) => channelCapacityFor(config.layer, channel),
    expiryMs: config.layer.expiryMs,
    stats,
    logger: config.logger,
    groupCreated: (group) => subscriptions.add(keys.groupChannel(group)),
    groupEmptied: (group) => subscriptions.remove(keys.groupChannel(group)),
  });
  const connections = openConnections(config, id);
  const { command, subscriber } = connections;
  const namedGroups = new NamedGroups({
    subscriber,
    subscribe: () => subscriptions.subscribe([keys.namedChannel]),
    members: () => command.smembers(keys.namedGroupsKey),
  }, config.cluster === undefined || config.shardedPubSub);
  const session: LayerSession = new LayerSession(config, connections, {
    start: async () => {
      await subscriptions.subscribe([keys.inbox(id), keys.flushChannel]);
      if (namedGroups.enabled) await namedGroups.load();
    },
    restore: () => groups.restore(),
    restored: () => host.reconnected(),
    down: () => {
      stats.outages++;
      namedGroups.invalidate();
    },
    isClosed: () => host.isClosed(),
  }, warnings);
  const scripts = defineScripts(command);
  const publisher = new GroupPublisher(command, scripts, keys, codec, config.layer, config.shardedPubSub, namedGroups);
  const onError = (op: string, err: Error): void => session.failed(op, err);
  const subscriptions = new Subscriptions(subscriber, config.shardedPubSub, onError);
  const memberships = new RedisMemberships(command, config.layer.groupExpiryMs, onError);
  const sync: MembershipSync = new MembershipSync({
    local: local,
    memberships: memberships,
    keys: keys,
    groupExpiryMs: config.layer.groupExpiryMs,
    isUp: () => !session.degraded,
    failed: onError,
  });
  const blocking = new BlockingPool(command, `${config.prefix}${id}:block`);
  const inbound = new InboundFrames({
    id: id,
    codec: codec,
    keys: keys,
    local: local,
    stats,
    warnings: warnings,
    groupExpiryMs: config.layer.groupExpiryMs,
    membershipAdded: () => sync.start(),
    subscribing: (group) => subscriptions.pending(keys.groupChannel(group)),
    confirm: (origin, requestId) => {
      publisher.publish(keys.inbox(origin), codec.requestFrame(id, InboxKind.Ack, requestId)).catch((err: Error) => onError('confirm', err));
    },
    acked: (requestId) => requests.ack(requestId),
    flushed: () => groups.clearLocal(),
    namedGroup: (group) => namedGroups.noticed(group),
  });
  const named = new NamedChannels<Connection>({
    isClosed: () => host.isClosed(),
    listKey: (channel) => keys.queueKey(channel),
    decodeItem: (channel, item) => inbound.decodeListItem(channel, item),
    pushBack: async (key, item) => {
      await command.lpush(key, item).catch(() => {});
    },
    refused: (channel, message) => {
      stats.inboxDrops++;
      warnings.warn(`channel:${channel}`, 1, { channel, type: message.type },
        `the receiver of ${JSON.stringify(channel)} refused a message of type ${JSON.stringify(message.type)}; dropped`);
    },
    takeConnection: () => blocking.take(),
    returnConnection: (connection) => blocking.give(connection),
  });
  const groups: LayerGroups = new LayerGroups({
    id: id,
    prefix: config.prefix,
    groupExpiryMs: config.layer.groupExpiryMs,
    unreliableReplies: config.cluster !== undefined && !config.shardedPubSub,
    cmd: command,
    codec: codec,
    keys: keys,
    local: local,
    named: named,
    namedGroups: namedGroups,
    memberships: memberships,
    sync: sync,
    subscriptions: subscriptions,
    publisher: publisher,
    requests: requests,
    session: session,
    clearWarnings: () => warnings.clear(),
  });
  subscriber.on(config.shardedPubSub ? 'smessageBuffer' : 'messageBuffer', (channel: Buffer, frame: Buffer) => {
    if (host.isClosed()) return;
    try {
      inbound.handle(channel, frame);
    } catch (err) {
      // A receiver threw (they must not). Never let it unwind into ioredis' reply parser.
      warnings.warn('receiver', 1, { err: String(err) }, `a channel receiver threw while handling a message from Redis; receivers must not throw: ${String(err)}`);
    }
  });
  return { codec, keys, warnings, local, cmd: command, sub: subscriber, namedGroups, session, scripts, publisher, subscriptions, memberships, sync, blocking, inbound, named, groups, requests };
}
