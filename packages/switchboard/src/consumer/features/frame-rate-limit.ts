/**
 * Flood protection as a consumer feature: at most `limit` frames from the client per `windowMs`
 * (a token bucket, so bursts of `limit` pass), checked before a frame is queued. A refused frame
 * is dropped; the first refusal of a run and the last before closing reach the consumer's
 * `onRateLimited` (a JSON consumer answers `SB_ERR_RATE_LIMITED` with `retryAfterMs`); after
 * `maxRefusedFrames` in a row the connection closes with 4429 once the accepted frames ran
 * (Centrifuge's client rate limits; graphql-ws 4429).
 */
import { RateLimitedError } from '../../errors.js';
import { RateLimiter } from '../../middleware/rate-limit.js';
import type { ConsumerFeature, FeatureContext } from '../feature.js';

/** Options of {@link frameRateLimit}. */
export interface FrameRateLimitOptions {
  /** Frames allowed per window (the bucket's size), at least 1. */
  readonly limit: number;
  /** Window in milliseconds over which `limit` frames refill. */
  readonly windowMs: number;
  /** Refusals in a row that close the connection with 4429. Default 10. */
  readonly maxRefusedFrames?: number;
}

class FrameRateLimit implements ConsumerFeature {
  readonly name = 'frameRateLimit';
  readonly #options: FrameRateLimitOptions;
  #limiter: RateLimiter | undefined;
  #refusedInARow = 0;

  constructor(options: FrameRateLimitOptions) {
    this.#options = options;
  }

  frame(_frame: unknown, context: FeatureContext): boolean {
    const { limit, windowMs, maxRefusedFrames = 10 } = this.#options;
    this.#limiter ??= new RateLimiter({ limit, windowMs, maxKeys: 1 });
    const result = this.#limiter.consume('frames');
    if (result.allowed) {
      this.#refusedInARow = 0;
      return true;
    }
    this.#refusedInARow++;
    if (this.#refusedInARow > maxRefusedFrames) return false; // closing already queued
    const close = this.#refusedInARow === maxRefusedFrames;
    const err = new RateLimitedError(
      close
        ? `${this.#refusedInARow} frames refused in a row (limit ${limit} per ${windowMs} ms); closing`
        : `too many messages: at most ${limit} per ${windowMs} ms; this one was dropped, retry in ${result.retryAfterMs} ms`,
      result.retryAfterMs,
    );
    if (close) {
      context.failAfterQueued(err);
    } else if (this.#refusedInARow === 1 || this.#refusedInARow === maxRefusedFrames - 1) {
      // First refusal and last warning are answered; the ones between are dropped silently so a
      // flood does not turn into a flood of error frames.
      context.consumer.logger.warn({ code: err.code, refused: this.#refusedInARow }, err.message);
      try {
        context.consumer.onRateLimited(err);
      } catch (e) {
        context.failAfterQueued(e as Error);
      }
    }
    return false;
  }
}

/**
 * A frame rate limit for one connection, e.g. `frameRateLimit({ limit: 100, windowMs: 10_000 })`.
 * @throws RangeError for a `limit` or `windowMs` that is not a positive number (from the limiter,
 *   at the first frame).
 */
export function frameRateLimit(options: FrameRateLimitOptions): ConsumerFeature {
  return new FrameRateLimit(options);
}
