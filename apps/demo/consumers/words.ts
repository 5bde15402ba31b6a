/**
 * The random word stream (SEEDS.md system 1, seed 001 example 1): `/one/` + `ws/any_url/`.
 *
 * The seed's consumer sleeps in a loop (`time.sleep(2)` a hundred times) and so holds a worker for
 * 200 s. Here each connection owns one timer: nothing runs between two words, the timer is cleared
 * the moment the socket closes, and no other connection ever waits for this one.
 */
import { generate } from 'random-words';
import { JsonWebsocketConsumer, type EventMap, type RouteKwargs } from 'switchboard';

/** Options of a timed stream, its init arguments: `WordStreamConsumer.with(streamOptions({ intervalMs: 20 }))`. */
export interface TimedStreamOptions {
  /** Pause between two messages, in milliseconds. Default 2000 (the seed's `sleep(2)`). */
  readonly intervalMs?: number;
  /** Messages per connection. Default 100 (the seed's `range(100)`). */
  readonly count?: number;
}

/** The seed's pace: a message every 2 s, 100 of them. */
export const DEFAULT_STREAM_OPTIONS = Object.freeze({ intervalMs: 2000, count: 100 });

/**
 * Checks timed-stream options at routing time (configuration fails at start-up, not at the first
 * connection) and fills in the defaults.
 * @throws RangeError when `intervalMs` is not 1 to 2^31-1 milliseconds or `count` not a whole number >= 0.
 */
export function streamOptions(options: TimedStreamOptions = {}): Required<TimedStreamOptions> {
  const intervalMs = options.intervalMs ?? DEFAULT_STREAM_OPTIONS.intervalMs;
  const count = options.count ?? DEFAULT_STREAM_OPTIONS.count;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0 || intervalMs > 2 ** 31 - 1) {
    throw new RangeError(`streamOptions: intervalMs must be 1 to 2147483647 milliseconds, got ${intervalMs}`);
  }
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`streamOptions: count must be a whole number >= 0, got ${count}`);
  return { intervalMs, count };
}

/**
 * Base of the seed's "send something every 2 s, 100 times" consumers.
 *
 * On `connect()` it accepts, sends the first message at once (as the seed's loop does), then one
 * every `intervalMs` until `count` were sent; the connection then stays open and idle. The timer is
 * cleared in `disconnect()`, so a closed connection leaves no handle behind. Subclasses implement
 * {@link nextMessage}. Init arguments: {@link TimedStreamOptions} (default the seed's pace).
 */
export abstract class TimedStreamConsumer extends JsonWebsocketConsumer<RouteKwargs, EventMap, TimedStreamOptions | undefined> {
  readonly #intervalMs = this.args?.intervalMs ?? DEFAULT_STREAM_OPTIONS.intervalMs;
  readonly #count = this.args?.count ?? DEFAULT_STREAM_OPTIONS.count;
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;

  /** The next message to send; called once per tick. */
  protected abstract nextMessage(): unknown;

  /** Messages sent so far on this connection. */
  get sentCount(): number {
    return this.#sent;
  }

  override connect(): void {
    this.accept();
    if (this.#count === 0) return;
    this.#tick();
    if (this.#sent < this.#count) this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  override disconnect(_code: number): void {
    this.#stop();
  }

  #tick(): void {
    // The socket may have closed between the timer firing and disconnect() running.
    if (!this.isOpen) {
      this.#stop();
      return;
    }
    this.#sent++;
    this.sendJson(this.nextMessage());
    if (this.#sent >= this.#count) this.#stop();
  }

  #stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/** One random common English word from the `random-words` package's list. */
export function randomWord(): string {
  // generate() without options returns one word; the declared type is `string | string[]`.
  const word = generate();
  return Array.isArray(word) ? (word[0] ?? '') : word;
}

/**
 * `ws/any_url/` (alias `ws/words/`): sends `{"message": "<word>"}` every `intervalMs` (2000),
 * `count` (100) times, as seed 001's `OneConsumer` does, without blocking anything.
 *
 * @example
 * ```ts
 * path('ws/any_url/', WordStreamConsumer);
 * path('ws/any_url/', WordStreamConsumer.with(streamOptions({ intervalMs: 20, count: 5 }))); // tests
 * ```
 */
export class WordStreamConsumer extends TimedStreamConsumer {
  protected override nextMessage(): { message: string } {
    return { message: randomWord() };
  }
}
