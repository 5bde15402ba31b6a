/**
 * Redis-layer tests across two processes (two layers on one prefix) that are not part of the
 * generic conformance suite, registered for one Redis server and for a Redis Cluster with
 * sharded pub/sub: what a consumer sees of a remote groupAdd, frames injected through the layer,
 * and the documented behaviour of a send to another process's full channel
 * (docs/channel-layer-spec.md §10).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { JsonWebsocketConsumer, WebsocketConsumer, type LayerMessage, type ReceivedFrame } from 'switchboard';
import type { RedisChannelLayer, RedisChannelLayerOptions } from 'switchboard/redis';
import { waitFor, WebsocketCommunicator } from 'switchboard/testing';

/** Opens a layer; `options.prefix` shares state with another layer, else a fresh prefix. */
export type OpenLayer = (options?: RedisChannelLayerOptions) => RedisChannelLayer;

/** A key prefix no other test (or test run) uses. */
export const uniquePrefix = (): string => `sbtest:${randomBytes(6).toString('hex')}:`;

class WelcomeConsumer extends JsonWebsocketConsumer {
  chatWelcome(event: LayerMessage): void {
    this.sendJson({ welcome: event.text });
  }
}

class EchoConsumer extends WebsocketConsumer {
  override receive({ text }: ReceivedFrame): void {
    if (text !== undefined) this.send(`echo:${text}`);
  }
}

/** Registers the cross-process tests under `describe(title)`, each on layers from `open`. */
export function crossProcessTests(title: string, open: OpenLayer, skip: string | false = false): void {
  describe(title, { skip }, () => {
    const layers: RedisChannelLayer[] = [];
    const pair = (options: RedisChannelLayerOptions = {}): [RedisChannelLayer, RedisChannelLayer] => {
      const prefix = uniquePrefix();
      const a = open({ ...options, prefix });
      const b = open({ ...options, prefix });
      layers.push(a, b);
      return [a, b];
    };
    after(async () => {
      for (const layer of layers) {
        await layer.flush().catch(() => {});
        await layer.close();
      }
    });

    it("a worker's groupAdd of a consumer's channel in another process, then groupSend: the consumer gets the welcome", async () => {
      const [worker, server] = pair();
      for (let round = 0; round < 5; round++) {
        const c = new WebsocketCommunicator(WelcomeConsumer, '/ws/', { channelLayer: server });
        assert.equal((await c.connect()).accepted, true);
        const room = `room.${round}.${randomBytes(4).toString('hex')}`;
        await worker.groupAdd(room, c.consumer!.channelName);
        await worker.groupSend(room, { type: 'chat.welcome', text: `hello ${round}` });
        assert.deepEqual(await c.receiveJson({ timeoutMs: 2_000 }), { welcome: `hello ${round}` });
        await c.disconnect();
      }
    });

    it('a websocket.receive sent from another process reaches the consumer receive()', async () => {
      const [sender, server] = pair();
      const c = new WebsocketCommunicator(EchoConsumer, '/ws/', { channelLayer: server });
      await c.connect();
      await sender.send(c.consumer!.channelName, { type: 'websocket.receive', text: 'from afar' });
      assert.equal(await c.receiveText({ timeoutMs: 2_000 }), 'echo:from afar');
      await c.disconnect();
    });

    it("send to another process's full channel resolves; the owner drops it and counts inboxDrops (spec §10)", async () => {
      const [sender, owner] = pair({ capacity: 2 });
      const channel = await owner.newChannel();
      for (let i = 0; i < 3; i++) await sender.send(channel, { type: 'test.fill', i });
      await waitFor(() => owner.stats.inboxDrops === 1, { message: 'the owner counted the third message as an inbox drop' });
      assert.deepEqual([(await owner.receive(channel)).i, (await owner.receive(channel)).i], [0, 1]);
      // The owner's own send to its full channel rejects as the spec says.
      await owner.send(channel, { type: 'test.fill', i: 3 });
      await owner.send(channel, { type: 'test.fill', i: 4 });
      await assert.rejects(owner.send(channel, { type: 'test.fill', i: 5 }), { code: 'SB_ERR_CHANNEL_FULL' });
    });

    it("a named channel another process added to a group gets the next groupSend from any process, also from a layer started after the add", async () => {
      const [adder, sender] = pair();
      for (let round = 0; round < 10; round++) {
        const room = `room.${round}.${randomBytes(4).toString('hex')}`;
        const worker = `worker.${round}.${randomBytes(4).toString('hex')}`;
        const local = await sender.newChannel();
        sender.attach(local, () => true);
        await sender.groupAdd(room, local);
        // Before the add the sender's groupSends to the room are bare PUBLISHes.
        const bare = sender.stats.barePublishes;
        await sender.groupSend(room, { type: 'before.worker' });
        assert.equal(sender.stats.barePublishes, bare + 1, 'no named members yet: one bare PUBLISH');
        await adder.groupAdd(room, worker);
        const result = await sender.groupSend(room, { type: 'job.first', round });
        assert.equal(result.recipients, 2, 'the sender process and the worker channel');
        assert.deepEqual(await adder.receive(worker), { type: 'job.first', round });
      }
      // A process that starts after the add reads the marks when it starts.
      const room = `late.${randomBytes(4).toString('hex')}`;
      await adder.groupAdd(room, 'worker.late');
      const late = open({ prefix: sender.prefix });
      layers.push(late);
      await late.groupSend(room, { type: 'job.late' });
      assert.deepEqual(await adder.receive('worker.late'), { type: 'job.late' });
      assert.equal(late.stats.barePublishes, 0);
    });

    it('an unknown option key is refused before any connection opens', () => {
      assert.throws(() => open({ prefx: 'x:' } as RedisChannelLayerOptions), { name: 'TypeError', message: /"prefx" is unknown; did you mean "prefix"\?/ });
    });
  });
}
