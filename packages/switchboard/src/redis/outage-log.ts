/**
 * The Redis backend's one outage policy, as far as logs go: one `error` line when an outage
 * starts, one `info` line with its duration when it ends, nothing for the failures and
 * reconnection attempts in between (DESIGN.md §3: "every failure is logged once per outage,
 * not per message"). The channel layer decides "outage" from its connections' events
 * (`outage-monitor.ts`); a store from its commands failing and succeeding again
 * (`store-connection.ts`). Both log through this class, so the lines look the same.
 */
import type { RedisLayerLogger } from './connection-options.js';

/** Outage state and its two log lines for one component. */
export class OutageLog {
  readonly #logger: RedisLayerLogger | undefined;
  readonly #target: string;
  readonly #component: string;
  readonly #meanwhile: string;
  #down = false;
  #downSince = 0;
  #outages = 0;

  /**
   * @param target - the Redis named in the lines, e.g. `127.0.0.1:6379` (`describeTarget`).
   * @param component - who is talking, e.g. `'RedisHistoryStore'`.
   * @param meanwhile - what happens during the outage, e.g. `'serving local members only'`.
   */
  constructor(logger: RedisLayerLogger | undefined, target: string, component: string, meanwhile: string) {
    this.#logger = logger;
    this.#target = target;
    this.#component = component;
    this.#meanwhile = meanwhile;
  }

  /** Whether an outage started and has not ended. */
  get inOutage(): boolean {
    return this.#down;
  }

  /** Outages seen so far. */
  get outages(): number {
    return this.#outages;
  }

  /**
   * Starts an outage unless one is going on: logs the one `error` line, naming `err`.
   * @returns whether this call started it.
   */
  begin(err: Error | undefined, details: object = {}): boolean {
    if (this.#down) return false;
    this.#down = true;
    this.#downSince = Date.now();
    this.#outages++;
    this.#logger?.error(
      { redis: this.#target, component: this.#component, ...details, err: err === undefined ? undefined : { message: err.message, code: (err as { code?: unknown }).code } },
      `${this.#component}: lost Redis at ${this.#target}${err === undefined ? '' : ` (${err.message})`}; ${this.#meanwhile} until it returns (logged once per outage)`,
    );
    return true;
  }

  /** Ends the outage: logs the one `info` line with its duration and `restored`. No-op when not in one. */
  end(restored: string): void {
    if (!this.#down) return;
    this.#down = false;
    const downMs = Date.now() - this.#downSince;
    this.#logger?.info?.({ redis: this.#target, component: this.#component, downMs }, `${this.#component}: Redis at ${this.#target} is back after ${downMs} ms; ${restored}`);
  }
}
