/**
 * What the channel-layer conformance cases share: the test context, unique names, and helpers
 * that wait with a deadline instead of sleeping (deliveries may cross processes).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { SwitchboardError } from '../errors.js';
import type { ChannelLayer, ChannelLayerOptions, LayerMessage } from '../layers/channel-layer.js';

/** What a test body gets: a fresh layer, and ways to open more. */
export interface TestContext {
  readonly layer: ChannelLayer;
  /**
   * Another layer sharing `layer`'s groups and channels, as another process would (closed after
   * the test). For a layer without `capabilities.crossProcess` it is `layer` itself; a
   * cross-process layer run without `peerFactory` skips the rest of the test.
   */
  peer(): Promise<ChannelLayer>;
  /** Opens another layer with `options` (closed after the test). Only for `needsOptions` cases. */
  withOptions(options: ChannelLayerOptions): Promise<ChannelLayer>;
  /** Skips the rest of the test at run time (for capability-dependent tests). */
  skip(reason: string): void;
}

export interface ConformanceCase {
  readonly name: string;
  /** Needs `factoryWithOptions`. */
  readonly needsOptions?: boolean;
  run(ctx: TestContext): Promise<void>;
}

/** Upper bound for one delivery across processes. */
export const DEADLINE_MS = 2_000;

export const uid = (): string => randomBytes(6).toString('hex');
/** A unique group name, so tests sharing a Redis server never see each other's groups. */
export const groupName = (): string => `conformance.group.${uid()}`;
/** A unique named (worker) channel, i.e. one without `!`. */
export const namedChannel = (): string => `conformance.worker.${uid()}`;

/** A unique named channel that is the one member of a unique group of `layer`. */
export async function namedMember(layer: ChannelLayer): Promise<{ channel: string; group: string }> {
  const channel = namedChannel();
  const group = groupName();
  await layer.groupAdd(group, channel);
  return { channel, group };
}

/** Resolves with the next message of `channel`, or fails after `timeoutMs`. */
export async function receiveWithin(layer: ChannelLayer, channel: string, timeoutMs = DEADLINE_MS): Promise<LayerMessage> {
  return settlesWithin(layer.receive(channel), timeoutMs, `receive(${JSON.stringify(channel)}) got nothing`);
}

/**
 * Settles like `promise`, or rejects with a plain `Error` ("<what> within <ms> ms") when it has
 * not settled by then. The abandoned promise is rejected by `close()` at teardown; that
 * rejection is not left unhandled.
 */
export async function settlesWithin<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  promise.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A push receiver that records what it gets and answers `accept`. */
export function recorder(accept = true): { messages: LayerMessage[]; receiver: (message: LayerMessage) => boolean } {
  const messages: LayerMessage[] = [];
  return {
    messages,
    receiver(message) {
      messages.push(message);
      return accept;
    },
  };
}

/** Asserts that `fn` rejects with `ErrorClass` carrying `code`, and a message matching `pattern`. */
export async function assertRejectsWith(
  fn: () => Promise<unknown>,
  ErrorClass: new (...args: never[]) => SwitchboardError,
  code: string,
  pattern?: RegExp,
  what = '',
): Promise<void> {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof ErrorClass, `${what}: expected ${ErrorClass.name}, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: error code`);
    if (pattern !== undefined) assert.match(err.message, pattern, `${what}: error message`);
    return true;
  });
}

/** Waiting for time itself to pass (an expiry), not for an asynchronous effect. */
export async function elapse(ms: number): Promise<void> {
  await delay(ms);
}

export const BAD_CHANNEL_NAMES: Array<[unknown, string]> = [
  ['has space', 'a space'],
  ['', 'an empty name'],
  ['a'.repeat(100), '100 characters'],
  [42, 'a number'],
  ['a!b!c', 'two "!"'],
  ['caf\u00e9', 'a non-ASCII character'],
];

export const BAD_GROUP_NAMES: Array<[unknown, RegExp, string]> = [
  ['chat room', /" " at index 4/, 'a space'],
  ['a'.repeat(100), /100 characters.*99/, '100 characters'],
  ['', /empty/, 'an empty name'],
  [42, /must be a string/, 'a number'],
  ['local!x', /"!" at index 5/, 'a "!"'],
];
