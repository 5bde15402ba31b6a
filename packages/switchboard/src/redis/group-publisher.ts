/**
 * The Redis side of `groupSend`: one PUBLISH to the group's pub/sub channel, plus a
 * capacity-checked push to the list of every named (worker) channel in the group. For a group
 * that has no named members (every process knows which groups have them: `named-groups.ts`),
 * that is all: one bare PUBLISH (SPUBLISH with sharded pub/sub). Otherwise three paths, all
 * ending in that one PUBLISH:
 * - one server, one capacity for every channel: one EVALSHA does everything (`GROUP_SEND`);
 * - one server with `channelCapacity`: one EVALSHA publishes and lists the named members
 *   (`GROUP_SEND_LIST`), then one push per named member with that member's capacity;
 * - Redis Cluster: PUBLISH (or SPUBLISH) and EXISTS from the client, and the pushes, because the
 *   members' lists live in other slots than the group's keys.
 */
import { Cluster } from 'ioredis';
import { channelCapacityFor, type ResolvedLayerOptions } from '../layers/channel-layer.js';
import type { Frame, FrameCodec } from './codec.js';
import type { Connection } from './connections.js';
import type { LayerKeys } from './keys.js';
import type { NamedGroups } from './named-groups.js';
import type { LayerScripts } from './scripts.js';

/**
 * What a group publish reached: `[processes, named queued, named full, expired items dropped,
 * scripted]`; `scripted` is false for a bare PUBLISH.
 */
export type GroupPublishResult = [number, number, number, number, boolean];

/** Publishes group messages for one layer. */
export class GroupPublisher {
  readonly #cmd: Connection;
  readonly #scripts: LayerScripts;
  readonly #keys: LayerKeys;
  readonly #codec: FrameCodec;
  readonly #options: ResolvedLayerOptions;
  readonly #sharded: boolean;
  readonly #named: NamedGroups;

  constructor(cmd: Connection, scripts: LayerScripts, keys: LayerKeys, codec: FrameCodec, options: ResolvedLayerOptions, sharded: boolean, named: NamedGroups) {
    this.#cmd = cmd;
    this.#named = named;
    this.#scripts = scripts;
    this.#keys = keys;
    this.#codec = codec;
    this.#options = options;
    this.#sharded = sharded;
  }

  /** PUBLISH (SPUBLISH with sharded pub/sub) of `frame` on `channel`; resolves the subscribers reached. */
  publish(channel: string, frame: Frame): Promise<number> {
    return this.#sharded ? (this.#cmd.spublish(channel, frame) as Promise<number>) : this.#cmd.publish(channel, frame);
  }

  /** One group publish (see the module documentation); `now` is `Date.now()`. */
  async groupSend(group: string, frame: Frame, now: number): Promise<GroupPublishResult> {
    const pubsub = this.#keys.groupChannel(group);
    if (this.#named.bare(group)) return [await this.publish(pubsub, frame), 0, 0, 0, false];
    const { capacity, expiryMs, channelCapacity } = this.#options;
    const namedKey = this.#keys.namedGroupKey(group);
    const markers = this.#keys.namedGroupsKey;
    // Announcements after this point are not contradicted by this send's "no named member".
    const notices = this.#named.notices;
    let processes: number;
    let members: string[];
    if (!(this.#cmd instanceof Cluster)) {
      if (channelCapacity.length === 0) {
        const [reached, queued, full, expired, live] = await this.#scripts.groupSend(namedKey, markers, group, pubsub, frame, now, now + expiryMs, capacity, expiryMs, this.#keys.queuePrefix);
        if (live === 0) this.#named.drop(group, notices);
        return [reached, queued, full, expired, true];
      }
      [processes, ...members] = await this.#scripts.groupSendList(namedKey, markers, group, pubsub, frame, now);
    } else {
      // The marks in `named-groups` are left to go stale here: without one script over both
      // keys, removing one could race with an add (a stale mark only costs this path).
      const [reached, hasNamed] = await Promise.all([this.publish(pubsub, frame), this.#cmd.exists(namedKey)]);
      processes = reached;
      if (hasNamed === 0) {
        this.#named.drop(group, notices);
        return [processes, 0, 0, 0, true];
      }
      await this.#cmd.zremrangebyscore(namedKey, '-inf', now);
      members = await this.#cmd.zrange(namedKey, 0, -1);
    }
    if (members.length === 0) {
      this.#named.drop(group, notices);
      return [processes, 0, 0, 0, true];
    }
    const item = this.#codec.listItem(now + expiryMs, frame);
    const results = await Promise.all(
      members.map((member) => this.#scripts.push(this.#keys.queueKey(member), now, channelCapacityFor(this.#options, member), expiryMs, item)),
    );
    let queued = 0;
    let expired = 0;
    for (const [ok, gone] of results) {
      queued += ok;
      expired += gone;
    }
    return [processes, queued, members.length - queued, expired, true];
  }
}
