/**
 * The random word stream (SEEDS.md system 1, seed 001 example 1): `/one/` + `ws/any_url/`.
 *
 * The seed's consumer sleeps in a loop (`time.sleep(2)` a hundred times) and so holds a worker for
 * 200 s. Here each connection owns one timer: nothing runs between two words, the timer is cleared
 * the moment the socket closes, and no other connection ever waits for this one.
 */
import { generate } from 'random-words';
import { JsonWebsocketConsumer } from 'switchboard';

/** Options of a timed stream; see {@link TimedStreamConsumer.configure}. */
export interface TimedStreamOptions {
  /** Pause between two messages, in milliseconds. Default 2000 (the seed's `sleep(2)`). */
  intervalMs?: number;
  /** Messages per connection. Default 100 (the seed's `range(100)`). */
  count?: number;
}

/**
 * Base of the seed's "send something every 2 s, 100 times" consumers.
 *
 * On `connect()` it accepts, sends the first message at once (as the seed's loop does), then one
 * every `intervalMs` until `count` were sent; the connection then stays open and idle. The timer is
 * cleared in `disconnect()`, so a closed connection leaves no handle behind. Subclasses implement
 * {@link nextMessage}.
 */
export abstract class TimedStreamConsumer extends JsonWebsocketConsumer {
  /** Pause between two messages, in milliseconds. Override per subclass or use {@link configure}. */
  static intervalMs = 2000;
  /** Messages per connection. */
  static count = 100;

  #timer: NodeJS.Timeout | undefined;
  #sent = 0;

  /**
   * Returns a subclass with other defaults, for tests (`intervalMs: 20`) and configuration.
   * @throws RangeError when `intervalMs` is not a positive number of milliseconds or `count` not a
   *   non-negative integer.
   */
  static configure<T extends new (...args: any[]) => TimedStreamConsumer>(this: T, options: TimedStreamOptions): T {
    const base = this as unknown as typeof TimedStreamConsumer;
    const intervalMs = options.intervalMs ?? base.intervalMs;
    const count = options.count ?? base.count;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0 || intervalMs > 2 ** 31 - 1) {
      throw new RangeError(`${base.name}.configure: intervalMs must be 1 to 2147483647 milliseconds, got ${intervalMs}`);
    }
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`${base.name}.configure: count must be a whole number >= 0, got ${count}`);
    // `this` is a concrete subclass at run time (configure is called on WordStreamConsumer etc.).
    const Concrete = this as unknown as new (...args: any[]) => JsonWebsocketConsumer;
    const configured = class extends Concrete {};
    // Own statics shadow the inherited ones; the name stays the same in logs.
    Object.defineProperties(configured, {
      intervalMs: { value: intervalMs, enumerable: true },
      count: { value: count, enumerable: true },
      name: { value: base.name },
    });
    return configured as unknown as T;
  }

  /** The next message to send; called once per tick. */
  protected abstract nextMessage(): unknown;

  /** Messages sent so far on this connection. */
  get sentCount(): number {
    return this.#sent;
  }

  override connect(): void {
    this.accept();
    const { intervalMs, count } = this.constructor as typeof TimedStreamConsumer;
    if (count === 0) return;
    this.#tick();
    if (this.#sent < count) this.#timer = setInterval(() => this.#tick(), intervalMs);
  }

  override disconnect(_code: number): void {
    this.#stop();
  }

  #tick(): void {
    const { count } = this.constructor as typeof TimedStreamConsumer;
    // The socket may have closed between the timer firing and disconnect() running.
    if (!this.isOpen) {
      this.#stop();
      return;
    }
    this.#sent++;
    this.sendJson(this.nextMessage());
    if (this.#sent >= count) this.#stop();
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
 * path('ws/any_url/', WordStreamConsumer.configure({ intervalMs: 20, count: 5 })); // tests
 * ```
 */
export class WordStreamConsumer extends TimedStreamConsumer {
  protected override nextMessage(): { message: string } {
    return { message: randomWord() };
  }
}
