/**
 * Presence as a consumer feature (Phoenix Presence, Centrifugo's join/leave): a consumer lists
 * `presence({ store, group })`; each member gets `presence.state` (who is here) once after
 * joining, then `presence.diff` frames: a key joins with its first connection and leaves with its
 * last, so several tabs of one user count once, across processes when the store is shared (Redis).
 *
 * Leaves of a process that died (its connections are never removed) are found by a sweep: each
 * process lists the groups it has members in every `sweepIntervalMs` and tells its own members
 * about keys that vanished (or appeared without a diff, e.g. during a Redis outage). A dead
 * process's keys therefore leave within the store's `ttlMs` plus `sweepIntervalMs`.
 */
import type { ConsumerFeature, FeatureContext } from '../consumer/feature.js';
import type { WebsocketConsumer } from '../consumer/websocket.js';
import type { LayerMessage } from '../layers/channel-layer.js';
import type { Scope } from '../scope.js';
import { PRESENCE_DIFF_TYPE, PRESENCE_STATE_TYPE, type PresenceDiffFrame, type PresenceMeta, type PresenceStateFrame } from '../wire/presence.js';
import type { PresenceEntry, PresenceStore } from './presence-store.js';

/** Options of {@link presence}. */
export interface PresenceOptions {
  /** Where presence lives: `InMemoryPresenceStore` (one process) or `RedisPresenceStore`. */
  readonly store: PresenceStore;
  /** The group whose members see each other; joined by the consumer if not in its `groups`. */
  readonly group: string;
  /**
   * The presence key of a connection; `null` to watch without being listed. Default: the
   * logged-in user's `username` (`scope.user`), `null` for anonymous connections.
   */
  readonly key?: (scope: Scope) => string | null;
  /** What others see of this key (JSON). Default `{ username }` of the logged-in user, else `{}`. */
  readonly info?: (scope: Scope) => Record<string, unknown>;
  /** How often this process checks its groups for keys that left without a diff. Default 5 000 ms. */
  readonly sweepIntervalMs?: number;
  /**
   * Whether this connection receives the presence frames; one that does not is still listed (its
   * key) but gets no `presence.*` frame, e.g. a seed-protocol client that would print them.
   * Default: every connection receives them.
   */
  readonly watch?: (scope: Scope) => boolean;
}

const metaOf = (entry: PresenceEntry): PresenceMeta => ({ info: entry.info, connections: entry.connections });

function toRecord(entries: Iterable<[string, PresenceMeta]>): Record<string, PresenceMeta> {
  const out: Record<string, PresenceMeta> = {};
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** This process's members of one (store, group), and the keys they were told about. */
class GroupView {
  readonly members = new Set<WebsocketConsumer>();
  readonly known = new Map<string, PresenceMeta>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly store: PresenceStore,
    readonly group: string,
    readonly sweepIntervalMs: number,
  ) {}

  add(member: WebsocketConsumer, watching: boolean): void {
    if (!watching) return;
    this.members.add(member);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.sweep().catch(() => undefined), this.sweepIntervalMs);
      this.#timer.unref();
    }
  }

  /** Removes a member; `true` when the view has none left (and stopped its sweep). */
  remove(member: WebsocketConsumer): boolean {
    this.members.delete(member);
    if (this.members.size > 0) return false;
    clearInterval(this.#timer);
    this.#timer = undefined;
    return true;
  }

  /** Applies a diff that came through the layer. */
  apply(diff: PresenceDiffFrame): void {
    for (const [k, meta] of Object.entries(diff.joins)) this.known.set(k, meta);
    for (const [k, meta] of Object.entries(diff.updates ?? {})) this.known.set(k, meta);
    for (const k of Object.keys(diff.leaves)) this.known.delete(k);
  }

  /** Compares the store with what members were told; tells them the difference. */
  async sweep(): Promise<void> {
    const entries = await this.store.list(this.group);
    const now = new Map(entries.map((e) => [e.key, metaOf(e)] as [string, PresenceMeta]));
    const joins = [...now].filter(([k]) => !this.known.has(k));
    const updates = [...now].filter(([k, meta]) => this.known.has(k) && this.known.get(k)!.connections !== meta.connections);
    const leaves = [...this.known].filter(([k]) => !now.has(k));
    if (joins.length === 0 && leaves.length === 0 && updates.length === 0) return;
    const diff: PresenceDiffFrame = { type: PRESENCE_DIFF_TYPE, group: this.group, joins: toRecord(joins), leaves: toRecord(leaves), updates: toRecord(updates) };
    this.apply(diff);
    const text = JSON.stringify(diff);
    for (const member of this.members) member.send(text);
  }
}

const views = new WeakMap<PresenceStore, Map<string, GroupView>>();

function viewFor(store: PresenceStore, group: string, sweepIntervalMs: number): GroupView {
  let byGroup = views.get(store);
  if (byGroup === undefined) views.set(store, (byGroup = new Map()));
  let view = byGroup.get(group);
  if (view === undefined) byGroup.set(group, (view = new GroupView(store, group, sweepIntervalMs)));
  return view;
}

class PresenceFeature implements ConsumerFeature {
  readonly name = 'presence';
  readonly #options: PresenceOptions;
  #key: string | null = null;
  #view: GroupView | undefined;
  #watching = true;

  constructor(options: PresenceOptions) {
    this.#options = options;
  }

  attach({ consumer }: FeatureContext): void {
    const { group } = this.#options;
    if (!consumer.groups.includes(group)) consumer.groups = [...consumer.groups, group];
  }

  async connected({ consumer }: FeatureContext): Promise<void> {
    const { store, group } = this.#options;
    const scope = consumer.scope;
    const key = this.#options.key ? this.#options.key(scope) : scope.user?.isAuthenticated ? scope.user.username : null;
    const info = this.#options.info ? this.#options.info(scope) : scope.user?.isAuthenticated ? { username: scope.user.username } : {};
    const view = viewFor(store, group, this.#options.sweepIntervalMs ?? 5_000);
    this.#view = view;
    this.#watching = this.#options.watch?.(scope) ?? true;
    view.add(consumer, this.#watching);
    let joined = false;
    if (key !== null) {
      joined = (await store.add(group, key, consumer.channelName, info)).changed;
      this.#key = key;
    }
    const entries = await store.list(group);
    const state: PresenceStateFrame = { type: PRESENCE_STATE_TYPE, group, presences: toRecord(entries.map((e) => [e.key, metaOf(e)])) };
    if (this.#watching) {
      for (const [k, meta] of Object.entries(state.presences)) view.known.set(k, meta);
      consumer.send(JSON.stringify(state));
    }
    if (key !== null) {
      // Every connection change is told: a key's first one as a join, later ones as an update of its count.
      const entry = entries.find((e) => e.key === key);
      const meta = entry ? metaOf(entry) : { info, connections: 1 };
      await this.#publish(consumer, joined ? { [key]: meta } : {}, {}, joined ? {} : { [key]: meta });
    }
  }

  /** `presence.diff` events of this group go to the client as they are, never to a handler. */
  event(event: LayerMessage, { consumer }: FeatureContext): boolean {
    if (event.type !== PRESENCE_DIFF_TYPE || event['group'] !== this.#options.group) return true;
    if (!this.#watching) return false;
    const diff = event as unknown as PresenceDiffFrame;
    this.#view?.apply(diff);
    consumer.send(JSON.stringify(diff));
    return false;
  }

  async disconnected(_code: number, { consumer }: FeatureContext): Promise<void> {
    this.#view?.remove(consumer);
    const key = this.#key;
    if (key === null) return;
    const { store, group } = this.#options;
    const { changed } = await store.remove(group, key, consumer.channelName);
    if (changed) return this.#publish(consumer, {}, { [key]: { info: {}, connections: 0 } }, {});
    const entry = (await store.list(group)).find((e) => e.key === key);
    if (entry !== undefined) await this.#publish(consumer, {}, {}, { [key]: metaOf(entry) });
  }

  /** Sends a diff to the group, every process's members (the consumer may be closing: through the layer directly). */
  async #publish(consumer: WebsocketConsumer, joins: Record<string, PresenceMeta>, leaves: Record<string, PresenceMeta>, updates: Record<string, PresenceMeta>): Promise<void> {
    const diff: PresenceDiffFrame = { type: PRESENCE_DIFF_TYPE, group: this.#options.group, joins, leaves, updates };
    await consumer.channelLayer?.groupSend(this.#options.group, diff as unknown as LayerMessage);
  }
}

/**
 * Presence for a consumer: `override features = [presence({ store, group: 'room_lobby' })]`.
 * Members get `presence.state` then `presence.diff` frames (`wire/presence.ts`); the client SDK
 * keeps the list (`socket.presence`) and emits `presence` events.
 */
export function presence(options: PresenceOptions): ConsumerFeature {
  return new PresenceFeature(options);
}
