/**
 * The channel-layer conformance suite: every layer (in-memory, Redis, yours) runs the same tests
 * of the contract in `docs/channel-layer-spec.md`. Exported for layer authors, after Hono's
 * shared router tests and Centrifuge's shared broker tests.
 *
 * It only uses the public `ChannelLayer` interface, so it holds for cross-process layers too:
 * deliveries may be asynchronous, so every check on a delivery waits with a deadline
 * ({@link waitFor}, 2 s) instead of sleeping and asserting.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ChannelFullError,
  InvalidChannelNameError,
  InvalidGroupNameError,
  InvalidMessageError,
  LayerClosedError,
  MessageTooLargeError,
  type SwitchboardError,
} from '../errors.js';
import type { ChannelLayer, ChannelLayerOptions, LayerMessage } from '../layers/channel-layer.js';
import { waitFor } from './wait-for.js';

/** Creates a fresh layer for one test. */
export type ChannelLayerFactory = () => ChannelLayer | Promise<ChannelLayer>;

/** Creates a fresh layer with the given options (merged over the factory's own settings). */
export type ChannelLayerFactoryWithOptions = (options: ChannelLayerOptions) => ChannelLayer | Promise<ChannelLayer>;

/** Options of {@link runChannelLayerConformance}. */
export interface ChannelLayerConformanceOptions {
  /**
   * Tests this layer does not pass, by exact test name (see {@link CHANNEL_LAYER_CONFORMANCE_TESTS}),
   * each group with the reason it is skipped. An unknown name throws, so a renamed test cannot
   * be skipped silently.
   */
  skip?: Array<{ reason: string; tests: string[] }>;
  /**
   * Makes a layer with small `expiryMs` / `groupExpiryMs` / `capacity` for the expiry and option
   * tests. Without it those tests are skipped (with that reason).
   */
  factoryWithOptions?: ChannelLayerFactoryWithOptions;
}

/** What a test body gets: a fresh layer, and a way to open more with options. */
interface TestContext {
  readonly layer: ChannelLayer;
  /** Opens another layer with `options` (closed after the test). Only for `needsOptions` cases. */
  withOptions(options: ChannelLayerOptions): Promise<ChannelLayer>;
  /** Skips the rest of the test at run time (for capability-dependent tests). */
  skip(reason: string): void;
}

interface ConformanceCase {
  readonly name: string;
  /** Needs {@link ChannelLayerConformanceOptions.factoryWithOptions}. */
  readonly needsOptions?: boolean;
  run(ctx: TestContext): Promise<void>;
}

/** Upper bound for one delivery across processes. */
const DEADLINE_MS = 2_000;

const uid = (): string => randomBytes(6).toString('hex');
/** A unique group name, so tests sharing a Redis server never see each other's groups. */
const groupName = (): string => `conformance.group.${uid()}`;
/** A unique named (worker) channel, i.e. one without `!`. */
const namedChannel = (): string => `conformance.worker.${uid()}`;

/** Resolves with the next message of `channel`, or fails after `timeoutMs`. */
async function receiveWithin(layer: ChannelLayer, channel: string, timeoutMs = DEADLINE_MS): Promise<LayerMessage> {
  const pending = layer.receive(channel);
  // The abandoned receive is rejected by close() at teardown; do not let that go unhandled.
  pending.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`receive(${JSON.stringify(channel)}) got nothing within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([pending, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A push receiver that records what it gets and answers `accept`. */
function recorder(accept = true): { messages: LayerMessage[]; receiver: (message: LayerMessage) => boolean } {
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
async function assertRejectsWith(
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
async function elapse(ms: number): Promise<void> {
  await delay(ms);
}

const BAD_CHANNEL_NAMES: Array<[unknown, string]> = [
  ['has space', 'a space'],
  ['', 'an empty name'],
  ['a'.repeat(100), '100 characters'],
  [42, 'a number'],
  ['a!b!c', 'two "!"'],
  ['caf\u00e9', 'a non-ASCII character'],
];

const BAD_GROUP_NAMES: Array<[unknown, RegExp, string]> = [
  ['chat room', /" " at index 4/, 'a space'],
  ['a'.repeat(100), /100 characters.*99/, '100 characters'],
  ['', /empty/, 'an empty name'],
  [42, /must be a string/, 'a number'],
  ['local!x', /"!" at index 5/, 'a "!"'],
];

const CASES: ConformanceCase[] = [
  {
    name: 'newChannel returns unique names of the form prefix.id!id',
    async run({ layer }) {
      const names = new Set<string>();
      for (let i = 0; i < 1_000; i++) names.add(await layer.newChannel());
      assert.equal(names.size, 1_000, 'names are unique');
      for (const name of names) {
        assert.match(name, /^specific\.[A-Za-z0-9._-]+![A-Za-z0-9._-]+$/);
        assert.ok(name.length <= 199, `${name} is at most 199 characters`);
      }
    },
  },
  {
    name: 'newChannel uses the given prefix and refuses a bad one with InvalidChannelNameError',
    async run({ layer }) {
      assert.match(await layer.newChannel('chat'), /^chat\.[A-Za-z0-9._-]+![A-Za-z0-9._-]+$/);
      assert.match(await layer.newChannel('a.b-c_d'), /^a\.b-c_d\./);
      for (const prefix of ['bad prefix', 'a!b', '', 'p'.repeat(99)]) {
        await assertRejectsWith(() => layer.newChannel(prefix), InvalidChannelNameError, 'SB_ERR_INVALID_CHANNEL_NAME', undefined, `newChannel(${JSON.stringify(prefix.slice(0, 20))})`);
      }
    },
  },
  {
    name: 'send and receive keep FIFO order on a named channel',
    async run({ layer }) {
      const channel = namedChannel();
      for (let i = 0; i < 10; i++) await layer.send(channel, { type: 'test.message', i });
      for (let i = 0; i < 10; i++) assert.equal((await receiveWithin(layer, channel)).i, i);
    },
  },
  {
    name: 'send and receive keep FIFO order on a process-local channel',
    async run({ layer }) {
      const channel = await layer.newChannel();
      for (let i = 0; i < 10; i++) await layer.send(channel, { type: 'test.message', i });
      for (let i = 0; i < 10; i++) assert.equal((await receiveWithin(layer, channel)).i, i);
    },
  },
  {
    name: 'receive waits for a later send and serves several waiters in call order',
    async run({ layer }) {
      const channel = namedChannel();
      const first = receiveWithin(layer, channel);
      const second = receiveWithin(layer, channel);
      await layer.send(channel, { type: 'test.message', n: 1 });
      await layer.send(channel, { type: 'test.message', n: 2 });
      assert.equal((await first).n, 1);
      assert.equal((await second).n, 2);
    },
  },
  {
    name: 'messages keep their JSON content through the layer',
    async run({ layer }) {
      const message = {
        type: 'test.content',
        text: 'héllo ✓ 😀 "quoted" \\ \n',
        n: -1.5,
        big: 2 ** 53 - 1,
        flag: false,
        none: null,
        nested: { list: [1, 'two', { three: 3 }], empty: {} },
      };
      const channel = namedChannel();
      await layer.send(channel, message);
      assert.deepEqual(await receiveWithin(layer, channel), message);
      const local = await layer.newChannel();
      const got = recorder();
      layer.attach(local, got.receiver);
      await layer.send(local, message);
      await waitFor(() => got.messages.length === 1, { message: 'the receiver got the message' });
      assert.deepEqual(got.messages[0], message);
    },
  },
  {
    name: 'send refuses bad channel names with InvalidChannelNameError',
    async run({ layer }) {
      for (const [name, what] of BAD_CHANNEL_NAMES) {
        for (const op of ['send', 'receive', 'groupAdd', 'groupDiscard', 'releaseChannel'] as const) {
          const call = (): Promise<unknown> => {
            switch (op) {
              case 'send':
                return layer.send(name as string, { type: 'test.message' });
              case 'receive':
                return layer.receive(name as string);
              case 'groupAdd':
                return layer.groupAdd(groupName(), name as string);
              case 'groupDiscard':
                return layer.groupDiscard(groupName(), name as string);
              case 'releaseChannel':
                return layer.releaseChannel(name as string);
            }
          };
          await assertRejectsWith(call, InvalidChannelNameError, 'SB_ERR_INVALID_CHANNEL_NAME', undefined, `${op} with ${what}`);
        }
        assert.throws(
          () => layer.attach(name as string, () => true),
          (err: unknown) => err instanceof InvalidChannelNameError && err.code === 'SB_ERR_INVALID_CHANNEL_NAME',
          `attach with ${what}`,
        );
      }
    },
  },
  {
    name: 'group operations refuse bad group names with InvalidGroupNameError naming the problem',
    async run({ layer }) {
      const channel = await layer.newChannel();
      for (const [name, pattern, what] of BAD_GROUP_NAMES) {
        const group = name as string;
        const code = 'SB_ERR_INVALID_GROUP_NAME';
        await assertRejectsWith(() => layer.groupAdd(group, channel), InvalidGroupNameError, code, pattern, `groupAdd with ${what}`);
        await assertRejectsWith(() => layer.groupDiscard(group, channel), InvalidGroupNameError, code, pattern, `groupDiscard with ${what}`);
        await assertRejectsWith(() => layer.groupSend(group, { type: 'test.message' }), InvalidGroupNameError, code, pattern, `groupSend with ${what}`);
        if (layer.capabilities.groupSize) {
          await assertRejectsWith(() => layer.groupSize(group), InvalidGroupNameError, code, pattern, `groupSize with ${what}`);
        }
      }
    },
  },
  {
    name: 'send and groupSend refuse a message without a string type with InvalidMessageError',
    async run({ layer }) {
      const channel = namedChannel();
      const group = groupName();
      await layer.groupAdd(group, channel);
      const bad: Array<[unknown, string]> = [
        [{}, 'no type'],
        [{ type: 3 }, 'a numeric type'],
        [{ type: '' }, 'an empty type'],
        [null, 'null'],
        [[{ type: 'x' }], 'an array'],
        ['chat.message', 'a string'],
      ];
      for (const [message, what] of bad) {
        const m = message as LayerMessage;
        await assertRejectsWith(() => layer.send(channel, m), InvalidMessageError, 'SB_ERR_INVALID_MESSAGE', undefined, `send with ${what}`);
        await assertRejectsWith(() => layer.groupSend(group, m), InvalidMessageError, 'SB_ERR_INVALID_MESSAGE', undefined, `groupSend with ${what}`);
      }
      await layer.send(channel, { type: 'test.marker' });
      assert.equal((await receiveWithin(layer, channel)).type, 'test.marker', 'nothing invalid was queued');
    },
  },
  {
    name: 'send and groupSend refuse a type starting with "_" with InvalidMessageError',
    async run({ layer }) {
      const channel = namedChannel();
      const group = groupName();
      await layer.groupAdd(group, channel);
      const message = { type: '_private.event' };
      await assertRejectsWith(() => layer.send(channel, message), InvalidMessageError, 'SB_ERR_INVALID_MESSAGE', /"_private\.event"/, 'send');
      await assertRejectsWith(() => layer.groupSend(group, message), InvalidMessageError, 'SB_ERR_INVALID_MESSAGE', /"_private\.event"/, 'groupSend');
    },
  },
  {
    name: 'send and groupSend refuse non-serialisable messages (BigInt, circular) with InvalidMessageError',
    async run({ layer }) {
      const channel = namedChannel();
      const group = groupName();
      await layer.groupAdd(group, channel);
      const circular: Record<string, unknown> = { type: 'test.circular' };
      circular.self = circular;
      const cases: Array<[LayerMessage, string]> = [
        [{ type: 'test.bigint', n: 10n }, 'a BigInt'],
        [circular as LayerMessage, 'a circular reference'],
      ];
      for (const [message, what] of cases) {
        await assertRejectsWith(() => layer.send(channel, message), InvalidMessageError, 'SB_ERR_INVALID_MESSAGE', /serialisable/, `send with ${what}`);
        await assertRejectsWith(() => layer.groupSend(group, message), InvalidMessageError, 'SB_ERR_INVALID_MESSAGE', /serialisable/, `groupSend with ${what}`);
      }
    },
  },
  {
    name: 'send and groupSend refuse a message over maxMessageBytes with MessageTooLargeError',
    async run({ layer }) {
      const limit = layer.options.maxMessageBytes;
      const channel = namedChannel();
      const group = groupName();
      await layer.groupAdd(group, channel);
      const ascii = { type: 'test.big', data: 'x'.repeat(limit) };
      // Fewer characters than the limit, more bytes: the limit is on the UTF-8 encoding.
      const multibyte = { type: 'test.big', data: '\u00e9'.repeat(Math.ceil(limit / 2)) };
      for (const [message, what] of [[ascii, 'ASCII'], [multibyte, 'two-byte characters']] as const) {
        await assertRejectsWith(() => layer.send(channel, message), MessageTooLargeError, 'SB_ERR_MESSAGE_TOO_LARGE', /maxMessageBytes/, `send with ${what}`);
        await assertRejectsWith(() => layer.groupSend(group, message), MessageTooLargeError, 'SB_ERR_MESSAGE_TOO_LARGE', /maxMessageBytes/, `groupSend with ${what}`);
      }
      // Just under the limit is fine.
      const fits = { type: 'test.big', data: 'x'.repeat(limit - 64) };
      await layer.send(channel, fits);
      assert.equal(((await receiveWithin(layer, channel)).data as string).length, limit - 64);
    },
  },
  {
    name: 'send throws ChannelFullError once a channel holds capacity messages',
    async run({ layer }) {
      const capacity = layer.options.capacity;
      const channel = namedChannel();
      for (let i = 0; i < capacity; i++) await layer.send(channel, { type: 'test.message', i });
      await assertRejectsWith(() => layer.send(channel, { type: 'test.message', i: capacity }), ChannelFullError, 'SB_ERR_CHANNEL_FULL', undefined, 'send to a full channel');
      assert.equal((await receiveWithin(layer, channel)).i, 0);
      await layer.send(channel, { type: 'test.message', i: 'again' });
      for (let i = 1; i < capacity; i++) assert.equal((await receiveWithin(layer, channel)).i, i);
      assert.equal((await receiveWithin(layer, channel)).i, 'again');
    },
  },
  {
    name: 'send throws ChannelFullError when the attached receiver reports it is full',
    async run({ layer }) {
      const channel = await layer.newChannel();
      let accept = false;
      const got: LayerMessage[] = [];
      layer.attach(channel, (message) => {
        if (accept) got.push(message);
        return accept;
      });
      await assertRejectsWith(() => layer.send(channel, { type: 'test.message' }), ChannelFullError, 'SB_ERR_CHANNEL_FULL', undefined, 'send to a full receiver');
      accept = true;
      await layer.send(channel, { type: 'test.message', n: 2 });
      await waitFor(() => got.length === 1, { message: 'the receiver got the second message' });
      assert.equal(got[0]!.n, 2);
    },
  },
  {
    name: 'groupSend skips a member whose receiver is full, counts the drop and still reaches the others',
    async run({ layer }) {
      const group = groupName();
      const ok = recorder(true);
      const full = recorder(false);
      const okChannel = await layer.newChannel();
      const fullChannel = await layer.newChannel();
      const queued = namedChannel();
      layer.attach(okChannel, ok.receiver);
      layer.attach(fullChannel, full.receiver);
      for (const channel of [okChannel, fullChannel, queued]) await layer.groupAdd(group, channel);
      const dropsBefore = layer.stats.groupSendDrops;
      const result = await layer.groupSend(group, { type: 'test.broadcast' });
      await waitFor(() => ok.messages.length === 1, { message: 'the other attached member got the message' });
      assert.equal((await receiveWithin(layer, queued)).type, 'test.broadcast');
      await waitFor(() => layer.stats.groupSendDrops === dropsBefore + 1, { message: 'stats.groupSendDrops grew by 1' });
      if (!layer.capabilities.crossProcess) assert.deepEqual(result, { recipients: 2, dropped: 1 });
    },
  },
  {
    name: 'groupSend skips a member whose queue is full and counts the drop',
    async run({ layer }) {
      const group = groupName();
      const fullChannel = namedChannel();
      const other = namedChannel();
      await layer.groupAdd(group, fullChannel);
      await layer.groupAdd(group, other);
      for (let i = 0; i < layer.options.capacity; i++) await layer.send(fullChannel, { type: 'test.fill', i });
      const dropsBefore = layer.stats.groupSendDrops;
      const result = await layer.groupSend(group, { type: 'test.broadcast' });
      assert.equal((await receiveWithin(layer, other)).type, 'test.broadcast');
      await waitFor(() => layer.stats.groupSendDrops === dropsBefore + 1, { message: 'stats.groupSendDrops grew by 1' });
      if (!layer.capabilities.crossProcess) assert.deepEqual(result, { recipients: 1, dropped: 1 });
      for (let i = 0; i < layer.options.capacity; i++) assert.equal((await receiveWithin(layer, fullChannel)).type, 'test.fill');
      await layer.send(fullChannel, { type: 'test.marker' });
      assert.equal((await receiveWithin(layer, fullChannel)).type, 'test.marker', 'the dropped message was not queued');
    },
  },
  {
    name: 'groupSend delivers one copy to every member, attached and queued',
    async run({ layer }) {
      const group = groupName();
      const a = recorder();
      const b = recorder();
      const channelA = await layer.newChannel();
      const channelB = await layer.newChannel();
      const queued = namedChannel();
      const outsider = recorder();
      const outsiderChannel = await layer.newChannel();
      layer.attach(channelA, a.receiver);
      layer.attach(channelB, b.receiver);
      layer.attach(outsiderChannel, outsider.receiver);
      for (const channel of [channelA, channelB, queued]) await layer.groupAdd(group, channel);
      const result = await layer.groupSend(group, { type: 'test.broadcast', n: 1 });
      await waitFor(() => a.messages.length === 1 && b.messages.length === 1, { message: 'both attached members got the message' });
      assert.equal((await receiveWithin(layer, queued)).n, 1);
      if (layer.capabilities.crossProcess) assert.ok(result.recipients >= 1, 'the message was published to at least this process');
      else assert.deepEqual(result, { recipients: 3, dropped: 0 });
      // A direct marker after the broadcast proves nothing else arrives in between.
      await layer.send(channelA, { type: 'test.marker' });
      await waitFor(() => a.messages.length === 2, { message: 'the marker arrived' });
      assert.deepEqual(a.messages.map((m) => m.type), ['test.broadcast', 'test.marker']);
      assert.equal(b.messages.length, 1);
      assert.equal(outsider.messages.length, 0, 'a non-member got nothing');
    },
  },
  {
    name: 'groupSend hands the same frozen object to every local push receiver',
    async run({ layer }) {
      const group = groupName();
      const receivers = [recorder(), recorder(), recorder()];
      for (const r of receivers) {
        const channel = await layer.newChannel();
        layer.attach(channel, r.receiver);
        await layer.groupAdd(group, channel);
      }
      await layer.groupSend(group, { type: 'test.broadcast', payload: { text: 'hi' } });
      await waitFor(() => receivers.every((r) => r.messages.length === 1), { message: 'every receiver got the message' });
      const [first, ...rest] = receivers.map((r) => r.messages[0]!);
      for (const other of rest) assert.equal(other, first, 'the same object, not a copy');
      assert.ok(Object.isFrozen(first), 'the event is frozen');
      assert.deepEqual(first, { type: 'test.broadcast', payload: { text: 'hi' } });
    },
  },
  {
    name: 'groupSend to an empty or unknown group succeeds with 0 recipients',
    async run({ layer }) {
      assert.deepEqual(await layer.groupSend(groupName(), { type: 'test.nobody' }), { recipients: 0, dropped: 0 });
      const group = groupName();
      const channel = namedChannel();
      await layer.groupAdd(group, channel);
      await layer.groupDiscard(group, channel);
      assert.deepEqual(await layer.groupSend(group, { type: 'test.nobody' }), { recipients: 0, dropped: 0 });
    },
  },
  {
    name: 'groupAdd twice keeps one membership and delivers once',
    async run({ layer }) {
      const group = groupName();
      const r = recorder();
      const channel = await layer.newChannel();
      layer.attach(channel, r.receiver);
      await layer.groupAdd(group, channel);
      await layer.groupAdd(group, channel);
      await layer.groupSend(group, { type: 'test.broadcast' });
      await layer.send(channel, { type: 'test.marker' });
      await waitFor(() => r.messages.at(-1)?.type === 'test.marker', { message: 'the marker arrived' });
      assert.deepEqual(r.messages.map((m) => m.type), ['test.broadcast', 'test.marker']);
      if (layer.capabilities.groupSize) assert.equal(await layer.groupSize(group), 1);
    },
  },
  {
    name: 'groupDiscard removes a member and accepts a non-member',
    async run({ layer }) {
      const group = groupName();
      const stays = recorder();
      const leaves = recorder();
      const staysChannel = await layer.newChannel();
      const leavesChannel = await layer.newChannel();
      layer.attach(staysChannel, stays.receiver);
      layer.attach(leavesChannel, leaves.receiver);
      await layer.groupAdd(group, staysChannel);
      await layer.groupAdd(group, leavesChannel);
      await layer.groupDiscard(group, leavesChannel);
      await layer.groupDiscard(group, leavesChannel); // again: not a member any more
      await layer.groupDiscard(group, await layer.newChannel()); // never a member
      await layer.groupDiscard(groupName(), staysChannel); // unknown group
      await layer.groupSend(group, { type: 'test.broadcast' });
      await layer.send(leavesChannel, { type: 'test.marker' });
      await waitFor(() => stays.messages.length === 1 && leaves.messages.length === 1, { message: 'broadcast and marker arrived' });
      assert.equal(stays.messages[0]!.type, 'test.broadcast');
      assert.equal(leaves.messages[0]!.type, 'test.marker', 'the discarded member missed the broadcast');
    },
  },
  {
    name: 'releaseChannel removes the channel from its groups and drops its queue',
    async run({ layer }) {
      const groups = [groupName(), groupName()];
      const channel = namedChannel();
      const other = namedChannel();
      for (const group of groups) {
        await layer.groupAdd(group, channel);
        await layer.groupAdd(group, other);
      }
      await layer.send(channel, { type: 'test.before' });
      await layer.releaseChannel(channel);
      await layer.releaseChannel(channel); // again: nothing left to release
      for (const group of groups) {
        if (layer.capabilities.groupSize) assert.equal(await layer.groupSize(group), 1, `${group} lost the released member`);
        await layer.groupSend(group, { type: 'test.broadcast' });
        assert.equal((await receiveWithin(layer, other)).type, 'test.broadcast');
      }
      await layer.send(channel, { type: 'test.after' });
      assert.equal((await receiveWithin(layer, channel)).type, 'test.after', 'the queue and the group messages are gone');
    },
  },
  {
    name: 'releaseChannel detaches the receiver',
    async run({ layer }) {
      const channel = await layer.newChannel();
      const r = recorder();
      layer.attach(channel, r.receiver);
      await layer.releaseChannel(channel);
      await layer.send(channel, { type: 'test.after' });
      assert.equal((await receiveWithin(layer, channel)).type, 'test.after', 'the message was queued instead');
      assert.equal(r.messages.length, 0);
    },
  },
  {
    name: 'attach delivers previously queued messages in order, then new ones',
    async run({ layer }) {
      const channel = await layer.newChannel();
      for (let i = 0; i < 5; i++) await layer.send(channel, { type: 'test.message', i });
      const r = recorder();
      layer.attach(channel, r.receiver);
      await layer.send(channel, { type: 'test.message', i: 5 });
      await waitFor(() => r.messages.length === 6, { message: 'all 6 messages arrived' });
      assert.deepEqual(r.messages.map((m) => m.i), [0, 1, 2, 3, 4, 5]);
    },
  },
  {
    name: 'attach again replaces the receiver',
    async run({ layer }) {
      const channel = await layer.newChannel();
      const first = recorder();
      const second = recorder();
      layer.attach(channel, first.receiver);
      await layer.send(channel, { type: 'test.message', n: 1 });
      await waitFor(() => first.messages.length === 1, { message: 'the first receiver got message 1' });
      layer.attach(channel, second.receiver);
      await layer.send(channel, { type: 'test.message', n: 2 });
      await waitFor(() => second.messages.length === 1, { message: 'the second receiver got message 2' });
      assert.equal(first.messages.length, 1);
      assert.equal(second.messages[0]!.n, 2);
    },
  },
  {
    name: 'an attached receiver gets 1,000 messages in FIFO order',
    async run({ layer }) {
      const channel = await layer.newChannel();
      const r = recorder();
      layer.attach(channel, r.receiver);
      for (let i = 0; i < 1_000; i++) await layer.send(channel, { type: 'test.message', i });
      await waitFor(() => r.messages.length >= 1_000, { message: '1,000 messages arrived' });
      assert.equal(r.messages.length, 1_000);
      r.messages.forEach((m, i) => assert.equal(m.i, i, `message ${i} in order`));
    },
  },
  {
    name: 'groupSize counts the members of a group',
    async run({ layer, skip }) {
      if (!layer.capabilities.groupSize) return skip('capabilities.groupSize is false');
      const group = groupName();
      assert.equal(await layer.groupSize(group), 0, 'unknown group');
      const attached = await layer.newChannel();
      layer.attach(attached, () => true);
      const channels = [attached, namedChannel(), await layer.newChannel()];
      for (const channel of channels) await layer.groupAdd(group, channel);
      assert.equal(await layer.groupSize(group), 3);
      await layer.groupDiscard(group, channels[1]!);
      assert.equal(await layer.groupSize(group), 2);
      await layer.releaseChannel(attached);
      assert.equal(await layer.groupSize(group), 1);
    },
  },
  {
    name: 'flush removes queued messages and groups',
    async run({ layer, skip }) {
      if (!layer.capabilities.flush) return skip('capabilities.flush is false');
      const group = groupName();
      const channel = namedChannel();
      await layer.groupAdd(group, channel);
      await layer.send(channel, { type: 'test.before' });
      await layer.flush();
      if (layer.capabilities.groupSize) assert.equal(await layer.groupSize(group), 0);
      await layer.groupSend(group, { type: 'test.broadcast' });
      await layer.send(channel, { type: 'test.after' });
      assert.equal((await receiveWithin(layer, channel)).type, 'test.after');
    },
  },
  {
    name: 'a pending receive rejects with LayerClosedError when the layer closes',
    async run({ layer }) {
      const channel = namedChannel();
      const pending = layer.receive(channel);
      pending.catch(() => {});
      await layer.close();
      await assertRejectsWith(() => pending, LayerClosedError, 'SB_ERR_LAYER_CLOSED', undefined, 'pending receive');
    },
  },
  {
    name: 'every operation after close rejects with LayerClosedError, and close again is a no-op',
    async run({ layer }) {
      const channel = await layer.newChannel();
      const group = groupName();
      await layer.close();
      const code = 'SB_ERR_LAYER_CLOSED';
      const ops: Array<[string, () => Promise<unknown>]> = [
        ['newChannel', () => layer.newChannel()],
        ['send', () => layer.send(channel, { type: 'test.message' })],
        ['receive', () => layer.receive(channel)],
        ['groupAdd', () => layer.groupAdd(group, channel)],
        ['groupDiscard', () => layer.groupDiscard(group, channel)],
        ['groupSend', () => layer.groupSend(group, { type: 'test.message' })],
        ['groupSize', () => layer.groupSize(group)],
        ['releaseChannel', () => layer.releaseChannel(channel)],
        ['flush', () => layer.flush()],
      ];
      for (const [what, op] of ops) await assertRejectsWith(op, LayerClosedError, code, undefined, what);
      assert.throws(() => layer.attach(channel, () => true), (err: unknown) => err instanceof LayerClosedError && err.code === code, 'attach');
      assert.throws(() => layer.onLayerEvent(() => {}), (err: unknown) => err instanceof LayerClosedError && err.code === code, 'onLayerEvent');
      await layer.close();
    },
  },
  {
    name: 'onLayerEvent returns an unsubscribe function',
    async run({ layer }) {
      const unsubscribe = layer.onLayerEvent(() => {});
      assert.equal(typeof unsubscribe, 'function');
      unsubscribe();
      unsubscribe(); // idempotent
    },
  },
  {
    name: 'stats count sent messages, a groupSend once',
    async run({ layer }) {
      const before = layer.stats.messagesSent;
      const group = groupName();
      for (let i = 0; i < 3; i++) await layer.groupAdd(group, namedChannel());
      await layer.send(namedChannel(), { type: 'test.message' });
      await layer.groupSend(group, { type: 'test.broadcast' });
      assert.equal(layer.stats.messagesSent, before + 2);
      for (const key of ['messagesSent', 'groupSendDrops', 'messagesExpired'] as const) {
        assert.equal(typeof layer.stats[key], 'number', `stats.${key}`);
      }
    },
  },
  {
    name: 'options holds the effective values, defaults filled in',
    async run({ layer }) {
      for (const key of ['capacity', 'expiryMs', 'groupExpiryMs', 'maxMessageBytes'] as const) {
        const value = layer.options[key];
        assert.ok(typeof value === 'number' && Number.isFinite(value) && value > 0, `options.${key} is a positive number`);
      }
      for (const key of ['crossProcess', 'flush', 'groupSize'] as const) {
        assert.equal(typeof layer.capabilities[key], 'boolean', `capabilities.${key}`);
      }
    },
  },
  {
    name: 'options given to the layer are applied, and invalid ones throw RangeError',
    needsOptions: true,
    async run({ withOptions }) {
      const layer = await withOptions({ capacity: 3, expiryMs: 12_345, groupExpiryMs: 54_321, maxMessageBytes: 4_096 });
      assert.equal(layer.options.capacity, 3);
      assert.equal(layer.options.expiryMs, 12_345);
      assert.equal(layer.options.groupExpiryMs, 54_321);
      assert.equal(layer.options.maxMessageBytes, 4_096);
      const channel = namedChannel();
      for (let i = 0; i < 3; i++) await layer.send(channel, { type: 'test.message' });
      await assertRejectsWith(() => layer.send(channel, { type: 'test.message' }), ChannelFullError, 'SB_ERR_CHANNEL_FULL', undefined, 'capacity 3');
      await assertRejectsWith(() => layer.send(namedChannel(), { type: 'test.big', data: 'x'.repeat(4_096) }), MessageTooLargeError, 'SB_ERR_MESSAGE_TOO_LARGE', undefined, 'maxMessageBytes 4096');
      for (const bad of [{ capacity: 0 }, { expiryMs: -1 }, { groupExpiryMs: Number.NaN }, { maxMessageBytes: Infinity }]) {
        await assert.rejects(async () => withOptions(bad), RangeError, `options ${JSON.stringify(bad)}`);
      }
    },
  },
  {
    name: 'a queued message expires after expiryMs',
    needsOptions: true,
    async run({ withOptions }) {
      const expiryMs = 100;
      const layer = await withOptions({ expiryMs });
      const channel = namedChannel();
      await layer.send(channel, { type: 'test.old' });
      await elapse(expiryMs * 3);
      await layer.send(channel, { type: 'test.new' });
      assert.equal((await receiveWithin(layer, channel)).type, 'test.new', 'the old message expired');
    },
  },
  {
    name: 'group membership of a channel without a receiver expires after groupExpiryMs',
    needsOptions: true,
    async run({ withOptions }) {
      const groupExpiryMs = 100;
      const layer = await withOptions({ groupExpiryMs });
      const group = groupName();
      const channel = namedChannel();
      await layer.groupAdd(group, channel);
      await elapse(groupExpiryMs * 3);
      if (layer.capabilities.groupSize) {
        await waitFor(async () => (await layer.groupSize(group)) === 0, { message: 'groupSize dropped to 0' });
      }
      await layer.groupSend(group, { type: 'test.broadcast' });
      await layer.send(channel, { type: 'test.marker' });
      assert.equal((await receiveWithin(layer, channel)).type, 'test.marker', 'the expired member missed the broadcast');
    },
  },
  {
    name: 'groupAdd refreshes the membership expiry',
    needsOptions: true,
    async run({ withOptions, skip }) {
      const groupExpiryMs = 400;
      const layer = await withOptions({ groupExpiryMs });
      const group = groupName();
      const channel = namedChannel();
      const addedAt = Date.now();
      await layer.groupAdd(group, channel);
      await elapse(groupExpiryMs * 0.6);
      const refreshedAt = Date.now();
      await layer.groupAdd(group, channel);
      // Past the first expiry, before the refreshed one.
      await elapse(Math.max(0, addedAt + groupExpiryMs * 1.2 - Date.now()));
      const sentAt = Date.now();
      await layer.groupSend(group, { type: 'test.broadcast' });
      await layer.send(channel, { type: 'test.marker' });
      const first = await receiveWithin(layer, channel);
      // On a stalled event loop the refreshed membership may legitimately have expired too.
      if (sentAt - refreshedAt >= groupExpiryMs * 0.9) return skip('the event loop stalled past the refreshed expiry; timing inconclusive');
      assert.equal(first.type, 'test.broadcast', 'the refreshed member still got the broadcast');
    },
  },
  {
    name: 'group membership of a channel with an attached receiver does not expire',
    needsOptions: true,
    async run({ withOptions }) {
      const groupExpiryMs = 100;
      const layer = await withOptions({ groupExpiryMs });
      const group = groupName();
      const channel = await layer.newChannel();
      const r = recorder();
      layer.attach(channel, r.receiver);
      await layer.groupAdd(group, channel);
      await elapse(groupExpiryMs * 3);
      if (layer.capabilities.groupSize) assert.equal(await layer.groupSize(group), 1);
      await layer.groupSend(group, { type: 'test.broadcast' });
      await waitFor(() => r.messages.length === 1, { message: 'the attached member got the broadcast' });
    },
  },
];

/** Names of every conformance test, for {@link ChannelLayerConformanceOptions.skip}. */
export const CHANNEL_LAYER_CONFORMANCE_TESTS: readonly string[] = Object.freeze(CASES.map((c) => c.name));

/**
 * Registers the channel-layer conformance tests with `node:test`: one
 * `describe("channel layer conformance: <name>")`, one `it` per behaviour of
 * `docs/channel-layer-spec.md`. Each test gets a fresh layer from `factory` and flushes
 * (when `capabilities.flush`) and closes it afterwards.
 *
 * @param name - shown in the suite title, e.g. `'redis'`.
 * @param factory - makes a fresh layer; may be async (connect first).
 * @param options - `skip`: tests this layer does not pass, with the reason;
 *   `factoryWithOptions`: makes a layer with given options, for the expiry and option tests
 *   (skipped without it).
 * @throws Error at registration when `skip` names a test that does not exist.
 *
 * @example
 * ```ts
 * runChannelLayerConformance('redis', () => new RedisChannelLayer({ url, prefix: unique() }), {
 *   factoryWithOptions: (o) => new RedisChannelLayer({ url, prefix: unique(), ...o }),
 *   skip: [{ reason: 'Redis keys expire with 1 s precision', tests: ['a queued message expires after expiryMs'] }],
 * });
 * ```
 */
export function runChannelLayerConformance(
  name: string,
  factory: ChannelLayerFactory,
  options: ChannelLayerConformanceOptions = {},
): void {
  const skipReasons = new Map<string, string>();
  for (const { reason, tests } of options.skip ?? []) {
    for (const test of tests) {
      if (!CHANNEL_LAYER_CONFORMANCE_TESTS.includes(test)) {
        throw new Error(`runChannelLayerConformance(${JSON.stringify(name)}): skip names an unknown test ${JSON.stringify(test)}; the tests are listed in CHANNEL_LAYER_CONFORMANCE_TESTS`);
      }
      skipReasons.set(test, reason);
    }
  }
  const { factoryWithOptions } = options;

  describe(`channel layer conformance: ${name}`, () => {
    for (const testCase of CASES) {
      const skip =
        skipReasons.get(testCase.name) ??
        (testCase.needsOptions && factoryWithOptions === undefined ? 'needs options.factoryWithOptions to set small expiries and limits' : undefined);
      if (skip !== undefined) {
        it(testCase.name, { skip }, () => {});
        continue;
      }
      it(testCase.name, async (t) => {
        const opened: ChannelLayer[] = [];
        let failure: unknown;
        try {
          const layer = await factory();
          opened.push(layer);
          await testCase.run({
            layer,
            async withOptions(layerOptions) {
              if (factoryWithOptions === undefined) throw new Error('factoryWithOptions is not set');
              const extra = await factoryWithOptions(layerOptions);
              opened.push(extra);
              return extra;
            },
            skip: (reason) => t.skip(reason),
          });
        } catch (err) {
          failure = err;
        }
        for (const layer of opened) {
          try {
            await dispose(layer);
          } catch (err) {
            failure ??= err;
          }
        }
        if (failure !== undefined) throw failure;
      });
    }
  });
}

/** Flushes (when supported) and closes a layer; a layer the test already closed is fine. */
async function dispose(layer: ChannelLayer): Promise<void> {
  try {
    if (layer.capabilities.flush) await layer.flush();
    await layer.close();
  } catch (err) {
    if (!(err instanceof LayerClosedError)) throw err;
    await layer.close().catch((closeErr: unknown) => {
      if (!(closeErr instanceof LayerClosedError)) throw closeErr;
    });
  }
}
