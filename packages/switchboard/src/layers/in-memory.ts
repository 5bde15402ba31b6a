/**
 * `InMemoryChannelLayer`: the channel layer for one process (development, tests, single-node
 * deployments). Follows `docs/channel-layer-spec.md` and the Channels channel layer
 * specification, like Channels' own `InMemoryChannelLayer`, with push delivery to attached
 * receivers and counted group-send drops added.
 */
import { randomBytes } from 'node:crypto';
import { ChannelFullError, LayerClosedError } from '../errors.js';
import {
  channelCapacityFor,
  resolveLayerOptions,
  validateChannelName,
  receiveSignal,
  localChannelName,
  validateChannelPrefix,
  validateGroupName,
  type ChannelLayer,
  type ChannelLayerCapabilities,
  type ChannelLayerOptions,
  type ChannelLayerStats,
  type ChannelReceiver,
  type GroupSendResult,
  type LayerEventListener,
  type LayerMessage,
  type ReceiveOptions,
  type ResolvedLayerOptions,
} from './channel-layer.js';
import { LayerEvents } from './layer-events.js';
import { LocalCore } from './local-core.js';
import { checkMessage } from './message-check.js';
import { RateLimitedWarnings, WARNING_INTERVAL_MS } from '../rate-limited-warnings.js';

/**
 * The logger the layer warns through: any object with a pino-style `warn(obj, msg)`
 * (a pino `Logger` fits).
 */
export interface LayerLogger {
  warn(obj: object, msg: string): void;
}

/** Options of {@link InMemoryChannelLayer}: the common layer options plus a logger. */
export interface InMemoryChannelLayerOptions extends ChannelLayerOptions {
  /**
   * Receives rate-limited warnings about group-send drops (at most one per group per
   * {@link DROP_WARNING_INTERVAL_MS}). Default: none (drops are still counted in `stats`).
   */
  logger?: LayerLogger;
}

/** Minimum interval between two drop warnings for the same group: 10_000 ms. */
export const DROP_WARNING_INTERVAL_MS = WARNING_INTERVAL_MS;

/** Random characters in each part of a generated channel name (6 random bytes, base64url). */
const RANDOM_ID_CHARS = 8;
/** Longest `newChannel` prefix that still leaves room for `.` + the layer id within 99 characters. */
const MAX_PREFIX_CHARS = 99 - 1 - RANDOM_ID_CHARS;

/**
 * A channel layer that lives in this process's memory.
 *
 * Shape and guarantees (see `docs/channel-layer-spec.md`):
 * - at-most-once, FIFO per sender → channel; a channel with an attached receiver gets messages
 *   synchronously, inside `send`/`groupSend`;
 * - a `groupSend` freezes the message (top level, in place) and hands the *same* object to
 *   every member; no copy, no per-recipient promise or closure;
 * - channels without a receiver queue up to `capacity` messages, each kept at most `expiryMs`;
 * - group memberships of channels without a receiver expire `groupExpiryMs` after their last
 *   `groupAdd`; memberships of channels with an attached receiver never expire;
 * - `capabilities`: `{crossProcess: false, flush: true, groupSize: true}`;
 *   `GroupSendResult.recipients` counts members delivered to or queued for.
 *
 * Expiry is checked lazily when a channel or group is used; in addition, one `unref()`ed timer
 * runs every `max(expiryMs, 1 s)` while messages are queued, so abandoned queues are freed.
 * Never emits layer events (there is nothing to reconnect to).
 *
 * Source: Channels channel layer specification ("Capacity", "Persistence", "Groups") and
 * `channels.layers.InMemoryChannelLayer`.
 *
 * @example
 * ```ts
 * const layer = new InMemoryChannelLayer({ capacity: 200 });
 * const inbox = await layer.newChannel();
 * layer.attach(inbox, (event) => { console.log(event.type); return true; });
 * await layer.groupAdd('chat.lobby', inbox);
 * await layer.groupSend('chat.lobby', { type: 'chat.message', text: 'hi' });
 * ```
 */
export class InMemoryChannelLayer implements ChannelLayer {
  /** `{crossProcess: false, flush: true, groupSize: true}`. */
  readonly capabilities: ChannelLayerCapabilities = Object.freeze({
    crossProcess: false,
    flush: true,
    groupSize: true,
  });
  /** Counters: messages sent, group-send drops, expired queued messages. */
  readonly stats: ChannelLayerStats = { messagesSent: 0, groupSendDrops: 0, messagesExpired: 0 };
  /** The effective options (frozen), defaults filled in. */
  readonly options: ResolvedLayerOptions;

  /** Identifies this layer instance in channel names: `prefix.<layerId>!<random>`. */
  readonly #layerId = randomId();
  readonly #core: LocalCore;
  readonly #dropWarnings: RateLimitedWarnings;
  readonly #events = new LayerEvents();
  #closed = false;

  /**
   * @param options - `capacity` (messages, default 100, a whole number), `channelCapacity`
   *   (per-pattern capacities, default none), `expiryMs` (default 60_000), `groupExpiryMs`
   *   (default 86_400_000), `maxMessageBytes` (default 1_048_576), `logger` (default none).
   * @throws TypeError for an unknown option or a value of the wrong type; RangeError for a
   *   number that is not positive (or a capacity that is not whole).
   */
  constructor(options: InMemoryChannelLayerOptions = {}) {
    const { logger, ...layerOptions } = options ?? {};
    this.options = resolveLayerOptions(layerOptions, 'InMemoryChannelLayer', ['logger']);
    if (logger !== undefined && typeof logger?.warn !== 'function') {
      throw new TypeError('InMemoryChannelLayer option logger must have a warn(obj, msg) method (a pino logger works)');
    }
    this.#dropWarnings = new RateLimitedWarnings(logger);
    this.#core = new LocalCore({
      capacityFor: (channel) => channelCapacityFor(this.options, channel),
      expiryMs: this.options.expiryMs,
      stats: this.stats,
      logger,
    });
  }

  /**
   * Returns a new, unique channel name `${prefix}.${layerId}!${random}` (8 base64url
   * characters each, from `crypto.randomBytes`).
   * @param prefix - default `'specific'`; 1 to 90 characters from `[A-Za-z0-9._-]`.
   * @throws {@link InvalidChannelNameError} for a bad prefix; {@link LayerClosedError} after close.
   */
  async newChannel(prefix = 'specific'): Promise<string> {
    this.#assertOpen();
    validateChannelPrefix(prefix, MAX_PREFIX_CHARS);
    let name: string;
    do name = localChannelName(prefix, this.#layerId, randomId());
    while (this.#core.has(name));
    return name;
  }

  /**
   * Attaches a push receiver to `channel`; messages queued before are handed to it at once, in
   * order (expired ones are dropped and counted). Attaching again replaces the receiver.
   * If the receiver refuses a queued message (returns `false`), that message and the rest of the
   * backlog are dropped (at-most-once) and a warning is logged.
   * @throws {@link InvalidChannelNameError}; {@link LayerClosedError} after close; TypeError when
   *   `receiver` is not a function.
   */
  attach(channel: string, receiver: ChannelReceiver): void {
    this.#assertOpen();
    validateChannelName(channel, 'attach');
    if (typeof receiver !== 'function') {
      throw new TypeError(`attach(${JSON.stringify(channel)}): the receiver must be a function (message) => boolean`);
    }
    this.#core.attach(channel, receiver);
  }

  /**
   * Sends `message` to one channel: to its attached receiver synchronously, or else to its queue
   * (or straight to a pending `receive()`). The message is frozen (top level) and not copied.
   * @param channel - `name` or `name!local`, at most 99 characters each side of `!`.
   * @param message - `{type: string, ...}`, JSON-serialisable, at most `maxMessageBytes` encoded.
   * @throws {@link InvalidChannelNameError} (`SB_ERR_INVALID_CHANNEL_NAME`),
   *   {@link InvalidMessageError} (`SB_ERR_INVALID_MESSAGE`),
   *   {@link MessageTooLargeError} (`SB_ERR_MESSAGE_TOO_LARGE`).
   * @throws {@link ChannelFullError} (`SB_ERR_CHANNEL_FULL`) when the queue holds its capacity
   *   (`capacity`, or the `channelCapacity` that matches) or the attached receiver returns
   *   `false` (Channels layer spec, "Capacity").
   * @throws {@link LayerClosedError} after close.
   */
  async send(channel: string, message: LayerMessage): Promise<void> {
    this.#assertOpen();
    validateChannelName(channel, 'send');
    checkMessage(message, this.options.maxMessageBytes, 'send');
    const event = Object.isFrozen(message) ? message : Object.freeze(message);
    if (!this.#core.deliver(channel, event)) {
      throw new ChannelFullError(`send(${JSON.stringify(channel)}): the channel is full (capacity ${channelCapacityFor(this.options, channel)} messages, or its receiver's backlog is at capacity); message of type ${JSON.stringify(event.type)} not delivered`);
    }
    this.stats.messagesSent++;
  }

  /**
   * Resolves with the next queued message of `channel`, or waits for one; several waiters are
   * served in call order. Meant for channels without a receiver (worker channels): while a
   * receiver is attached, messages go to it and `receive()` keeps waiting.
   * @param options - `signal`: an `AbortSignal` that gives up the wait (rejects with its reason,
   *   takes nothing).
   * @throws {@link InvalidChannelNameError}; {@link LayerClosedError} after close, or when the
   *   layer closes while waiting; TypeError when `signal` is not an `AbortSignal`.
   */
  async receive(channel: string, options?: ReceiveOptions): Promise<LayerMessage> {
    this.#assertOpen();
    validateChannelName(channel, 'receive');
    return this.#core.receive(channel, receiveSignal(channel, options));
  }

  /**
   * Adds `channel` to `group`, or refreshes its membership so it expires `groupExpiryMs` from now
   * (memberships of channels with an attached receiver never expire).
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}; {@link LayerClosedError}.
   */
  async groupAdd(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    validateGroupName(group, 'groupAdd');
    validateChannelName(channel, 'groupAdd');
    this.#core.addMember(group, channel, Date.now() + this.options.groupExpiryMs);
  }

  /**
   * Removes `channel` from `group`; no error when it was not a member or the group is unknown.
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}; {@link LayerClosedError}.
   */
  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    validateGroupName(group, 'groupDiscard');
    validateChannelName(channel, 'groupDiscard');
    this.#core.removeMember(group, channel);
  }

  /**
   * Delivers `message` to every member of `group`, at most once each: synchronously to attached
   * receivers, else to the member's queue. Every member gets the same object, frozen (top level)
   * once; treat events as read-only. A full member (queue at its capacity, or receiver returning
   * `false`) misses this message without an error: the drop is counted in
   * `stats.groupSendDrops` and logged (at most once per group per 10 s). Expired memberships
   * of channels without a receiver are removed on the way. Members added while the send runs
   * (by a receiver) do not get this message.
   * @returns `recipients`: members delivered to or queued for; `dropped`: full members skipped.
   * @throws {@link InvalidGroupNameError} (`SB_ERR_INVALID_GROUP_NAME`),
   *   {@link InvalidMessageError} (`SB_ERR_INVALID_MESSAGE`),
   *   {@link MessageTooLargeError} (`SB_ERR_MESSAGE_TOO_LARGE`); {@link LayerClosedError}.
   */
  groupSend(group: string, message: LayerMessage): Promise<GroupSendResult> {
    // Not an async function: the fan-out is synchronous, so the promise is made settled (one
    // allocation, no async frame); errors still come back as a rejected promise, never thrown.
    try {
      return Promise.resolve(this.#groupSendNow(group, message));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  #groupSendNow(group: string, message: LayerMessage): GroupSendResult {
    this.#assertOpen();
    validateGroupName(group, 'groupSend');
    checkMessage(message, this.options.maxMessageBytes, 'groupSend');
    const event = Object.isFrozen(message) ? message : Object.freeze(message);
    this.stats.messagesSent++;
    const result = this.#core.fanOut(group, event);
    if (result.dropped > 0) {
      this.stats.groupSendDrops += result.dropped;
      this.#dropWarnings.warn(
        group,
        result.dropped,
        { group, type: event.type, dropped: result.dropped, totalGroupSendDrops: this.stats.groupSendDrops },
        `groupSend(${JSON.stringify(group)}): ${result.dropped} member(s) full, message of type ${JSON.stringify(event.type)} dropped for them`,
      );
    }
    return result;
  }

  /**
   * Number of members of `group` in this process; expired memberships are removed first.
   * @throws {@link InvalidGroupNameError}; {@link LayerClosedError}.
   */
  async groupSize(group: string): Promise<number> {
    this.#assertOpen();
    validateGroupName(group, 'groupSize');
    return this.#core.groupSize(group);
  }

  /**
   * Forgets `channel`: detaches its receiver, drops its queued messages and removes it from all
   * its groups (O(groups of the channel)). Pending `receive()` calls keep waiting.
   * No error for an unknown channel.
   * @throws {@link InvalidChannelNameError}; {@link LayerClosedError}.
   */
  async releaseChannel(channel: string): Promise<void> {
    this.#assertOpen();
    validateChannelName(channel, 'releaseChannel');
    this.#core.release(channel);
  }

  /**
   * Removes every queued message, receiver and group membership (tests). Pending `receive()`
   * calls keep waiting; `stats` are kept.
   * @throws {@link LayerClosedError} after close.
   */
  async flush(): Promise<void> {
    this.#assertOpen();
    this.#core.clear();
    this.#dropWarnings.clear();
  }

  /**
   * Closes the layer: stops the sweep timer, rejects pending `receive()` calls with
   * {@link LayerClosedError} and drops all state. Afterwards every other method rejects (or, for
   * `attach`/`onLayerEvent`, throws) {@link LayerClosedError}. Calling `close()` again is a no-op.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#core.close();
    this.#dropWarnings.clear();
    this.#events.clear();
  }

  /**
   * Subscribes to layer-wide events. The in-memory layer never emits any (it has no connection
   * to lose), but the subscription works like on every layer.
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
}

function randomId(): string {
  return randomBytes((RANDOM_ID_CHARS * 3) / 4).toString('base64url');
}
