/**
 * The process-local half of the Redis layer: the channels this process owns (`prefix.<id>!…`),
 * their push receivers and queues, and which of them are in which group. Same semantics as
 * `InMemoryChannelLayer` (capacity, expiry, FIFO, receivers get the same frozen object), with
 * hooks so the Redis layer can SUBSCRIBE when a group gets its first local member and
 * UNSUBSCRIBE when it loses its last one.
 */
import { performance } from 'node:perf_hooks';
import { LayerClosedError } from '../errors.js';
import type { ChannelLayerStats, ChannelReceiver, LayerMessage } from '../layers/channel-layer.js';
import type { WarnLogger } from '../rate-limited-warnings.js';

/** The queue sweep never runs more often than this, whatever `expiryMs` is. */
const MIN_SWEEP_INTERVAL_MS = 1_000;

/** Called synchronously when local group membership changes shape. */
export interface LocalRegistryHooks {
  /** `group` got its first local member. */
  groupCreated(group: string): void;
  /** `group` lost its last local member. */
  groupEmptied(group: string): void;
}

interface QueuedMessage {
  readonly message: LayerMessage;
  /** `performance.now()` after which the message is expired. */
  readonly expiresAt: number;
}

interface Waiter {
  resolve(message: LayerMessage): void;
  reject(error: Error): void;
}

interface ChannelState {
  readonly name: string;
  receiver: ChannelReceiver | undefined;
  queue: QueuedMessage[];
  head: number;
  waiters: Waiter[] | undefined;
  /** group → membership deadline (`Date.now()` ms; the score of the member in Redis). */
  groups: Map<string, number> | undefined;
}

interface GroupEntry {
  /** channel → state; copied on write while a fan-out iterates it. */
  members: Map<string, ChannelState>;
  /** Fan-outs currently iterating `members` (a receiver may call back into the layer). */
  sending: number;
}

/** Outcome of a local fan-out. */
export interface FanOutResult {
  recipients: number;
  dropped: number;
}

/** Process-local channels and group memberships of one Redis layer. */
export class LocalRegistry {
  readonly #capacity: number;
  readonly #expiryMs: number;
  readonly #stats: ChannelLayerStats;
  readonly #hooks: LocalRegistryHooks;
  readonly #logger: WarnLogger | undefined;
  #channels = new Map<string, ChannelState>();
  #groups = new Map<string, GroupEntry>();
  /** Channels with a non-empty queue (what the sweep looks at). */
  #queued = new Set<ChannelState>();
  #sweepTimer: NodeJS.Timeout | undefined;

  /**
   * @param options - `capacity` (messages per queue), `expiryMs` (queued-message lifetime).
   * @param stats - the layer's counters; `messagesExpired` is incremented here.
   */
  constructor(
    options: { capacity: number; expiryMs: number },
    stats: ChannelLayerStats,
    hooks: LocalRegistryHooks,
    logger: WarnLogger | undefined,
  ) {
    this.#capacity = options.capacity;
    this.#expiryMs = options.expiryMs;
    this.#stats = stats;
    this.#hooks = hooks;
    this.#logger = logger;
  }

  /** Number of groups with at least one local member. */
  get groupCount(): number {
    return this.#groups.size;
  }

  /** Attaches `receiver`, handing it the queued backlog first (expired items dropped). */
  attach(channel: string, receiver: ChannelReceiver): void {
    const state = this.#stateFor(channel);
    state.receiver = receiver;
    if (state.queue.length === state.head) return;
    const backlog = state.queue;
    const start = state.head;
    state.queue = [];
    state.head = 0;
    this.#queued.delete(state);
    const now = performance.now();
    for (let i = start; i < backlog.length; i++) {
      const item = backlog[i]!;
      if (item.expiresAt <= now) {
        this.#stats.messagesExpired++;
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

  /** Whether `channel` has a push receiver. */
  hasReceiver(channel: string): boolean {
    return this.#channels.get(channel)?.receiver !== undefined;
  }

  /**
   * Hands `event` to the channel's receiver, a pending `receive()`, or its queue.
   * @returns `false` when the receiver refused it or the queue holds `capacity` messages.
   */
  deliver(channel: string, event: LayerMessage): boolean {
    const existing = this.#channels.get(channel);
    const receiver = existing?.receiver;
    if (receiver !== undefined) return receiver(event) !== false;
    return this.#enqueue(existing ?? this.#stateFor(channel), event, performance.now());
  }

  /** The next queued message of `channel`, or a promise that waits for one (FIFO waiters). */
  receive(channel: string): Promise<LayerMessage> {
    const state = this.#stateFor(channel);
    this.#purgeExpired(state, performance.now());
    if (state.head < state.queue.length) {
      const item = state.queue[state.head]!;
      state.head++;
      this.#compact(state);
      this.#forgetIfUnused(state);
      return Promise.resolve(item.message);
    }
    return new Promise<LayerMessage>((resolve, reject) => {
      (state.waiters ??= []).push({ resolve, reject });
    });
  }

  /** Adds (or refreshes) a membership with `deadline` (`Date.now()` ms). */
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
        // Copy on write: a fan-out (called back from a receiver) is iterating this map.
        entry.members = new Map(entry.members);
        entry.sending = 0;
      }
      entry.members.set(channel, state);
    }
    (state.groups ??= new Map()).set(group, deadline);
    if (created) this.#hooks.groupCreated(group);
  }

  /** Removes a membership; `false` when `channel` was not a local member of `group`. */
  removeMember(group: string, channel: string): boolean {
    const state = this.#channels.get(channel);
    if (state?.groups?.has(group) !== true) return false;
    this.#removeMembership(group, state);
    this.#forgetIfUnused(state);
    return true;
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
   * Forgets `channel`: receiver, queue and memberships (pending `receive()` calls keep waiting).
   * @returns the groups it left.
   */
  release(channel: string): string[] {
    const state = this.#channels.get(channel);
    if (state === undefined) return [];
    const left = state.groups === undefined ? [] : [...state.groups.keys()];
    for (const group of left) this.#removeMembership(group, state);
    this.#reset(state);
    this.#forgetIfUnused(state);
    return left;
  }

  /**
   * Delivers `event` to every local member of `group`: the same object to every receiver, no
   * allocation per recipient. Expired memberships of channels without a receiver are removed.
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
        const deadline = state.groups?.get(group);
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

  /**
   * Sets `deadline` on every membership of a channel with an attached receiver (those never
   * expire while the process lives) and returns them per group, for the Redis refresh.
   */
  refreshAttached(deadline: number): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [group, entry] of this.#groups) {
      let list: string[] | undefined;
      for (const state of entry.members.values()) {
        if (state.receiver === undefined) continue;
        state.groups?.set(group, deadline);
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
        const deadline = state.groups?.get(group);
        if (deadline !== undefined) yield [group, state.name, deadline];
      }
    }
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
      state = { name: channel, receiver: undefined, queue: [], head: 0, waiters: undefined, groups: undefined };
      this.#channels.set(channel, state);
    }
    return state;
  }

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
    if (entry === undefined || !entry.members.has(state.name)) return;
    entry.members.delete(state.name);
    if (entry.members.size === 0) {
      this.#groups.delete(group);
      this.#hooks.groupEmptied(group);
    }
  }

  #enqueue(state: ChannelState, message: LayerMessage, now: number): boolean {
    const waiter = state.waiters?.shift();
    if (waiter !== undefined) {
      waiter.resolve(message);
      return true;
    }
    this.#purgeExpired(state, now);
    if (state.queue.length - state.head >= this.#capacity) return false;
    if (state.queue.length === state.head) {
      this.#queued.add(state);
      this.#scheduleSweep();
    }
    state.queue.push({ message, expiresAt: now + this.#expiryMs });
    return true;
  }

  #purgeExpired(state: ChannelState, now: number): void {
    const queue = state.queue;
    let head = state.head;
    while (head < queue.length && queue[head]!.expiresAt <= now) head++;
    if (head === state.head) return;
    this.#stats.messagesExpired += head - state.head;
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
    if (this.#sweepTimer !== undefined) return;
    this.#sweepTimer = setTimeout(() => this.#sweep(), Math.max(this.#expiryMs, MIN_SWEEP_INTERVAL_MS));
    this.#sweepTimer.unref();
  }

  #stopSweep(): void {
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#queued.clear();
  }

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
