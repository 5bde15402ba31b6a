/**
 * Rate-limited warnings: at most one log line per key (a group, a channel, an operation) per
 * {@link WARNING_INTERVAL_MS}, carrying how many occurrences were suppressed since the last line,
 * so a full member, a failing command or an unreachable store cannot flood the log (DESIGN.md
 * §3: drops are counted and logged, never silent). Used by the Redis layer and by consumers.
 */
import { performance } from 'node:perf_hooks';

/** Minimum interval between two warnings for the same key: 10_000 ms. */
export const WARNING_INTERVAL_MS = 10_000;
/** Above this many tracked keys, stale ones are pruned. */
const MAX_ENTRIES = 1_000;

interface WarningState {
  lastAt: number;
  /** Occurrences since the last line was logged. */
  suppressed: number;
}

/** Anything with a pino-style `warn(obj, msg)`. */
export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** Tracks, per key, when the last warning was logged. */
export class RateLimitedWarnings {
  readonly #logger: WarnLogger | undefined;
  readonly #entries = new Map<string, WarningState>();

  /** @param logger - where warnings go by default; without one (and none per call), {@link warn} does nothing. */
  constructor(logger?: WarnLogger) {
    this.#logger = logger;
  }

  /**
   * Logs `msg` with `fields` (plus `suppressedSinceLastWarning`) unless a line for `key` was
   * logged less than 10 s ago; then only adds `count` to the suppressed total for the next line.
   * `logger` overrides the constructor's (e.g. a connection's child logger).
   */
  warn(key: string, count: number, fields: Record<string, unknown>, msg: string, logger: WarnLogger | undefined = this.#logger): void {
    if (logger === undefined) return;
    const now = performance.now();
    let state = this.#entries.get(key);
    if (state !== undefined && now - state.lastAt < WARNING_INTERVAL_MS) {
      state.suppressed += count;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    if (state === undefined) {
      if (this.#entries.size >= MAX_ENTRIES) this.#prune(now);
      state = { lastAt: now, suppressed: 0 };
      this.#entries.set(key, state);
    } else {
      state.lastAt = now;
      state.suppressed = 0;
    }
    logger.warn(
      { ...fields, suppressedSinceLastWarning: suppressed },
      suppressed > 0 ? `${msg} (${suppressed} more since the last warning)` : msg,
    );
  }

  /** Forgets every key (flush, close). */
  clear(): void {
    this.#entries.clear();
  }

  #prune(now: number): void {
    for (const [key, state] of this.#entries) {
      if (now - state.lastAt >= WARNING_INTERVAL_MS) this.#entries.delete(key);
    }
  }
}
