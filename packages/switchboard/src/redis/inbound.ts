/**
 * Frames arriving from Redis: group messages and inbox frames on the subscriber connection, and
 * items popped from named-channel lists. Everything from Redis is checked before it is used
 * (another process, another version, or anyone with access to Redis may have written it).
 */
import { validateChannelName, validateGroupName, isProcessLocalChannel, type LayerMessage } from '../layers/channel-layer.js';
import { InboxKind, isFromOrigin, isLayerMessage, ORIGIN_LENGTH, parseListItem, type FrameCodec } from './codec.js';
import type { LayerKeys } from './keys.js';
import type { LocalCore } from '../layers/local-core.js';
import type { RateLimitedWarnings } from '../rate-limited-warnings.js';

/** The counters inbound frames move. */
export interface InboundStats {
  groupSendDrops: number;
  messagesExpired: number;
  inboxDrops: number;
  decodeErrors: number;
}

/** What the handler needs from its layer. */
export interface InboundContext {
  /** This layer's id: frames it sent itself are skipped. */
  readonly id: string;
  readonly codec: FrameCodec;
  readonly keys: LayerKeys;
  readonly local: LocalCore;
  readonly stats: InboundStats;
  readonly warnings: RateLimitedWarnings;
  readonly groupExpiryMs: number;
  /** A membership was added on another process's request (starts the refresh timer). */
  membershipAdded(): void;
}

/** Decodes and dispatches frames from Redis. */
export class InboundFrames {
  readonly #ctx: InboundContext;
  readonly #idBytes: Buffer;
  readonly #inbox: string;

  constructor(context: InboundContext) {
    this.#ctx = context;
    this.#idBytes = Buffer.from(context.id, 'latin1');
    this.#inbox = context.keys.inbox(context.id);
  }

  /** Handles one pub/sub message (ioredis `messageBuffer` / `smessageBuffer`). */
  readonly handle = (channel: Buffer, frame: Buffer): void => {
    const name = channel.toString();
    const groupPrefix = this.#ctx.keys.groupChannelPrefix;
    if (name.startsWith(groupPrefix)) this.#onGroupMessage(name.slice(groupPrefix.length), frame);
    else if (name === this.#inbox) this.#onInbox(frame);
  };

  /** Decodes a named-channel list item; `undefined` when it expired (counted) or is malformed. */
  decodeListItem(channel: string, item: Buffer): LayerMessage | undefined {
    let parsed: { deadline: number; offset: number };
    try {
      parsed = parseListItem(item);
    } catch (err) {
      this.#bad(`q:${channel}`, (err as Error).message);
      return undefined;
    }
    if (parsed.deadline <= Date.now()) {
      this.#ctx.stats.messagesExpired++;
      return undefined;
    }
    const message = this.#decode(item, parsed.offset, `q:${channel}`);
    if (message === undefined) return undefined;
    if (!isLayerMessage(message)) {
      this.#bad(`q:${channel}`, 'not a {type: string} message');
      return undefined;
    }
    return Object.freeze(message);
  }

  #onGroupMessage(group: string, frame: Buffer): void {
    const { local, stats, warnings } = this.#ctx;
    // Our own groupSend: the local members got it directly already.
    if (isFromOrigin(frame, this.#idBytes)) return;
    if (!local.hasGroup(group)) return;
    const event = this.#decode(frame, ORIGIN_LENGTH, `g:${group}`);
    if (event === undefined) return;
    if (!isLayerMessage(event)) return this.#bad(`g:${group}`, 'not a {type: string} message');
    // Decoded once per process; every local member gets this same frozen object.
    const { dropped } = local.fanOut(group, Object.freeze(event));
    if (dropped > 0) {
      stats.groupSendDrops += dropped;
      warnings.warn(
        `group:${group}`,
        dropped,
        { group, type: event.type, dropped, totalGroupSendDrops: stats.groupSendDrops },
        `group message for ${JSON.stringify(group)}: ${dropped} local member(s) full, message of type ${JSON.stringify(event.type)} dropped for them`,
      );
    }
  }

  #onInbox(frame: Buffer): void {
    const envelope = this.#decode(frame, ORIGIN_LENGTH, 'inbox');
    if (envelope === undefined) return;
    if (!Array.isArray(envelope) || envelope.length !== 3 || typeof envelope[1] !== 'string' || !isProcessLocalChannel(envelope[1])) {
      return this.#bad('inbox', 'not a [kind, channel, payload] envelope');
    }
    const [kind, channel, payload] = envelope as [unknown, string, unknown];
    const { local, stats, warnings } = this.#ctx;
    if (kind === InboxKind.Message) {
      if (!isLayerMessage(payload)) return this.#bad('inbox', 'not a {type: string} message');
      if (!local.deliver(channel, Object.freeze(payload))) {
        stats.inboxDrops++;
        warnings.warn(`channel:${channel}`, 1, { channel, type: payload.type },
          `message of type ${JSON.stringify(payload.type)} from another process dropped: ${JSON.stringify(channel)} is full`);
      }
      return;
    }
    if ((kind !== InboxKind.GroupAdd && kind !== InboxKind.GroupDiscard) || typeof payload !== 'string') {
      return this.#bad('inbox', `unknown kind ${JSON.stringify(kind)}`);
    }
    try {
      validateGroupName(payload, 'inbox');
      validateChannelName(channel, 'inbox');
    } catch {
      return this.#bad('inbox', 'bad group or channel name');
    }
    if (kind === InboxKind.GroupAdd) {
      local.addMember(payload, channel, Date.now() + this.#ctx.groupExpiryMs);
      this.#ctx.membershipAdded();
    } else {
      local.removeMember(payload, channel);
    }
  }

  #decode(frame: Buffer, offset: number, where: string): unknown {
    try {
      return this.#ctx.codec.decode(frame, offset);
    } catch (err) {
      this.#bad(where, (err as Error).message);
      return undefined;
    }
  }

  #bad(where: string, why: string): void {
    this.#ctx.stats.decodeErrors++;
    this.#ctx.warnings.warn(`decode:${where}`, 1, { where, serializer: this.#ctx.codec.name },
      `skipped an undecodable frame on ${where} (${why}); do all processes sharing prefix ${JSON.stringify(this.#ctx.keys.prefix)} use serializer ${JSON.stringify(this.#ctx.codec.name)}?`);
  }
}
