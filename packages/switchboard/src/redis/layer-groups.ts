/**
 * Group membership of the Redis channel layer, in its three places: the local core (this
 * process's channels: the fan-out), Redis (`group:<group>` for every member, `group-named:<group>`
 * for named channels) and the owners of other processes' channels, asked through their inboxes
 * and waited for (so a `groupSend` right after a `groupAdd` reaches the member, as in
 * channels_redis). Also what a flush or a recovery does to memberships.
 */
import { isProcessLocalChannel } from '../layers/channel-layer.js';
import type { LocalCore } from '../layers/local-core.js';
import { InboxKind, type Frame, type FrameCodec } from './codec.js';
import type { Connection } from './connections.js';
import type { GroupPublisher } from './group-publisher.js';
import type { InboxRequest, InboxRequests } from './inbox-requests.js';
import { channelOwner, type LayerKeys } from './keys.js';
import type { LayerSession } from './layer-session.js';
import type { MembershipSync } from './membership-sync.js';
import type { RedisMemberships } from './memberships.js';
import type { NamedChannels } from './named-channels.js';
import type { NamedGroups } from './named-groups.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';
import type { Subscriptions } from './subscriptions.js';

/** How long a groupAdd/groupDiscard of another process's channel, or a flush, waits for confirmations. */
export const CONFIRM_TIMEOUT_MS = 5_000;

/** The parts of the layer that memberships touch. */
export interface LayerGroupsParts {
  readonly id: string;
  readonly prefix: string;
  readonly groupExpiryMs: number;
  /** A cluster without sharded pub/sub counts only one node's subscribers in a PUBLISH reply. */
  readonly unreliableReplies: boolean;
  readonly cmd: Connection;
  readonly codec: FrameCodec;
  readonly keys: LayerKeys;
  readonly local: LocalCore;
  readonly named: NamedChannels<Connection>;
  readonly namedGroups: NamedGroups;
  readonly memberships: RedisMemberships;
  readonly sync: MembershipSync;
  readonly subscriptions: Subscriptions;
  readonly publisher: GroupPublisher;
  readonly requests: InboxRequests;
  readonly session: LayerSession;
  /** Forget rate-limited warning state (flush). */
  clearWarnings(): void;
}

/** Adds, discards and releases memberships for one layer. */
export class LayerGroups {
  readonly #p: LayerGroupsParts;

  constructor(parts: LayerGroupsParts) {
    this.#p = parts;
  }

  /** `groupAdd` once names are valid and the layer started (see `RedisChannelLayer.groupAdd`). */
  async add(group: string, channel: string): Promise<void> {
    const { keys, local, memberships, sync, subscriptions, session } = this.#p;
    const deadline = Date.now() + this.#p.groupExpiryMs;
    const groupKey = keys.groupKey(group);
    const owner = isProcessLocalChannel(channel) ? channelOwner(channel, this.#p.id) : undefined;
    if (owner !== undefined) {
      const what = `groupAdd(${JSON.stringify(group)}, ${JSON.stringify(channel)})`;
      await session.command(what, () => memberships.addMany(groupKey, [[deadline, channel]]));
      return this.#ask(what, owner, InboxKind.GroupAdd, channel, group);
    }
    if (isProcessLocalChannel(channel)) {
      local.addMember(group, channel, deadline);
      sync.start();
      await Promise.all([subscriptions.pending(keys.groupChannel(group)), memberships.add(groupKey, deadline, channel)]);
      return;
    }
    sync.addNamed(channel, group, deadline);
    await Promise.all([memberships.add(groupKey, deadline, channel), memberships.add(keys.namedGroupKey(group), deadline, channel)]);
    await this.#announce(`groupAdd(${JSON.stringify(group)}, ${JSON.stringify(channel)})`, group, true);
  }

  /** `groupDiscard` once names are valid and the layer started. */
  async discard(group: string, channel: string): Promise<void> {
    const { keys, local, memberships, sync, session, cmd } = this.#p;
    const groupKey = keys.groupKey(group);
    const owner = isProcessLocalChannel(channel) ? channelOwner(channel, this.#p.id) : undefined;
    if (owner !== undefined) {
      const what = `groupDiscard(${JSON.stringify(group)}, ${JSON.stringify(channel)})`;
      await session.command(what, () => cmd.zrem(groupKey, channel));
      return this.#ask(what, owner, InboxKind.GroupDiscard, channel, group);
    }
    if (isProcessLocalChannel(channel)) {
      local.removeMember(group, channel);
      return memberships.remove([[groupKey, [channel]]]);
    }
    sync.removeNamed(channel, group);
    await memberships.remove([[groupKey, [channel]], [keys.namedGroupKey(group), [channel]]]);
  }

  /** `releaseChannel` once the name is valid; `started` waits for the first connection. */
  async release(channel: string, started: () => Promise<void>): Promise<void> {
    const { keys, local, named, memberships, sync, session, cmd } = this.#p;
    if (isProcessLocalChannel(channel)) {
      const left = local.release(channel);
      if (left.length > 0) await memberships.remove(left.map((group) => [keys.groupKey(group), [channel]]));
      return;
    }
    named.detach(channel);
    const groups = sync.releaseNamed(channel);
    await started();
    const removals: Array<[string, string[]]> = [];
    for (const group of groups) removals.push([keys.groupKey(group), [channel]], [keys.namedGroupKey(group), [channel]]);
    await Promise.all([
      memberships.remove(removals),
      // At-most-once: if this fails (Redis down), the queue still expires after expiryMs.
      cmd.unlink(keys.queueKey(channel)).catch((err: Error) => session.failed('releaseChannel', err)),
    ]);
  }

  /** Tells every other layer of the prefix to clear its state and waits for their acks (flush). */
  async flushOthers(): Promise<void> {
    const { keys, codec } = this.#p;
    const [request, reached] = await this.#publishRequest('flush()', keys.flushChannel, (id) => codec.requestFrame(this.#p.id, InboxKind.Flush, id));
    // The reply counts this layer too (it listens on the flush channel and skips its own notice).
    await request.wait(reached - 1, CONFIRM_TIMEOUT_MS, () => new RedisUnavailableError(`flush(): not every process sharing prefix ${JSON.stringify(this.#p.prefix)} confirmed within ${CONFIRM_TIMEOUT_MS} ms`));
  }

  /** Drops this process's receivers, queues and memberships (a flush, here or in another process). */
  clearLocal(): void {
    const { keys, local, named, memberships, sync, subscriptions } = this.#p;
    for (const group of local.clear()) subscriptions.remove(keys.groupChannel(group));
    named.detachAll();
    this.#p.namedGroups.clear();
    sync.clear();
    memberships.clear();
    this.#p.clearWarnings();
  }

  /** After an outage: re-SUBSCRIBE everything (dropping stale subscriptions), re-ZADD memberships, replay removals. */
  async restore(): Promise<void> {
    const { keys, local, memberships, sync, subscriptions } = this.#p;
    const wanted = [keys.inbox(this.#p.id), keys.flushChannel];
    for (const group of local.groups()) wanted.push(keys.groupChannel(group));
    if (this.#p.namedGroups.enabled) wanted.push(keys.namedChannel);
    await subscriptions.restore(wanted);
    if (this.#p.namedGroups.enabled) await this.#p.namedGroups.load();
    const [namedGroups] = await Promise.all([sync.resync(), memberships.replayRemovals()]);
    // A restarted Redis lost `named-groups` too: mark the groups again (no wait for acks here:
    // a recovery must not fail because another process is slow).
    await Promise.all(namedGroups.map((group) => this.#announce('restore', group, false)));
  }

  /**
   * Marks `group` as having named members: here at once, in `named-groups` (before the
   * announcement, so a process that subscribes and then reads the set cannot miss both), and in
   * every other process through the `named` channel. With `wait`, resolves once every process
   * the PUBLISH reached has acked (this one included, when it was subscribed). While Redis is down
   * it resolves at once: the recovery announces again (`restore`).
   * @throws {@link RedisUnavailableError} when a process does not ack within {@link CONFIRM_TIMEOUT_MS}.
   */
  async #announce(what: string, group: string, wait: boolean): Promise<void> {
    const { keys, codec, cmd, publisher, requests, session, namedGroups } = this.#p;
    if (!namedGroups.enabled) return;
    namedGroups.noticed(group);
    const request = requests.open();
    let reached: number;
    try {
      await cmd.sadd(keys.namedGroupsKey, group);
      reached = await publisher.publish(keys.namedChannel, codec.namedFrame(this.#p.id, group, request.id));
    } catch (err) {
      request.cancel();
      session.failed(what, err as Error);
      return;
    }
    if (!wait) return request.cancel();
    await request.wait(reached, CONFIRM_TIMEOUT_MS, () => new RedisUnavailableError(`${what}: not every process sharing prefix ${JSON.stringify(this.#p.prefix)} confirmed within ${CONFIRM_TIMEOUT_MS} ms that group ${JSON.stringify(group)} has named members`));
  }

  /**
   * Asks the owner of `channel` to add it to / discard it from `group` and waits for its ack.
   * Resolves at once when no process owns the channel any more (nobody left to deliver to).
   */
  async #ask(what: string, owner: string, kind: typeof InboxKind.GroupAdd | typeof InboxKind.GroupDiscard, channel: string, group: string): Promise<void> {
    const { keys, codec } = this.#p;
    const [request, reached] = await this.#publishRequest(what, keys.inbox(owner), (id) => codec.groupRequestFrame(this.#p.id, kind, channel, group, id));
    const expected = this.#p.unreliableReplies ? 1 : Math.min(reached, 1);
    await request.wait(expected, CONFIRM_TIMEOUT_MS, () => new RedisUnavailableError(`${what}: the process that owns the channel (layer ${owner}) did not confirm within ${CONFIRM_TIMEOUT_MS} ms`));
  }

  /** Opens a request and publishes its frame on `pubsub`; resolves the request and the subscribers reached. */
  async #publishRequest(what: string, pubsub: string, frame: (requestId: string) => Frame): Promise<[InboxRequest, number]> {
    const { publisher, requests, session } = this.#p;
    const request = requests.open();
    try {
      return [request, await session.command(what, () => publisher.publish(pubsub, frame(request.id)))];
    } catch (err) {
      request.cancel();
      throw err;
    }
  }
}
