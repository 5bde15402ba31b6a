/**
 * One copy of the strings every connection's scope repeats (docs/architecture.md, "Memory per
 * connection"). Node's HTTP parser makes fresh strings for each request, so 5,000 clients that
 * send the same `Host`, `User-Agent` and `Origin`, from a handful of addresses to one path, would
 * otherwise hold 5,000 copies of each. The cache is bounded: when it holds `limit` strings it is
 * emptied and fills again with what comes next, so a flood of distinct values costs at most
 * `limit` entries and the values of the moment are shared again soon after.
 */
export class StringInterner {
  readonly #limit: number;
  #strings = new Map<string, string>();

  /** @param limit - most strings held (default 1,024). */
  constructor(limit = 1024) {
    this.#limit = limit;
  }

  /** The held string equal to `value`, or `value`, held from now on. */
  intern(value: string): string {
    const held = this.#strings.get(value);
    if (held !== undefined) return held;
    if (this.#strings.size >= this.#limit) this.#strings = new Map();
    this.#strings.set(value, value);
    return value;
  }

  /** Strings held now (tests). */
  get size(): number {
    return this.#strings.size;
  }
}

/**
 * Request headers whose values differ per connection or are secrets: never interned (a secret
 * kept in a process-wide cache would outlive its connection).
 */
export const UNSHARED_HEADERS: ReadonlySet<string> = new Set(['sec-websocket-key', 'cookie', 'authorization', 'proxy-authorization']);
