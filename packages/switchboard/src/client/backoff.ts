/**
 * Reconnect delays: exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"), as Phoenix and Centrifuge clients do, so that clients dropped together
 * (a server restart) do not come back together.
 */

/** Backoff settings. Units are in the names. */
export interface BackoffOptions {
  /** First delay's upper bound. Default 500 ms. */
  minDelayMs?: number;
  /** Largest delay. Default 20 000 ms. */
  maxDelayMs?: number;
  /** Random source in [0, 1); injectable for tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): uniform in
 * `[minDelayMs / 2, min(maxDelayMs, minDelayMs * 2^attempt)]`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const min = options.minDelayMs ?? 500;
  const max = options.maxDelayMs ?? 20_000;
  const random = options.random ?? Math.random;
  const cap = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.round(min / 2 + random() * Math.max(0, cap - min / 2));
}
