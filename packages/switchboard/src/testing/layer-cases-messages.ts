/** Conformance cases: channel names, messages, send and receive (docs/channel-layer-spec.md §1–§3). */
import assert from 'node:assert/strict';
import { InvalidChannelNameError, InvalidGroupNameError, InvalidMessageError, MessageTooLargeError } from '../errors.js';
import type { LayerMessage } from '../layers/channel-layer.js';
import { waitFor } from './wait-for.js';
import { assertRejectsWith, BAD_CHANNEL_NAMES, BAD_GROUP_NAMES, groupName, namedChannel, namedMember, receiveWithin, recorder, type ConformanceCase } from './layer-case-helpers.js';

export const MESSAGE_CASES: ConformanceCase[] = [
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
      const { channel, group } = await namedMember(layer);
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
      const { channel, group } = await namedMember(layer);
      const message = { type: '_private.event' };
      await assertRejectsWith(() => layer.send(channel, message), InvalidMessageError, 'SB_ERR_INVALID_MESSAGE', /"_private\.event"/, 'send');
      await assertRejectsWith(() => layer.groupSend(group, message), InvalidMessageError, 'SB_ERR_INVALID_MESSAGE', /"_private\.event"/, 'groupSend');
    },
  },
  {
    name: 'send and groupSend refuse non-serialisable messages (BigInt, circular) with InvalidMessageError',
    async run({ layer }) {
      const { channel, group } = await namedMember(layer);
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
      const { channel, group } = await namedMember(layer);
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
];
