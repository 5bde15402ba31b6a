/**
 * A deadline helper for tests: poll a condition until it holds or time runs out, instead of
 * sleeping a guessed amount and then asserting (the race behind Channels' `asyncio.sleep(0.1)`
 * tests).
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Values `waitFor` keeps polling on. */
type Falsy = false | 0 | 0n | '' | null | undefined;

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long. Default 2_000 ms. */
  timeoutMs?: number;
  /** Pause between two polls. Default 5 ms. */
  intervalMs?: number;
  /** What was awaited, for the timeout error: e.g. `"receiver got 3 messages"`. */
  message?: string;
}

/**
 * Calls `fn` (sync or async) until it returns a truthy value and resolves with that value.
 * A call that throws counts as "not yet"; its error is kept as the `cause` of the timeout error.
 * `fn` is always called at least once, and once more at the deadline.
 *
 * @example
 * ```ts
 * await waitFor(() => received.length === 3, { message: 'receiver got 3 messages' });
 * const size = await waitFor(async () => (await layer.groupSize('g')) === 0);
 * ```
 * @throws Error `waitFor timed out after <timeoutMs> ms: <message>` (with the last value seen,
 *   and the last error as `cause`) when `fn` never returned a truthy value in time;
 *   RangeError for a negative or non-finite `timeoutMs` / `intervalMs`.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 2_000, intervalMs = 5, message }: WaitForOptions = {},
): Promise<Exclude<Awaited<T>, Falsy>> {
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError(`waitFor: timeoutMs must be a non-negative number of milliseconds, got ${timeoutMs}`);
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new RangeError(`waitFor: intervalMs must be a non-negative number of milliseconds, got ${intervalMs}`);
  const deadline = Date.now() + timeoutMs;
  let lastValue: unknown;
  let lastError: unknown;
  let hasError = false;
  for (;;) {
    const last = Date.now() >= deadline;
    try {
      const value = await fn();
      if (value) return value as Exclude<Awaited<T>, Falsy>;
      lastValue = value;
      hasError = false;
    } catch (err) {
      lastError = err;
      hasError = true;
    }
    if (last) break;
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const what = message ?? 'condition';
  const seen = hasError ? `last call threw: ${(lastError as Error)?.message ?? String(lastError)}` : `last value: ${describe(lastValue)}`;
  throw new Error(`waitFor timed out after ${timeoutMs} ms: ${what} (${seen})`, hasError ? { cause: lastError } : undefined);
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
