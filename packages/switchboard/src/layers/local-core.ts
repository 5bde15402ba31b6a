/**
 * The local core of every Switchboard layer: the channels of this process, their push receivers,
 * FIFO queues and pending `receive()`s, and which of them are in which group, with the capacity,
 * expiry and fan-out rules of docs/channel-layer-spec.md §3–§6. `InMemoryChannelLayer` is this
 * core plus validation; `RedisChannelLayer` uses it for the channels its process owns and adds
 * Redis for everything that crosses processes. One implementation, so the two cannot drift.
 *
 * Clocks: queued messages expire on `performance.now()` (local only, immune to wall-clock
 * steps); membership deadlines are `Date.now()` milliseconds, because the Redis layer stores the
 * same deadline as the member's score in Redis and other processes compare it with their clocks.
 */
import { performance } from 'node:perf_hooks';
import { LayerClosedError } from '../errors.js';
import type { ChannelLayerStats, ChannelReceiver, LayerMessage } from './channel-layer.js';
import { waitInLine, type Waiter } from './waiters.js';
import { deadlineOf, groupNames, inNoGroup, withDeadline, withoutGroup, type GroupDeadlines } from './group-deadlines.js';

/** The queue sweep never runs more often than this, whatever `expiryMs` is. */
const MIN_SWEEP_INTERVAL_MS = 1_000;

/** What the core needs to know and whom it tells. */
export interface LocalCoreOptions {
  /** Capacity of a channel's queue (`channelCapacityFor(options, channel)`), asked once per channel state. */
  capacityFor(channel: string): number;
  /** How long a queued message lives, in ms. */
  expiryMs: number;
  /** The layer's counters: `messagesExpired` grows here. */
  stats: Pick<ChannelLayerStats, 'messagesExpired'>;
  /** Warned when a receiver refuses its queued backlog on `attach`. */
  logger?: { warn(obj: object, msg: string): void } | undefined;
  /** `group` got its first local member (the Redis layer SUBSCRIBEs). Called synchronously. */
  groupCreated?(group: string): void;
  /** `group` lost its last local member (the Redis layer UNSUBSCRIBEs). Called synchronously. */
  groupEmptied?(group: string): void;
}

/** Outcome of a local fan-out. */
export interface FanOutResult {
  /** Members delivered to or queued for. */
  recipients: number;
  /** Members skipped because they were full. */
  dropped: number;
}

interface QueuedMessage {
  readonly message: LayerMessage;
  /** `performance.now()` after which the message is expired. */
  readonly expiresAt: number;
}

/**
 * The queue of every channel with nothing queued: one frozen empty array, replaced by a channel's
 * own at its first queued message (a channel with a receiver never queues: docs/architecture.md,
 * "Memory per connection"). Frozen, so a push that skipped the replacement throws.
 */
const NO_MESSAGES = Object.freeze([]) as unknown as QueuedMessage[];

/** Everything the core knows about one channel name. */
interface ChannelState {
  readonly name: string;
  readonly capacity: number;
  receiver: ChannelReceiver | undefined;
  /** FIFO of messages waiting for `receive()` or `attach()`; the live part starts at `head`. */
  queue: QueuedMessage[];
  head: number;
  /** Pending `receive()` calls, served FIFO. */
  waiters: Waiter[] | undefined;
  /** Reverse index: group → membership deadline (`Date.now()` ms). */
  groups: GroupDeadlines | undefined;
}

/** One group's local members. */
interface GroupEntry {
  /** channel name → state; copied on write while a fan-out iterates it. */
  members: Map<string, ChannelState>;
  /** Fan-outs currently iterating `members` (a receiver may call back into the layer). */
  sending: number;
}

/** Process-local channels and group memberships of one layer. */
export class LocalCore {
  readonly #options: LocalCoreOptions;
  #channels = new Map<string, ChannelState>();
  #groups = new Map<string, GroupEntry>();
  /** Channels whose queue is non-empty (what the sweep looks at). */
  #queued = new Set<ChannelState>();
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: LocalCoreOptions) {
    this.#options = options;
  }

  /** Whether the core has state for `channel` (a receiver, a queue, a waiter or a group). */
  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  /** Number of groups with at least one local member. */
  get groupCount(): number {
    return this.#groups.size;
  }

  /** Whether `group` has a local member. */
  hasGroup(group: string): boolean {
    return this.#groups.has(group);
  }

  /** Groups with a local member. */
  groups(): IterableIterator<string> {
    return this.#groups.keys();
  }

  /**
   * Attaches `receiver`, handing it the queued backlog first, in order (expired items are
   * dropped and counted). If it refuses one, that one and the rest are dropped and a warning is
   * logged (at most once). Attaching again replaces the receiver.
   */
  attach(channel: string, receiver: ChannelReceiver): void {
    const state = this.#stateFor(channel);
    state.receiver = receiver;
    if (state.queue.length === state.head) return;
    // Take the backlog out first so a receiver that sends to its own channel cannot reorder it.
    const backlog = state.queue;
    const start = state.head;
    state.queue = NO_MESSAGES;
    state.head = 0;
    this.#queued.delete(state);
    const now = performance.now();
    for (let i = start; i < backlog.length; i++) {
      const item = backlog[i]!;
      if (item.expiresAt <= now) {
        this.#options.stats.messagesExpired++;
        continue;
      }
      if (receiver(item.message) === false) {
        const lost = backlog.length - i;
        this.#options.logger?.warn(
          { channel, dropped: lost },
          `attach(${JSON.stringify(channel)}): the receiver refused its queued backlog; ${lost} message(s) dropped`,
        );
        return;
      }
    }
  }

  /**
   * Hands `event` to the channel's receiver, else to a pending `receive()`, else to its queue.
   * @returns `false` when the receiver refused it or the queue holds its capacity.
   */
  deliver(channel: string, event: LayerMessage): boolean {
    const existing = this.#channels.get(channel);
    const receiver = existing?.receiver;
    if (receiver !== undefined) return receiver(event) !== false;
    const state = existing ?? this.#stateFor(channel);
    const queued = this.#enqueue(state, event, performance.now());
    // Handed straight to a waiting receive(): nothing may be left to remember.
    this.#forgetIfUnused(state);
    return queued;
  }

  /**
   * The next queued message of `channel`, or a promise that waits for one (FIFO waiters). An
   * aborted `signal` removes the waiter before rejecting with `signal.reason`, so it takes nothing.
   */
  receive(channel: string, signal?: AbortSignal): Promise<LayerMessage> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const state = this.#stateFor(channel);
    this.#purgeExpired(state, performance.now());
    if (state.head < state.queue.length) {
      const item = state.queue[state.head]!;
      state.head++;
      this.#compact(state);
      this.#forgetIfUnused(state);
      return Promise.resolve(item.message);
    }
    return waitInLine((state.waiters ??= []), signal, () => this.#forgetIfUnused(state));
  }

  /** Adds or refreshes a membership that expires at `deadline` (`Date.now()` ms). */
  addMember(group: string, channel: string, deadline: number): void {
    const state = this.#stateFor(channel);
    let entry = this.#groups.get(group);
    const created = entry === undefined;
    if (entry === undefined) {
      entry = { members: new Map(), sending: 0 };
      this.#groups.set(group, entry);
    }
    if (!entry.members.has(channel)) {
      if (entry.sending > 0) {
        // Copy on write: a fan-out (called from a receiver) is iterating this map; re-adding a
        // member it already visited would otherwise deliver the same message twice.
        entry.members = new Map(entry.members);
        entry.sending = 0;
      }
      entry.members.set(channel, state);
    }
    state.groups = withDeadline(state.groups, group, deadline);
    if (created) this.#options.groupCreated?.(group);
  }

  /** Removes a membership; `false` when `channel` was not a local member of `group`. */
  removeMember(group: string, channel: string): boolean {
    const state = this.#channels.get(channel);
    if (state === undefined || deadlineOf(state.groups, group) === undefined) return false;
    this.#removeMembership(group, state);
    this.#forgetIfUnused(state);
    return true;
  }

  /**
   * Delivers `event` to every local member of `group`: the same object to every receiver, one
   * call each, no allocation per recipient. Expired memberships of channels without a receiver
   * are removed on the way; members added meanwhile (by a receiver) do not get this event.
   */
  fanOut(group: string, event: LayerMessage): FanOutResult {
    const entry = this.#groups.get(group);
    if (entry === undefined) return { recipients: 0, dropped: 0 };
    const members = entry.members;
    let recipients = 0;
    let dropped = 0;
    let now = -1;
    let wallNow = -1;
    entry.sending++;
    try {
      for (const state of members.values()) {
        const receiver = state.receiver;
        if (receiver !== undefined) {
          if (receiver(event) === false) dropped++;
          else recipients++;
          continue;
        }
        const deadline = deadlineOf(state.groups, group);
        if (deadline === undefined) continue; // discarded or released during this fan-out
        if (wallNow < 0) wallNow = Date.now();
        if (deadline <= wallNow) {
          this.#removeMembership(group, state);
          this.#forgetIfUnused(state);
          continue;
        }
        if (now < 0) now = performance.now();
        if (this.#enqueue(state, event, now)) recipients++;
        else dropped++;
      }
    } finally {
      if (entry.members === members) entry.sending--;
    }
    return { recipients, dropped };
  }

  /** Live local members of `group`; expired memberships of channels without a receiver go first. */
  groupSize(group: string): number {
    const entry = this.#groups.get(group);
    if (entry === undefined) return 0;
    const wallNow = Date.now();
    let size = 0;
    for (const state of entry.members.values()) {
      if (state.receiver === undefined && (deadlineOf(state.groups, group) ?? 0) <= wallNow) {
        this.#removeMembership(group, state);
        this.#forgetIfUnused(state);
      } else {
        size++;
      }
    }
    return size;
  }

  /**
   * Sets `deadline` on every membership of a channel with an attached receiver (those never
   * expire while the process lives) and returns them per group, for a cross-process refresh.
   */
  refreshAttached(deadline: number): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [group, entry] of this.#groups) {
      let list: string[] | undefined;
      for (const state of entry.members.values()) {
        if (state.receiver === undefined) continue;
        if (state.groups !== undefined) state.groups = withDeadline(state.groups, group, deadline);
        (list ??= []).push(state.name);
      }
      if (list !== undefined) out.set(group, list);
    }
    return out;
  }

  /** Every local membership as `[group, channel, deadline]` (resync after a Redis restart). */
  *memberships(): IterableIterator<[string, string, number]> {
    for (const [group, entry] of this.#groups) {
      for (const state of entry.members.values()) {
        const deadline = deadlineOf(state.groups, group);
        if (deadline !== undefined) yield [group, state.name, deadline];
      }
    }
  }

  /**
   * Forgets `channel`: receiver, queue and memberships; pending `receive()` calls keep waiting.
   * @returns the groups it left.
   */
  release(channel: string): string[] {
    const state = this.#channels.get(channel);
    if (state === undefined) return [];
    const left = groupNames(state.groups);
    for (const group of left) this.#removeMembership(group, state);
    this.#reset(state);
    this.#forgetIfUnused(state);
    return left;
  }

  /**
   * Drops every receiver, queued message and membership (flush); pending `receive()` calls keep
   * waiting. Fires no hooks. @returns the groups that had local members.
   */
  clear(): string[] {
    const groups = [...this.#groups.keys()];
    const waiting = new Map<string, ChannelState>();
    for (const state of this.#channels.values()) {
      this.#reset(state);
      if (state.waiters !== undefined && state.waiters.length > 0) waiting.set(state.name, state);
    }
    this.#channels = waiting;
    this.#groups = new Map();
    this.#stopSweep();
    return groups;
  }

  /** Drops everything and rejects pending `receive()` calls with {@link LayerClosedError}. */
  close(): void {
    this.#closed = true;
    this.#stopSweep();
    const channels = this.#channels;
    this.#channels = new Map();
    this.#groups = new Map();
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

  #stateFor(channel: string): ChannelState {
    let state = this.#channels.get(channel);
    if (state === undefined) {
      const capacity = this.#options.capacityFor(channel);
      state = { name: channel, capacity, receiver: undefined, queue: NO_MESSAGES, head: 0, waiters: undefined, groups: undefined };
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
      inNoGroup(state.groups) &&
      this.#channels.get(state.name) === state
    ) {
      this.#channels.delete(state.name);
    }
  }

  /** Detaches the receiver, drops the queue and the reverse index (not the waiters). */
  #reset(state: ChannelState): void {
    state.receiver = undefined;
    state.queue = NO_MESSAGES;
    state.head = 0;
    state.groups = undefined;
    this.#queued.delete(state);
  }

  #removeMembership(group: string, state: ChannelState): void {
    withoutGroup(state.groups, group);
    const entry = this.#groups.get(group);
    if (entry === undefined || !entry.members.has(state.name)) return;
    // Deleting is safe while a fan-out iterates the map: Map iteration skips removed entries.
    entry.members.delete(state.name);
    if (entry.members.size === 0) {
      this.#groups.delete(group);
      this.#options.groupEmptied?.(group);
    }
  }

  /** Hands `message` to a pending `receive()` or queues it; `false` when the queue is full. */
  #enqueue(state: ChannelState, message: LayerMessage, now: number): boolean {
    const waiter = state.waiters?.shift();
    if (waiter !== undefined) {
      waiter.resolve(message);
      return true;
    }
    this.#purgeExpired(state, now);
    if (state.queue.length - state.head >= state.capacity) return false;
    if (state.queue.length === state.head) {
      this.#queued.add(state);
      this.#scheduleSweep();
    }
    if (state.queue === NO_MESSAGES) state.queue = [];
    state.queue.push({ message, expiresAt: now + this.#options.expiryMs });
    return true;
  }

  /** Removes expired messages from the head of the queue (they expire in queue order). */
  #purgeExpired(state: ChannelState, now: number): void {
    const queue = state.queue;
    let head = state.head;
    while (head < queue.length && queue[head]!.expiresAt <= now) head++;
    if (head === state.head) return;
    this.#options.stats.messagesExpired += head - state.head;
    state.head = head;
    this.#compact(state);
  }

  #compact(state: ChannelState): void {
    if (state.head === state.queue.length) {
      state.queue = NO_MESSAGES;
      state.head = 0;
      this.#queued.delete(state);
    } else if (state.head >= 32 && state.head * 2 >= state.queue.length) {
      state.queue.splice(0, state.head);
      state.head = 0;
    }
  }

  #scheduleSweep(): void {
    if (this.#sweepTimer !== undefined || this.#closed) return;
    this.#sweepTimer = setTimeout(() => this.#sweep(), Math.max(this.#options.expiryMs, MIN_SWEEP_INTERVAL_MS));
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
}
