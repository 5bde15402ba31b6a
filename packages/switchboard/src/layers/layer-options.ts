/**
 * The options every channel layer understands, their defaults and their checks
 * (docs/channel-layer-spec.md §8). Configuration fails at start-up, not on the first message
 * (STYLE.md §4): an unknown key, a wrong type or a value out of range throws from the layer's
 * constructor.
 */

/**
 * Per-channel capacities (channels_redis `channel_capacity`): a channel name matching a pattern
 * holds at most that many messages instead of `capacity`; the first matching pattern wins.
 * A string is a glob as Python's `fnmatch` reads it (`*` any run, `?` one character, `[seq]`,
 * `[!seq]`), matched against the whole name; a RegExp is tested as it is (anchor it yourself).
 * @example `{ 'jobs.*': 1_000, 'specific.*': 20 }` or `[[/^jobs\./, 1_000]]`
 */
export type ChannelCapacityOption = Readonly<Record<string, number>> | ReadonlyArray<readonly [string | RegExp, number]>;

/** Options every layer understands. Units are in the names. */
export interface ChannelLayerOptions {
  /** Max messages queued per channel (Channels spec "capacity"), a whole number. Default 100. */
  capacity?: number;
  /** Capacities for channel names matching a pattern; see {@link ChannelCapacityOption}. Default none. */
  channelCapacity?: ChannelCapacityOption;
  /** A queued message older than this is dropped. Default 60_000 ms. */
  expiryMs?: number;
  /** A group membership not refreshed for this long is dropped. Default 86_400_000 ms (24 h). */
  groupExpiryMs?: number;
  /** Max size of an encoded message. Default 1_048_576 bytes (1 MiB). */
  maxMessageBytes?: number;
}

/** The effective options of a layer, defaults filled in (`layer.options`). */
export interface ResolvedLayerOptions {
  readonly capacity: number;
  /** `[pattern, capacity]` in the order given, globs compiled; empty without the option. */
  readonly channelCapacity: ReadonlyArray<readonly [RegExp, number]>;
  readonly expiryMs: number;
  readonly groupExpiryMs: number;
  readonly maxMessageBytes: number;
}

/** Default option values (DESIGN.md §3). */
export const DEFAULT_LAYER_OPTIONS: ResolvedLayerOptions = Object.freeze({
  capacity: 100,
  channelCapacity: Object.freeze([]),
  expiryMs: 60_000,
  groupExpiryMs: 86_400_000,
  maxMessageBytes: 1_048_576,
});

const NUMERIC_KEYS = ['capacity', 'expiryMs', 'groupExpiryMs', 'maxMessageBytes'] as const;
const KNOWN_KEYS: readonly string[] = [...NUMERIC_KEYS, 'channelCapacity'];

/**
 * Fills in defaults and checks every option.
 * @param options - the common options only: a layer strips its own keys (`logger`, `url`, ...)
 *   before calling this, so any key left over is a typo.
 * @param owner - names the layer in messages, e.g. `'InMemoryChannelLayer'`.
 * @param ownKeys - the layer's own option names, listed in the unknown-key message.
 * @throws TypeError for an unknown key (naming the closest known one) or a value of the wrong type;
 *   RangeError for a number that is not positive and finite, or a capacity that is not whole.
 */
export function resolveLayerOptions(options: ChannelLayerOptions = {}, owner = 'channel layer', ownKeys: readonly string[] = []): ResolvedLayerOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`${owner} options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options)) {
    if (KNOWN_KEYS.includes(key)) continue;
    const known = [...KNOWN_KEYS, ...ownKeys];
    const near = closest(key, known);
    throw new TypeError(`${owner} option ${JSON.stringify(key)} is unknown${near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`} Known options: ${known.join(', ')}`);
  }
  const resolved: { -readonly [K in keyof ResolvedLayerOptions]: ResolvedLayerOptions[K] } = { ...DEFAULT_LAYER_OPTIONS };
  for (const key of NUMERIC_KEYS) {
    const value: unknown = options[key];
    if (value === undefined) continue;
    resolved[key] = checkPositive(`${owner} option ${key}`, value);
  }
  if (!Number.isInteger(resolved.capacity)) {
    throw new RangeError(`${owner} option capacity must be a whole number of messages, got ${resolved.capacity}`);
  }
  if (options.channelCapacity !== undefined) resolved.channelCapacity = compileChannelCapacity(options.channelCapacity, owner);
  return Object.freeze(resolved);
}

/**
 * The capacity of `channel` under `options`: the first `channelCapacity` pattern it matches, else
 * `capacity` (channels_redis `get_capacity`). Layers whose options lack `channelCapacity` get
 * `capacity`.
 */
export function channelCapacityFor(options: Pick<ResolvedLayerOptions, 'capacity'> & Partial<Pick<ResolvedLayerOptions, 'channelCapacity'>>, channel: string): number {
  for (const [pattern, capacity] of options.channelCapacity ?? []) if (pattern.test(channel)) return capacity;
  return options.capacity;
}

/** Translates an `fnmatch` glob into an anchored RegExp (Python `fnmatch.translate`). */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let set = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      else if (set.startsWith('^')) set = `\\${set}`;
      source += `[${set}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${source})$`, 's');
}

function compileChannelCapacity(option: ChannelCapacityOption, owner: string): ReadonlyArray<readonly [RegExp, number]> {
  if (typeof option !== 'object' || option === null) {
    throw new TypeError(`${owner} option channelCapacity must be {pattern: capacity} or [[pattern, capacity], ...], got ${describeValue(option)}`);
  }
  const entries: ReadonlyArray<unknown> = Array.isArray(option) ? option : Object.entries(option);
  return Object.freeze(
    entries.map((entry, i) => {
      const [pattern, capacity] = Array.isArray(entry) ? entry : [undefined, undefined];
      const what = `${owner} option channelCapacity[${i}]`;
      if (typeof pattern !== 'string' && !(pattern instanceof RegExp)) throw new TypeError(`${what}: the pattern must be a glob string or a RegExp, got ${describeValue(pattern)}`);
      const value = checkPositive(`${what} (${String(pattern)})`, capacity);
      if (!Number.isInteger(value)) throw new RangeError(`${what} (${String(pattern)}): the capacity must be a whole number of messages, got ${value}`);
      return Object.freeze([typeof pattern === 'string' ? globToRegExp(pattern) : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')), value] as const);
    }),
  );
}

function checkPositive(what: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number, got ${describeValue(value)}`);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${what} must be a positive finite number, got ${value}`);
  return value;
}

/** A short, safe description of any value for an error message (never throws). */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `the BigInt ${value}n`;
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return `a symbol (${String(value.description)})`;
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length}`;
      return `an object (${Object.keys(value as object).slice(0, 3).join(', ') || 'no keys'})`;
  }
}

/** The known name within two edits of `key`, if any (for "did you mean"). */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}
