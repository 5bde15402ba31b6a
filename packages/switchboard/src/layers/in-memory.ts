/**
 * `InMemoryChannelLayer`: the channel layer for one process (development, tests, single-node
 * deployments). Follows `docs/channel-layer-spec.md` and the Channels channel layer
 * specification, like Channels' own `InMemoryChannelLayer`, with push delivery to attached
 * receivers and counted group-send drops added.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ChannelFullError, InvalidChannelNameError, LayerClosedError } from '../errors.js';
import {
  resolveLayerOptions,
  validateChannelName,
  validateGroupName,
  validateMessage,
  type ChannelLayer,
  type ChannelLayerCapabilities,
  type ChannelLayerOptions,
  type ChannelLayerStats,
  type ChannelReceiver,
  type GroupSendResult,
  type LayerEventListener,
  type LayerMessage,
} from './channel-layer.js';
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
/** The queue sweep never runs more often than this, whatever `expiryMs` is. */
const MIN_SWEEP_INTERVAL_MS = 1_000;

interface QueuedMessage {
  readonly message: LayerMessage;
  /** `performance.now()` value after which the message is expired. */
  readonly expiresAt: number;
}

interface Waiter {
  resolve(message: LayerMessage): void;
  reject(error: Error): void;
}

/** Everything the layer knows about one channel name. */
interface ChannelState {
  readonly name: string;
  receiver: ChannelReceiver | undefined;
  /** FIFO of messages waiting for `receive()` or `attach()`; live part starts at `head`. */
  queue: QueuedMessage[];
  head: number;
  /** Pending `receive()` calls, served FIFO. */
  waiters: Waiter[] | undefined;
  /** Reverse index: group → membership expiry (`performance.now()` ms). */
  groups: Map<string, number> | undefined;
}

/** One group's members. */
interface GroupEntry {
  /** channel name → state; never mutated by an addition while a groupSend iterates it. */
  members: Map<string, ChannelState>;
  /** Number of `groupSend` loops currently iterating `members` (re-entrancy from receivers). */
  sending: number;
}

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
  readonly options: Required<ChannelLayerOptions>;

  readonly #logger: LayerLogger | undefined;
  /** Identifies this layer instance in channel names: `prefix.<layerId>!<random>`. */
  readonly #layerId = randomId();
  #channels = new Map<string, ChannelState>();
  #groups = new Map<string, GroupEntry>();
  /** Channels whose queue is non-empty (what the sweep looks at). */
  #queued = new Set<ChannelState>();
  #sweepTimer: NodeJS.Timeout | undefined;
  readonly #dropWarnings: RateLimitedWarnings;
  #listeners = new Set<LayerEventListener>();
  #closed = false;

  /**
   * @param options - `capacity` (messages, default 100, an integer), `expiryMs` (default
   *   60_000), `groupExpiryMs` (default 86_400_000), `maxMessageBytes` (default 1_048_576),
   *   `logger` (default none).
   * @throws RangeError for an option that is not a positive number (or a non-integer capacity).
   */
  constructor(options: InMemoryChannelLayerOptions = {}) {
    const { logger, ...layerOptions } = options;
    const resolved = resolveLayerOptions(layerOptions);
    if (!Number.isInteger(resolved.capacity)) {
      throw new RangeError(`channel layer option capacity must be a whole number of messages, got ${resolved.capacity}`);
    }
    if (logger !== undefined && typeof logger?.warn !== 'function') {
      throw new TypeError('InMemoryChannelLayer option logger must have a warn(obj, msg) method (a pino logger works)');
    }
    this.options = Object.freeze(resolved);
    this.#logger = logger;
    this.#dropWarnings = new RateLimitedWarnings(logger);
  }

  /**
   * Returns a new, unique channel name `${prefix}.${layerId}!${random}` (8 base64url
   * characters each, from `crypto.randomBytes`).
   * @param prefix - default `'specific'`; 1 to 90 characters from `[A-Za-z0-9._-]`.
   * @throws {@link InvalidChannelNameError} for a bad prefix; {@link LayerClosedError} after close.
   */
  async newChannel(prefix = 'specific'): Promise<string> {
    this.#assertOpen();
    validateChannelName(prefix, 'newChannel');
    if (prefix.includes('!')) {
      throw new InvalidChannelNameError(`newChannel(${JSON.stringify(prefix)}): the prefix must not contain "!"; the layer adds the process-local part itself`);
    }
    if (prefix.length > MAX_PREFIX_CHARS) {
      throw new InvalidChannelNameError(`newChannel("${prefix.slice(0, 20)}…"): the prefix is ${prefix.length} characters; the limit is ${MAX_PREFIX_CHARS}`);
    }
    let name: string;
    do name = `${prefix}.${this.#layerId}!${randomId()}`;
    while (this.#channels.has(name));
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
    const state = this.#stateFor(channel);
    state.receiver = receiver;
    if (state.queue.length === state.head) return;
    // Take the backlog out first so a receiver that sends to its own channel cannot reorder it.
    const backlog = state.queue;
    const start = state.head;
    state.queue = [];
    state.head = 0;
    this.#queued.delete(state);
    const now = performance.now();
    for (let i = start; i < backlog.length; i++) {
      const item = backlog[i]!;
      if (item.expiresAt <= now) {
        this.stats.messagesExpired++;
        continue;
      }
      if (receiver(item.message) === false) {
        const lost = backlog.length - i;
        this.#logger?.warn(
          { channel, dropped: lost },
          `attach(${JSON.stringify(channel)}): the receiver refused its queued backlog; ${lost} message(s) dropped`,
        );
        return;
      }
    }
  }

  /**
   * Sends `message` to one channel: to its attached receiver synchronously, or else to its queue
   * (or straight to a pending `receive()`). The message is frozen (top level) and not copied.
   * @param channel - `name` or `name!local`, at most 99 characters each side of `!`.
   * @param message - `{type: string, ...}`, JSON-serialisable, at most `maxMessageBytes` encoded.
   * @throws {@link InvalidChannelNameError} (`SB_ERR_INVALID_CHANNEL_NAME`),
   *   {@link InvalidMessageError} (`SB_ERR_INVALID_MESSAGE`),
   *   {@link MessageTooLargeError} (`SB_ERR_MESSAGE_TOO_LARGE`).
   * @throws {@link ChannelFullError} (`SB_ERR_CHANNEL_FULL`) when the queue holds `capacity`
   *   messages or the attached receiver returns `false` (Channels layer spec, "Capacity").
   * @throws {@link LayerClosedError} after close.
   */
  async send(channel: string, message: LayerMessage): Promise<void> {
    this.#assertOpen();
    validateChannelName(channel, 'send');
    validateMessage(message, this.options.maxMessageBytes, 'send');
    const event = Object.isFrozen(message) ? message : Object.freeze(message);
    const existing = this.#channels.get(channel);
    const receiver = existing?.receiver;
    if (receiver !== undefined) {
      if (receiver(event) === false) {
        throw new ChannelFullError(`send(${JSON.stringify(channel)}): the channel is full (its receiver's backlog is at capacity); message of type ${JSON.stringify(event.type)} not delivered`);
      }
      this.stats.messagesSent++;
      return;
    }
    const state = existing ?? this.#stateFor(channel);
    const queued = this.#enqueue(state, event, performance.now());
    // Handed straight to a waiting receive(): nothing may be left to remember.
    this.#forgetIfUnused(state);
    if (!queued) {
      throw new ChannelFullError(`send(${JSON.stringify(channel)}): the channel is full (capacity ${this.options.capacity} messages); message of type ${JSON.stringify(event.type)} not delivered`);
    }
    this.stats.messagesSent++;
  }

  /**
   * Resolves with the next queued message of `channel`, or waits for one; several waiters are
   * served in call order. Meant for channels without a receiver (worker channels): while a
   * receiver is attached, messages go to it and `receive()` keeps waiting.
   * @throws {@link InvalidChannelNameError}; {@link LayerClosedError} after close, or when the
   *   layer closes while waiting.
   */
  async receive(channel: string): Promise<LayerMessage> {
    this.#assertOpen();
    validateChannelName(channel, 'receive');
    const state = this.#stateFor(channel);
    const now = performance.now();
    this.#purgeExpired(state, now);
    if (state.head < state.queue.length) {
      const item = state.queue[state.head]!;
      state.head++;
      this.#compact(state);
      this.#forgetIfUnused(state);
      return item.message;
    }
    return new Promise<LayerMessage>((resolve, reject) => {
      (state.waiters ??= []).push({ resolve, reject });
    });
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
    const state = this.#stateFor(channel);
    let entry = this.#groups.get(group);
    if (entry === undefined) {
      entry = { members: new Map(), sending: 0 };
      this.#groups.set(group, entry);
    }
    if (!entry.members.has(channel)) {
      if (entry.sending > 0) {
        // Copy on write: a groupSend (called from a receiver) is iterating this map; re-adding a
        // member it already visited would otherwise deliver the same message twice.
        entry.members = new Map(entry.members);
        entry.sending = 0;
      }
      entry.members.set(channel, state);
    }
    (state.groups ??= new Map()).set(group, performance.now() + this.options.groupExpiryMs);
  }

  /**
   * Removes `channel` from `group`; no error when it was not a member or the group is unknown.
   * @throws {@link InvalidGroupNameError}, {@link InvalidChannelNameError}; {@link LayerClosedError}.
   */
  async groupDiscard(group: string, channel: string): Promise<void> {
    this.#assertOpen();
    validateGroupName(group, 'groupDiscard');
    validateChannelName(channel, 'groupDiscard');
    const state = this.#channels.get(channel);
    if (state?.groups?.has(group)) {
      this.#removeMembership(group, state);
      this.#forgetIfUnused(state);
    }
  }

  /**
   * Delivers `message` to every member of `group`, at most once each: synchronously to attached
   * receivers, else to the member's queue. Every member gets the same object, frozen (top level)
   * once; treat events as read-only. A full member (queue at `capacity`, or receiver returning
   * `false`) misses this message without an error: the drop is counted in
   * `stats.groupSendDrops` and logged (at most once per group per 10 s). Expired memberships
   * of channels without a receiver are removed on the way. Members added while the send runs
   * (by a receiver) do not get this message.
   * @returns `recipients`: members delivered to or queued for; `dropped`: full members skipped.
   * @throws {@link InvalidGroupNameError} (`SB_ERR_INVALID_GROUP_NAME`),
   *   {@link InvalidMessageError} (`SB_ERR_INVALID_MESSAGE`),
   *   {@link MessageTooLargeError} (`SB_ERR_MESSAGE_TOO_LARGE`); {@link LayerClosedError}.
   */
  async groupSend(group: string, message: LayerMessage): Promise<GroupSendResult> {
    this.#assertOpen();
    validateGroupName(group, 'groupSend');
    validateMessage(message, this.options.maxMessageBytes, 'groupSend');
    const event = Object.isFrozen(message) ? message : Object.freeze(message);
    this.stats.messagesSent++;
    const entry = this.#groups.get(group);
    if (entry === undefined) return { recipients: 0, dropped: 0 };
    const members = entry.members;
    let recipients = 0;
    let dropped = 0;
    let now = -1;
    entry.sending++;
    try {
      // Fast path: one map walk, one call per attached receiver, no allocation per recipient.
      for (const state of members.values()) {
        const receiver = state.receiver;
        if (receiver !== undefined) {
          if (receiver(event) === false) dropped++;
          else recipients++;
          continue;
        }
        if (now < 0) now = performance.now();
        const expiresAt = state.groups?.get(group);
        if (expiresAt === undefined) continue; // discarded or released during this send
        if (expiresAt <= now) {
          this.#removeMembership(group, state);
          this.#forgetIfUnused(state);
          continue;
        }
        if (this.#enqueue(state, event, now)) recipients++;
        else dropped++;
      }
    } finally {
      if (entry.members === members) entry.sending--;
    }
    if (dropped > 0) {
      this.stats.groupSendDrops += dropped;
      this.#warnDrops(group, dropped, event.type);
    }
    return { recipients, dropped };
  }

  /**
   * Number of members of `group` in this process; expired memberships are removed first.
   * @throws {@link InvalidGroupNameError}; {@link LayerClosedError}.
   */
  async groupSize(group: string): Promise<number> {
    this.#assertOpen();
    validateGroupName(group, 'groupSize');
    const entry = this.#groups.get(group);
    if (entry === undefined) return 0;
    const now = performance.now();
    let size = 0;
    for (const state of entry.members.values()) {
      if (state.receiver === undefined && (state.groups?.get(group) ?? 0) <= now) {
        this.#removeMembership(group, state);
        this.#forgetIfUnused(state);
      } else {
        size++;
      }
    }
    return size;
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
    const state = this.#channels.get(channel);
    if (state === undefined) return;
    if (state.groups !== undefined) {
      for (const group of state.groups.keys()) this.#removeMembership(group, state);
    }
    this.#reset(state);
    this.#forgetIfUnused(state);
  }

  /**
   * Removes every queued message, receiver and group membership (tests). Pending `receive()`
   * calls keep waiting; `stats` are kept.
   * @throws {@link LayerClosedError} after close.
   */
  async flush(): Promise<void> {
    this.#assertOpen();
    const waiting = new Map<string, ChannelState>();
    for (const state of this.#channels.values()) {
      this.#reset(state);
      if (state.waiters !== undefined && state.waiters.length > 0) waiting.set(state.name, state);
    }
    this.#channels = waiting;
    this.#groups = new Map();
    this.#dropWarnings.clear();
    this.#stopSweep();
  }

  /**
   * Closes the layer: stops the sweep timer, rejects pending `receive()` calls with
   * {@link LayerClosedError} and drops all state. Afterwards every other method rejects (or, for
   * `attach`/`onLayerEvent`, throws) {@link LayerClosedError}. Calling `close()` again is a no-op.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopSweep();
    const channels = this.#channels;
    this.#channels = new Map();
    this.#groups = new Map();
    this.#dropWarnings.clear();
    this.#listeners.clear();
    for (const state of channels.values()) {
      const waiters = state.waiters;
      this.#reset(state);
      state.waiters = undefined;
      if (waiters === undefined) continue;
      for (const waiter of waiters) {
        waiter.reject(new LayerClosedError(`receive(${JSON.stringify(state.name)}): the channel layer was closed while waiting`));
      }
    }
  }

  /**
   * Subscribes to layer-wide events. The in-memory layer never emits any (it has no connection
   * to lose), but the subscription works like on every layer.
   * @returns a function that unsubscribes (idempotent).
   * @throws {@link LayerClosedError} after close.
   */
  onLayerEvent(listener: LayerEventListener): () => void {
    this.#assertOpen();
    if (typeof listener !== 'function') throw new TypeError('onLayerEvent: the listener must be a function');
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new LayerClosedError();
  }

  #stateFor(channel: string): ChannelState {
    let state = this.#channels.get(channel);
    if (state === undefined) {
      state = { name: channel, receiver: undefined, queue: [], head: 0, waiters: undefined, groups: undefined };
      this.#channels.set(channel, state);
    }
    return state;
  }

  /** Drops a state nobody needs any more (no receiver, queue, waiter or group). */
  #forgetIfUnused(state: ChannelState): void {
    if (
      state.receiver === undefined &&
      state.head === state.queue.length &&
      (state.waiters === undefined || state.waiters.length === 0) &&
      (state.groups === undefined || state.groups.size === 0) &&
      this.#channels.get(state.name) === state
    ) {
      this.#channels.delete(state.name);
    }
  }

  /** Detaches the receiver, drops the queue and the reverse index (not the waiters). */
  #reset(state: ChannelState): void {
    state.receiver = undefined;
    state.queue = [];
    state.head = 0;
    state.groups = undefined;
    this.#queued.delete(state);
  }

  #removeMembership(group: string, state: ChannelState): void {
    state.groups?.delete(group);
    const entry = this.#groups.get(group);
    if (entry === undefined) return;
    // Deleting is safe while a groupSend iterates the map: Map iteration skips removed entries.
    entry.members.delete(state.name);
    if (entry.members.size === 0) this.#groups.delete(group);
  }

  /** Hands `message` to a pending `receive()` or queues it; `false` when the queue is full. */
  #enqueue(state: ChannelState, message: LayerMessage, now: number): boolean {
    const waiter = state.waiters?.shift();
    if (waiter !== undefined) {
      waiter.resolve(message);
      return true;
    }
    this.#purgeExpired(state, now);
    if (state.queue.length - state.head >= this.options.capacity) return false;
    if (state.queue.length === state.head) {
      this.#queued.add(state);
      this.#scheduleSweep();
    }
    state.queue.push({ message, expiresAt: now + this.options.expiryMs });
    return true;
  }

  /** Removes expired messages from the head of the queue (they expire in queue order). */
  #purgeExpired(state: ChannelState, now: number): void {
    const queue = state.queue;
    let head = state.head;
    while (head < queue.length && queue[head]!.expiresAt <= now) head++;
    if (head === state.head) return;
    this.stats.messagesExpired += head - state.head;
    state.head = head;
    this.#compact(state);
  }

  #compact(state: ChannelState): void {
    if (state.head === state.queue.length) {
      state.queue = [];
      state.head = 0;
      this.#queued.delete(state);
    } else if (state.head >= 32 && state.head * 2 >= state.queue.length) {
      state.queue.splice(0, state.head);
      state.head = 0;
    }
  }

  #scheduleSweep(): void {
    if (this.#sweepTimer !== undefined || this.#closed) return;
    this.#sweepTimer = setTimeout(() => this.#sweep(), Math.max(this.options.expiryMs, MIN_SWEEP_INTERVAL_MS));
    this.#sweepTimer.unref();
  }

  #stopSweep(): void {
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#queued.clear();
  }

  /** Frees expired messages of queues nobody reads; runs only while something is queued. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    const now = performance.now();
    for (const state of this.#queued) {
      this.#purgeExpired(state, now);
      this.#forgetIfUnused(state);
    }
    if (this.#queued.size > 0) this.#scheduleSweep();
  }

  #warnDrops(group: string, dropped: number, type: string): void {
    this.#dropWarnings.warn(
      group,
      dropped,
      { group, type, dropped, totalGroupSendDrops: this.stats.groupSendDrops },
      `groupSend(${JSON.stringify(group)}): ${dropped} member(s) full, message of type ${JSON.stringify(type)} dropped for them`,
    );
  }
}

function randomId(): string {
  return randomBytes((RANDOM_ID_CHARS * 3) / 4).toString('base64url');
}
