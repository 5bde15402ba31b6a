/**
 * Keeps the Redis copy of a layer's group memberships (the `group:<group>` sorted sets, score =
 * deadline) in step with the process: a timer re-ZADDs the memberships of attached channels
 * every `groupExpiryMs / 4` (at most 60 s), so live connections never expire while a dead
 * process's do; after an outage every membership the layer holds is written again (a restarted
 * Redis has lost them). It also remembers the memberships of named (worker) channels this layer
 * added, which live in Redis only.
 */
import type { LocalCore } from '../layers/local-core.js';
import type { LayerKeys } from './keys.js';
import type { RedisMemberships } from './memberships.js';

/** The refresh runs every `groupExpiryMs / 4`, within these bounds. */
const MIN_REFRESH_MS = 10;
const MAX_REFRESH_MS = 60_000;

/** What the sync needs from its layer. */
export interface MembershipSyncHost {
  readonly local: LocalCore;
  readonly memberships: RedisMemberships;
  readonly keys: LayerKeys;
  readonly groupExpiryMs: number;
  /** Whether Redis is up now (no refresh during an outage: the resync after it re-adds everything). */
  isUp(): boolean;
  /** Reports a failed command (logged once per outage). */
  failed(op: string, err: Error): void;
}

/** Membership refresh and resync for one layer. */
export class MembershipSync {
  readonly #host: MembershipSyncHost;
  /** Named channel → group → membership deadline, for the memberships this layer added. */
  readonly #named = new Map<string, Map<string, number>>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(host: MembershipSyncHost) {
    this.#host = host;
  }

  /** Remembers a named channel's membership (replayed after an outage). */
  addNamed(channel: string, group: string, deadline: number): void {
    let groups = this.#named.get(channel);
    if (groups === undefined) this.#named.set(channel, (groups = new Map()));
    groups.set(group, deadline);
  }

  /** Forgets a named channel's membership of `group`. */
  removeNamed(channel: string, group: string): void {
    const groups = this.#named.get(channel);
    groups?.delete(group);
    if (groups?.size === 0) this.#named.delete(channel);
  }

  /** Forgets every membership of a named channel; returns the groups it was in. */
  releaseNamed(channel: string): string[] {
    const groups = this.#named.get(channel);
    this.#named.delete(channel);
    return groups === undefined ? [] : [...groups.keys()];
  }

  /** Starts the refresh timer (idempotent); a local membership was added. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const interval = Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, Math.floor(this.#host.groupExpiryMs / 4)));
    this.#timer = setInterval(() => this.#refresh(), interval);
    this.#timer.unref();
  }

  /** Stops the timer and forgets the named memberships (flush). `start()` works again afterwards. */
  clear(): void {
    this.#stopTimer();
    this.#named.clear();
  }

  /** Stops for good (close). */
  stop(): void {
    this.#stopped = true;
    this.clear();
  }

  /**
   * Re-ZADDs every membership this layer holds, local and named; rejects on failure. Resolves
   * the groups of the named memberships written (they are marked again, `named-groups.ts`).
   */
  async resync(): Promise<string[]> {
    const { local, keys, memberships, groupExpiryMs } = this.#host;
    const now = Date.now();
    const byKey = new Map<string, Array<[number, string]>>();
    const add = (key: string, deadline: number, member: string): void => {
      let list = byKey.get(key);
      if (list === undefined) byKey.set(key, (list = []));
      list.push([deadline, member]);
    };
    local.refreshAttached(now + groupExpiryMs);
    for (const [group, channel, deadline] of local.memberships()) {
      if (deadline > now) add(keys.groupKey(group), deadline, channel);
    }
    const namedGroups = new Set<string>();
    for (const [channel, groups] of this.#named) {
      for (const [group, deadline] of groups) {
        if (deadline <= now) continue;
        add(keys.groupKey(group), deadline, channel);
        add(keys.namedGroupKey(group), deadline, channel);
        namedGroups.add(group);
      }
    }
    await Promise.all([...byKey].map(([key, entries]) => memberships.addMany(key, entries)));
    return [...namedGroups];
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Re-ZADDs the memberships of attached channels so they outlive `groupExpiryMs`. */
  #refresh(): void {
    const { local, keys, memberships, groupExpiryMs } = this.#host;
    if (local.groupCount === 0) return this.#stopTimer();
    if (!this.#host.isUp()) return;
    const deadline = Date.now() + groupExpiryMs;
    for (const [group, channels] of local.refreshAttached(deadline)) {
      memberships
        .addMany(keys.groupKey(group), channels.map((channel): [number, string] => [deadline, channel]))
        .catch((err: Error) => this.#host.failed('refresh', err));
    }
  }
}
