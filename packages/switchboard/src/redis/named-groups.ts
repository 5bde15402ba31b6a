/**
 * Which groups have named (worker) members, known in every process before its next `groupSend`,
 * so that a `groupSend` to any other group is one bare PUBLISH (no script, no EXISTS): see
 * docs/channel-layer-spec.md §6 and docs/scaling.md ("groupSend cost").
 *
 * In Redis: the set `named-groups` (groups that have, or recently had, named members) and the
 * pub/sub channel `named`, on which a `groupAdd` of a named channel announces the group
 * (`<origin>[5, group, request id]`) and waits until every process the PUBLISH reached has acked
 * (as a remote `groupAdd` waits for its owner, `inbox-requests.ts`). Every layer subscribes to
 * `named` and then reads the set (subscribe first, then read: an announcement published in
 * between is seen twice, never missed). Until that read completed after the latest (re)connect
 * of its subscriber connection, a layer does not trust its copy: every `groupSend` takes the
 * scripted path, which is always right.
 *
 * Stale entries (the named members left or expired) only cost the scripted path: the script
 * removes the group from `named-groups` when it finds no live named member (atomically, so a
 * concurrent add re-adds it), and the sender forgets it locally unless an announcement arrived
 * while its command was in flight (`#notices`). Other processes forget it at their own next
 * scripted send to the group.
 *
 * Rolling deploys (docs/scaling.md): layers of a version without this file always run the
 * script, so they stay right; layers with it know only of named memberships that a layer with
 * it added (or restored after an outage).
 */
import type { Connection } from './connections.js';

/** After a failed load, the next `groupSend` starts another one no sooner than this. */
const RELOAD_PAUSE_MS = 100;

/** What the index needs from its layer. */
export interface NamedGroupsHost {
  /** The subscriber connection (the same object as the command connection on a cluster). */
  readonly subscriber: Connection;
  /** SUBSCRIBEs (or SSUBSCRIBEs) the `named` channel; idempotent. */
  subscribe(): Promise<void>;
  /** SMEMBERS `named-groups`. */
  members(): Promise<string[]>;
}

/** One layer's copy of the set of groups with named members. */
export class NamedGroups {
  readonly #host: NamedGroupsHost;
  readonly #groups = new Set<string>();
  /** Whether `#groups` holds every group announced since the subscriber connection last came up. */
  #trusted = false;
  /** Bumped when the copy stops being trusted: a load started before is not trusted. */
  #loadSeq = 0;
  #loading: Promise<void> | undefined;
  #loadingSeq = -1;
  /** When the last load failed (ms since the epoch), for {@link RELOAD_PAUSE_MS}. */
  #failedAt = 0;
  /** Bumped on every announcement (seen or made): a stale "no named member" reply does not drop a group. */
  #notices = 0;
  /** False when the fast path must never be used (a cluster without sharded pub/sub cannot count acks). */
  readonly #enabled: boolean;

  /** @param enabled - false to always take the scripted path. */
  constructor(host: NamedGroupsHost, enabled: boolean) {
    this.#host = host;
    this.#enabled = enabled;
    const lost = (): void => this.invalidate();
    host.subscriber.on('close', lost);
    host.subscriber.on('end', lost);
  }

  /** Whether a `groupSend` to `group` may be one bare PUBLISH now. Starts a reload when untrusted. */
  bare(group: string): boolean {
    if (!this.#enabled) return false;
    if (!this.#trusted || this.#host.subscriber.status !== 'ready') {
      if (this.#loading === undefined && this.#host.subscriber.status === 'ready' && Date.now() - this.#failedAt >= RELOAD_PAUSE_MS) {
        // A failure is Redis trouble the session reports already; this path stays scripted meanwhile.
        this.load().catch(() => {
          this.#failedAt = Date.now();
        });
      }
      return false;
    }
    return !this.#groups.has(group);
  }

  /** The announcement counter, read before a scripted send (see {@link drop}). */
  get notices(): number {
    return this.#notices;
  }

  /** False on a cluster without sharded pub/sub: every groupSend is scripted, nothing is announced. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Whether this copy is trusted now (tests and stats). */
  get trusted(): boolean {
    return this.#trusted;
  }

  /** Number of groups this copy marks as having named members. */
  get size(): number {
    return this.#groups.size;
  }

  /** `group` has named members (announced here or by another process). */
  noticed(group: string): void {
    this.#notices++;
    this.#groups.add(group);
  }

  /** A scripted send found no live named member in `group`; forget it unless announced since `notices`. */
  drop(group: string, notices: number): void {
    if (notices === this.#notices) this.#groups.delete(group);
  }

  /** The subscriber connection went away: announcements may be missed until the next load. */
  invalidate(): void {
    this.#trusted = false;
    this.#loadSeq++;
  }

  /**
   * Subscribes to `named`, reads `named-groups`, and trusts the copy if the subscriber connection
   * stayed up meanwhile. Rejects when Redis fails (the copy stays untrusted).
   */
  load(): Promise<void> {
    // A load started before the last invalidation cannot make the copy trusted: start another.
    if (this.#loading !== undefined && this.#loadingSeq === this.#loadSeq) return this.#loading;
    const seq = ++this.#loadSeq;
    this.#loadingSeq = seq;
    const loading = (async () => {
      await this.#host.subscribe();
      const members = await this.#host.members();
      for (const group of members) this.#groups.add(group);
      if (seq === this.#loadSeq && this.#host.subscriber.status === 'ready') this.#trusted = true;
    })();
    this.#loading = loading;
    void loading.then(
      () => this.#clearLoading(loading),
      () => this.#clearLoading(loading),
    );
    return loading;
  }

  /** Forgets every group (a flush deleted `named-groups` and the named memberships). */
  clear(): void {
    this.#groups.clear();
    this.#notices++;
  }

  #clearLoading(loading: Promise<void>): void {
    if (this.#loading === loading) this.#loading = undefined;
  }
}
