/**
 * Names of the Redis keys and pub/sub channels of one layer prefix (see the table in
 * `redis-channel-layer.ts`), and the owner of a process-local channel name.
 */

/** Characters of a layer id: 9 random bytes in base64url. */
export const LAYER_ID_CHARS = 12;

/** Key and channel names under one prefix. */
export class LayerKeys {
  /** The prefix every name starts with. */
  readonly prefix: string;
  /** Start of every group pub/sub channel: `${prefix}g:`. */
  readonly groupChannelPrefix: string;
  /** Start of every named-channel list: `${prefix}q:`. */
  readonly queuePrefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.groupChannelPrefix = `${prefix}g:`;
    this.queuePrefix = `${prefix}q:`;
  }

  /** Pub/sub channel of a group: one PUBLISH per groupSend. */
  groupChannel(group: string): string {
    return this.groupChannelPrefix + group;
  }

  /** Pub/sub channel of a layer's inbox. */
  inbox(layerId: string): string {
    return `${this.prefix}inbox:${layerId}`;
  }

  /** Pub/sub channel every layer of the prefix listens on for flush notices. */
  get flushChannel(): string {
    return `${this.prefix}flush`;
  }

  /** Pub/sub channel every layer of the prefix listens on for "group G has named members" announcements. */
  get namedChannel(): string {
    return `${this.prefix}named`;
  }

  /** Set of the groups that have (or recently had) named-channel members (`named-groups.ts`). */
  get namedGroupsKey(): string {
    return `${this.prefix}named-groups`;
  }

  /** Sorted set of every member of a group, score = expiry (ms since the epoch). */
  groupKey(group: string): string {
    return `${this.prefix}group:${group}`;
  }

  /** Sorted set of the named-channel members of a group, score = expiry. */
  namedGroupKey(group: string): string {
    return `${this.prefix}group-named:${group}`;
  }

  /** List behind a named channel. */
  queueKey(channel: string): string {
    return this.queuePrefix + channel;
  }
}

/**
 * The id of the layer that owns the process-local channel `prefix.<id>!random`, or `undefined`
 * when that is `ownId` or the name carries no layer id (such names are treated as local).
 */
export function channelOwner(channel: string, ownId: string): string | undefined {
  const bang = channel.indexOf('!');
  const dot = channel.lastIndexOf('.', bang);
  if (dot < 0 || bang - dot - 1 !== LAYER_ID_CHARS) return undefined;
  const owner = channel.slice(dot + 1, bang);
  return owner === ownId ? undefined : owner;
}
