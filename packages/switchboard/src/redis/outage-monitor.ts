/**
 * Watches the layer's Redis connections and turns their events into outages: one `error` line
 * when the first connection drops, one `info` line when the layer has recovered, whatever the
 * number of failed commands or reconnection attempts in between (DESIGN.md §3; issue 3: "every
 * failure is logged once per outage, not per message").
 */
import type { EventEmitter } from 'node:events';
import type { RedisLayerLogger } from './connection-options.js';
import { OutageLog } from './outage-log.js';

/** A connection as the monitor sees it: ioredis `Redis` and `Cluster` both fit. */
export interface WatchedConnection extends EventEmitter {
  readonly status: string;
}

/** What the monitor reports to its owner. */
export interface OutageHooks {
  /** A watched connection became ready (first connect and every reconnect). */
  ready(name: string): void;
  /** An outage started (called once per outage, after the error line). */
  down(): void;
}

/** Tracks which connections are up and whether the layer is in an outage. */
export class OutageMonitor {
  readonly #log: OutageLog;
  readonly #hooks: OutageHooks;
  readonly #up = new Map<string, boolean>();
  #armed = false;
  #stopped = false;
  #lastError: Error | undefined;

  /**
   * @param target - what to name in log lines, e.g. `127.0.0.1:6379`.
   * @param hooks - told about every `ready` of a watched connection and every outage.
   */
  constructor(logger: RedisLayerLogger | undefined, target: string, hooks: OutageHooks) {
    this.#log = new OutageLog(logger, target, 'RedisChannelLayer', 'serving local members only');
    this.#hooks = hooks;
  }

  /** Starts watching `connection` under `name` (`'command'`, `'subscriber'`). */
  watch(name: string, connection: WatchedConnection): void {
    this.#up.set(name, connection.status === 'ready');
    connection.on('ready', () => {
      if (this.#stopped) return;
      this.#up.set(name, true);
      this.#hooks.ready(name);
    });
    // ioredis emits 'close' on every lost socket and every failed reconnection attempt, and
    // 'end' when it gives up; both mean "not ready". 'error' always comes with one of them.
    const lost = (): void => this.#lost(name);
    connection.on('close', lost);
    connection.on('end', lost);
    connection.on('error', (err: Error) => {
      this.#lastError = err;
    });
  }

  /** Whether the connection `name` is ready. */
  isUp(name: string): boolean {
    return this.#up.get(name) === true;
  }

  /** Whether every watched connection is ready. */
  allUp(): boolean {
    for (const up of this.#up.values()) if (!up) return false;
    return true;
  }

  /** Whether an outage started (after {@link arm}) and has not been {@link recovered} yet. */
  get inOutage(): boolean {
    return this.#log.inOutage;
  }

  /** Outages seen so far. */
  get outages(): number {
    return this.#log.outages;
  }

  /** The last error a connection emitted (for start-up failure messages). */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** From now on a lost connection is an outage (before, it is a start-up failure). */
  arm(): void {
    this.#armed = true;
  }

  /**
   * A command failed on a connection that looked ready (the socket died before its 'close'):
   * starts the outage now so the error line names the first failure.
   */
  commandFailed(name: string, err: Error): void {
    this.#lastError = err;
    if (this.#up.get(name) === true && /closed|writeable|ECONN|EPIPE|ETIMEDOUT|max retries/i.test(err.message)) this.#lost(name);
  }

  /** Ends the outage: logs one `info` line with its duration. No-op when not in an outage. */
  recovered(): void {
    this.#log.end('subscriptions and group memberships restored');
  }

  /** Stops reporting (layer closing: the connections are about to drop on purpose). */
  stop(): void {
    this.#stopped = true;
  }

  #lost(name: string): void {
    if (this.#up.get(name) === false) return;
    this.#up.set(name, false);
    if (!this.#armed || this.#stopped) return;
    if (this.#log.begin(this.#lastError, { connection: name })) this.#hooks.down();
  }
}
