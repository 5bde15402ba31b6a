/**
 * Wire frames of the Redis layer, in JSON. (MessagePack via msgpackr was measured and was slower
 * on typical events, 2.23 µs vs 0.93 µs to encode a chat.message; see docs/performance.md.)
 *
 * Every frame starts with the sender's 12-character layer id (ASCII), so a process can skip the
 * echo of its own group messages (it delivered those to its local members directly):
 * - group message (PUBLISH `g:<group>`):   `<origin><message>`
 * - inbox frame   (PUBLISH `inbox:<id>`):  `<origin>[0, channel, message]`,
 *   `<origin>[1 | 2, channel, group, request id]` (group add / discard, confirmed by an ack),
 *   `<origin>[3, request id]` (the ack)
 * - flush notice  (PUBLISH `flush`):       `<origin>[4, request id]`, acked like a group add
 * - named notice  (PUBLISH `named`):       `<origin>[5, group, request id]`: the group has named
 *   members (`named-groups.ts`), acked like a group add
 * - list item     (named channel list):    `<deadline ms>:<origin><message>`; the decimal
 *   deadline prefix lets the Lua scripts drop expired items without decoding them.
 *
 * With JSON the message is not encoded again: the text `validateMessage` produced (to check the
 * size) is spliced into the frame.
 */
import type { LayerMessage } from '../layers/channel-layer.js';
import { LAYER_ID_CHARS } from './keys.js';
import type { RedisSerializerName } from './options.js';

/** Characters of a layer id, the first bytes of every frame. */
export const ORIGIN_LENGTH = LAYER_ID_CHARS;

/** What an inbox frame carries: `[kind, channel, payload]`. */
export const InboxKind = Object.freeze({
  /** `[0, channel, message]`: a direct `send` to a process-local channel. */
  Message: 0,
  /** `[1, channel, group, request id]`: another process added this process's channel to a group. */
  GroupAdd: 1,
  /** `[2, channel, group, request id]`: another process discarded this process's channel from a group. */
  GroupDiscard: 2,
  /** `[3, request id]`: the owner did what request `id` asked (see `inbox-requests.ts`). */
  Ack: 3,
  /** `[4, request id]` on the `flush` channel: another process flushed the prefix; clear and ack. */
  Flush: 4,
  /** `[5, group, request id]` on the `named` channel: `group` has named members; remember and ack. */
  Named: 5,
} as const);
/** One of the {@link InboxKind} values. */
export type InboxKind = (typeof InboxKind)[keyof typeof InboxKind];

/** A payload Redis can take: a string (UTF-8) or bytes. */
export type Frame = string | Buffer;

/** Encodes and decodes frames for one serializer. */
export interface FrameCodec {
  readonly name: RedisSerializerName;
  /** `<origin><message>`; `json` is the message's JSON text from `validateMessage`. */
  messageFrame(origin: string, message: LayerMessage, json: string): Frame;
  /** `<origin>[0, channel, message]`; `json` is the message's JSON text. */
  inboxFrame(origin: string, channel: string, json: string): Frame;
  /** `<origin>[kind, channel, group, requestId]` for a group add or discard. */
  groupRequestFrame(origin: string, kind: typeof InboxKind.GroupAdd | typeof InboxKind.GroupDiscard, channel: string, group: string, requestId: string): Frame;
  /** `<origin>[3 | 4, requestId]`: an ack, or a flush notice. */
  requestFrame(origin: string, kind: typeof InboxKind.Ack | typeof InboxKind.Flush, requestId: string): Frame;
  /** `<origin>[5, group, requestId]`: a named-members announcement. */
  namedFrame(origin: string, group: string, requestId: string): Frame;
  /** `<deadline>:<frame>`. */
  listItem(deadline: number, frame: Frame): Frame;
  /** Decodes the value that starts at `offset` of `data`. Throws on malformed data. */
  decode(data: Buffer, offset: number): unknown;
}

class JsonCodec implements FrameCodec {
  readonly name = 'json' as const;

  messageFrame(origin: string, _message: LayerMessage, json: string): Frame {
    return origin + json;
  }

  inboxFrame(origin: string, channel: string, json: string): Frame {
    // Channel names are [A-Za-z0-9._!-] only (validated), so they need no escaping.
    return `${origin}[${InboxKind.Message},"${channel}",${json}]`;
  }

  groupRequestFrame(origin: string, kind: InboxKind, channel: string, group: string, requestId: string): Frame {
    return `${origin}${JSON.stringify([kind, channel, group, requestId])}`;
  }

  requestFrame(origin: string, kind: InboxKind, requestId: string): Frame {
    return `${origin}${JSON.stringify([kind, requestId])}`;
  }

  namedFrame(origin: string, group: string, requestId: string): Frame {
    return `${origin}${JSON.stringify([InboxKind.Named, group, requestId])}`;
  }

  listItem(deadline: number, frame: Frame): Frame {
    return `${deadline}:${frame as string}`;
  }

  decode(data: Buffer, offset: number): unknown {
    return JSON.parse(data.toString('utf8', offset));
  }
}

/** The codec for `name`. */
export function createCodec(_name: RedisSerializerName): FrameCodec {
  return new JsonCodec();
}

/** Whether `frame` was sent by the layer whose id bytes are `origin`. */
export function isFromOrigin(frame: Buffer, origin: Buffer): boolean {
  return frame.length >= ORIGIN_LENGTH && frame.compare(origin, 0, ORIGIN_LENGTH, 0, ORIGIN_LENGTH) === 0;
}

/** Splits a list item into its deadline (ms since the epoch) and the offset of the message. */
export function parseListItem(item: Buffer): { deadline: number; offset: number } {
  const colon = item.indexOf(0x3a); // ':'
  if (colon <= 0 || colon > 20) throw new Error('malformed list item: no deadline prefix');
  return { deadline: Number(item.toString('latin1', 0, colon)), offset: colon + 1 + ORIGIN_LENGTH };
}

/** Whether a decoded value looks like a layer message. Data from Redis is checked, not trusted. */
export function isLayerMessage(value: unknown): value is LayerMessage {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string';
}
