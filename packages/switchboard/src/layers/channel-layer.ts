/**
 * The channel layer contract (docs/channel-layer-spec.md), after the Channels channel layer
 * specification, with push delivery to local consumers and counted drops added.
 *
 * Guarantees every implementation gives:
 * - at-most-once delivery; FIFO per sender → channel;
 * - names are validated before anything is sent (see {@link validateGroupName},
 *   {@link validateChannelName}); messages are `{type: string, ...}`, JSON-serialisable and at
 *   most `maxMessageBytes` once encoded (see {@link validateMessage});
 * - `send` to a full channel throws {@link ChannelFullError} (a cross-process layer cannot know
 *   for another process's channel: the owner drops and counts it, docs/channel-layer-spec.md
 *   §10); `groupSend` skips a full member and counts the drop in
 *   {@link ChannelLayerStats.groupSendDrops};
 * - `groupAdd` resolves once a `groupSend` from any process reaches the member.
 */
import {
  InvalidChannelNameError,
  InvalidGroupNameError,
  InvalidMessageError,
  MessageTooLargeError,
} from '../errors.js';
import { describeValue, type ResolvedLayerOptions } from './layer-options.js';

export {
  channelCapacityFor,
  DEFAULT_LAYER_OPTIONS,
  describeValue,
  globToRegExp,
  resolveLayerOptions,
  type ChannelCapacityOption,
  type ChannelLayerOptions,
  type ResolvedLayerOptions,
} from './layer-options.js';

/** A message on the layer: an event whose `type` selects the consumer handler. */
export interface LayerMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

/**
 * Receives messages pushed to a channel name by the layer (local registry, no polling).
 * Returns `false` when the receiver's own backlog is at capacity: the layer then treats the
 * channel as full (`send` throws {@link ChannelFullError}, `groupSend` counts a drop).
 * Must not throw.
 */
export type ChannelReceiver = (message: LayerMessage) => boolean;

/** Outcome of one `groupSend`. */
export interface GroupSendResult {
  /**
   * Members this process delivered to (or queued for), or for cross-process layers the number of
   * processes the message was published to. See `docs/channel-layer-spec.md`.
   */
  readonly recipients: number;
  /** Members of this process skipped because their channel was full. */
  readonly dropped: number;
}

/** Counters every layer keeps; read them for metrics. */
export interface ChannelLayerStats {
  /** Messages accepted by `send` and `groupSend` (a groupSend counts once). */
  messagesSent: number;
  /** Per-member drops on `groupSend` because the member's channel was full. */
  groupSendDrops: number;
  /** Queued messages removed because they were older than `expiryMs`. */
  messagesExpired: number;
}

/** Optional capabilities a layer may or may not have. */
export interface ChannelLayerCapabilities {
  /** Groups are shared with other processes (Redis), not just this one. */
  readonly crossProcess: boolean;
  /** `flush()` removes all state of this layer. */
  readonly flush: boolean;
  /** `groupSize()` is answered (possibly across processes). */
  readonly groupSize: boolean;
}

/** Options of `receive()`. */
export interface ReceiveOptions {
  /**
   * Gives up the wait: the promise rejects with `signal.reason` (an `AbortError` unless the
   * caller chose another) and takes nothing, so the next message stays for the next `receive()`.
   * An already aborted signal rejects at once.
   */
  signal?: AbortSignal;
}

/** Listener for layer-wide events such as `layer.reconnected`. */
export type LayerEventListener = (event: LayerMessage) => void;

/**
 * A channel layer: how consumers, workers and other processes talk to each other.
 * All methods validate names and messages and reject with the errors named below.
 */
export interface ChannelLayer {
  /** Which optional features this layer has. */
  readonly capabilities: ChannelLayerCapabilities;
  /** Counters (messages sent, drops, expiries). */
  readonly stats: ChannelLayerStats;
  /** The effective options, defaults filled in. */
  readonly options: ResolvedLayerOptions;

  /**
   * Returns a new, unique, process-local channel name: `${prefix}.${random}!${random}`.
   * @param prefix - defaults to `'specific'`; must be a valid name without `!`.
   */
  newChannel(prefix?: string): Promise<string>;

  /**
   * Attaches a push receiver to `channel` (a consumer's inbox). Messages queued before are
   * delivered to it at once, in order. One receiver per channel; attaching again replaces it.
   */
  attach(channel: string, receiver: ChannelReceiver): void;

  /**
   * Sends `message` to one channel.
   * @throws {@link InvalidChannelNameError}, {@link InvalidMessageError}, {@link MessageTooLargeError}
   * @throws {@link ChannelFullError} when the channel holds its capacity (`capacity`, or the
   *   matching `channelCapacity`); not for another process's channel on a cross-process layer.
   */
  send(channel: string, message: LayerMessage): Promise<void>;

  /**
   * Waits for the next message on a channel that has no push receiver (worker channels).
   * FIFO. Rejects with {@link LayerClosedError} when the layer closes while waiting, and with
   * `options.signal.reason` when the signal aborts (nothing is taken).
   * @throws {@link InvalidChannelNameError}, also for a process-local channel of another process.
   */
  receive(channel: string, options?: ReceiveOptions): Promise<LayerMessage>;

  /**
   * Adds `channel` to `group` (or refreshes its membership expiry). Resolves once a `groupSend`
   * from any process reaches the member, also for another process's channel.
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}
   */
  groupAdd(group: string, channel: string): Promise<void>;

  /** Removes `channel` from `group`; no error when it was not a member. */
  groupDiscard(group: string, channel: string): Promise<void>;

  /**
   * Delivers `message` to every channel name in `group`, at most once each. Every local member
   * receives the same (frozen) message object: treat events as read-only.
   * A member whose channel is full misses this message without an error; the drop is counted.
   * @throws {@link InvalidGroupNameError}, {@link InvalidMessageError}, {@link MessageTooLargeError}
   */
  groupSend(group: string, message: LayerMessage): Promise<GroupSendResult>;

  /** Number of members of `group` (across processes when `capabilities.crossProcess`). */
  groupSize(group: string): Promise<number>;

  /**
   * Forgets `channel`: detaches its receiver, drops its queued messages and removes it from every
   * group this layer knows it in. Called when a consumer disconnects.
   */
  releaseChannel(channel: string): Promise<void>;

  /** Removes all messages, receivers and groups of this layer, in every process sharing it (tests). */
  flush(): Promise<void>;

  /** Stops timers and connections; pending `receive()` calls reject with {@link LayerClosedError}. */
  close(): Promise<void>;

  /** Subscribes to layer-wide events (`layer.reconnected`); returns an unsubscribe function. */
  onLayerEvent(listener: LayerEventListener): () => void;
}

/** Valid group and channel-name characters (Channels layer spec). */
const NAME_RE = /^[a-zA-Z0-9._-]{1,99}$/;
/** A channel name: a valid name, optionally followed by `!` and a process-local suffix. */
const CHANNEL_RE = /^[a-zA-Z0-9._-]{1,99}(![a-zA-Z0-9._-]{0,99})?$/;
/** Longest name, and longest part of a channel name on either side of `!`. */
const MAX_NAME_CHARS = 99;

/** Why `name` is not a valid group name (`allowBang` false) or channel name. */
function describeBadName(kind: string, op: string, name: unknown, allowBang: boolean): string {
  if (typeof name !== 'string') return `${op}: ${kind} must be a string, got ${describeValue(name)}`;
  if (name.length === 0) return `${op}(""): ${kind} must not be empty`;
  const shown = name.length > 40 ? `"${name.slice(0, 20)}…"` : JSON.stringify(name);
  const bang = allowBang ? name.indexOf('!') : -1;
  for (let i = 0; i < name.length; i++) {
    if (i === bang) continue;
    if (!/[a-zA-Z0-9._-]/.test(name[i]!)) {
      const extra = name[i] === '!' && allowBang ? ' (a channel name has at most one "!")' : '';
      return `${op}(${shown}): ${kind}s allow [A-Za-z0-9._-] only; found ${JSON.stringify(name[i])} at index ${i}${extra}`;
    }
  }
  const head = bang < 0 ? name.length : bang;
  if (head === 0) return `${op}(${shown}): the ${kind} is empty before "!"`;
  const limits = allowBang ? `the limit is ${MAX_NAME_CHARS} before "!" and ${MAX_NAME_CHARS} after it` : `the limit is ${MAX_NAME_CHARS}`;
  if (head > MAX_NAME_CHARS) return `${op}(${shown}): ${kind} is ${name.length} characters${bang < 0 ? '' : `, ${head} before "!"`}; ${limits}`;
  return `${op}(${shown}): ${kind} is ${name.length} characters, ${name.length - head - 1} after "!"; ${limits}`;
}

/**
 * Checks a group name: 1 to 99 characters of `[A-Za-z0-9._-]`.
 * @throws {@link InvalidGroupNameError} naming the bad character and its index, or the length
 *   and the limit.
 */
export function validateGroupName(group: unknown, op = 'groupSend'): asserts group is string {
  if (typeof group !== 'string' || !NAME_RE.test(group)) {
    throw new InvalidGroupNameError(describeBadName('group name', op, group, false));
  }
}

/**
 * Checks a channel name (`name` or `name!local`, up to 99 characters on each side of `!`).
 * @throws {@link InvalidChannelNameError} naming the bad character and its index, or the length
 *   and the limit.
 */
export function validateChannelName(channel: unknown, op = 'send'): asserts channel is string {
  if (typeof channel !== 'string' || !CHANNEL_RE.test(channel)) {
    throw new InvalidChannelNameError(describeBadName('channel name', op, channel, true));
  }
}

/**
 * Checks a `newChannel` prefix: a valid name without `!`, at most `maxChars` characters (what
 * leaves room for the generated part).
 * @throws {@link InvalidChannelNameError}
 */
export function validateChannelPrefix(prefix: unknown, maxChars: number): asserts prefix is string {
  validateChannelName(prefix, 'newChannel');
  if (prefix.includes('!')) {
    throw new InvalidChannelNameError(`newChannel(${JSON.stringify(prefix)}): the prefix must not contain "!"; the layer adds the process-local part itself`);
  }
  if (prefix.length > maxChars) {
    throw new InvalidChannelNameError(`newChannel("${prefix.slice(0, 20)}…"): the prefix is ${prefix.length} characters; the limit is ${maxChars}`);
  }
}

/**
 * The process-local channel name `${prefix}.${processId}!${random}` that `newChannel` returns,
 * as one flat string: a template literal would leave a tree of three concatenated strings,
 * about 100 bytes more per channel, held as long as the channel lives (docs/architecture.md,
 * "Memory per connection").
 */
export function localChannelName(prefix: string, processId: string, random: string): string {
  return [prefix, '.', processId, '!', random].join('');
}

/**
 * The `signal` of `receive()` options, checked.
 * @throws TypeError when it is given and is not an `AbortSignal`.
 */
export function receiveSignal(channel: string, options: ReceiveOptions | undefined): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError(`receive(${JSON.stringify(channel)}): options.signal must be an AbortSignal, got ${describeValue(signal)}`);
  return signal;
}

/** Whether a channel name is process-local (carries `!`). */
export function isProcessLocalChannel(channel: string): boolean {
  return channel.includes('!');
}

/**
 * Checks a message and returns its JSON encoding (layers that serialise reuse it).
 * @throws {@link InvalidMessageError} when not an object with a string `type`, or not serialisable.
 * @throws {@link MessageTooLargeError} when the encoding exceeds `maxMessageBytes`.
 */
export function validateMessage(message: unknown, maxMessageBytes: number, op = 'send'): string {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw new InvalidMessageError(`${op}: a message must be an object like {type: "chat.message", ...}`);
  }
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string' || type.length === 0) {
    // describeValue, not JSON.stringify: a BigInt or a cyclic object would throw here.
    throw new InvalidMessageError(`${op}: a message needs a non-empty string "type", got ${describeValue(type)}`);
  }
  if (type.startsWith('_')) {
    throw new InvalidMessageError(`${op}: event type ${JSON.stringify(type)} starts with "_"; such types are reserved`);
  }
  let encoded: string;
  try {
    encoded = JSON.stringify(message);
  } catch (err) {
    throw new InvalidMessageError(`${op}: message of type ${JSON.stringify(type)} is not JSON-serialisable: ${(err as Error).message}`, err);
  }
  // Fast path: a string of n UTF-16 units encodes to at most 3n bytes.
  if (encoded.length * 3 > maxMessageBytes) {
    const bytes = Buffer.byteLength(encoded);
    if (bytes > maxMessageBytes) {
      throw new MessageTooLargeError(`${op}: message of type ${JSON.stringify(type)} is ${bytes} bytes encoded; the limit (maxMessageBytes) is ${maxMessageBytes}`);
    }
  }
  return encoded;
}
