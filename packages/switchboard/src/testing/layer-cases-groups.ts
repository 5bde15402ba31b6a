/** Conformance cases: capacity, groups and release (docs/channel-layer-spec.md §4, §6, §7). */
import assert from 'node:assert/strict';
import { ChannelFullError } from '../errors.js';
import type { LayerMessage } from '../layers/channel-layer.js';
import { waitFor } from './wait-for.js';
import { assertRejectsWith, groupName, namedChannel, receiveWithin, recorder, type ConformanceCase } from './layer-case-helpers.js';

export const GROUP_CASES: ConformanceCase[] = [
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
];
