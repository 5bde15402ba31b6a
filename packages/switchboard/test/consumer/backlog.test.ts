/**
 * The consumer's event backlog: events that arrive while a handler is busy wait in order and
 * are all handled; past 10 × the layer's capacity the client is told with 1013 (reconnect later;
 * history recovers the gap), never left with a silent hole (issue: a member that is itself
 * sending lost the room's messages).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryChannelLayer, JsonWebsocketConsumer, silentLogger, type LayerMessage } from 'switchboard';
import { waitFor, WebsocketCommunicator } from 'switchboard/testing';

/** A member whose own frames take time (a database insert); it forwards the room's events. */
class BusyMember extends JsonWebsocketConsumer {
  override groups = ['room'];
  static gate: Promise<void> = Promise.resolve();
  override async receiveJson(): Promise<void> {
    await BusyMember.gate;
  }
  roomEvent(event: LayerMessage): void {
    this.sendJson({ n: event['n'] });
  }
}

describe('consumer event backlog', () => {
  it('keeps every event that arrives while its own frame is awaited, in order', async () => {
    const layer = new InMemoryChannelLayer({ capacity: 10 });
    let open!: () => void;
    BusyMember.gate = new Promise((resolve) => (open = resolve));
    const c = new WebsocketCommunicator(BusyMember, '/ws/', { channelLayer: layer, logger: silentLogger() });
    try {
      assert.equal((await c.connect()).accepted, true);
      await c.sendJson({ paste: true }); // busy until the gate opens
      for (let n = 0; n < 95; n++) await layer.groupSend('room', { type: 'room.event', n }); // over capacity (10), under the bound (100)
      open();
      const got: unknown[] = [];
      for (let n = 0; n < 95; n++) got.push((await c.receiveJson<{ n: number }>({ timeoutMs: 2_000 })).n);
      assert.deepEqual(got, Array.from({ length: 95 }, (_, n) => n));
    } finally {
      await c.disconnect();
      await layer.close();
    }
  });

  it('closes with 1013 once the backlog passes 10 × capacity instead of dropping silently', async () => {
    const layer = new InMemoryChannelLayer({ capacity: 2 });
    let open!: () => void;
    BusyMember.gate = new Promise((resolve) => (open = resolve));
    const c = new WebsocketCommunicator(BusyMember, '/ws/', { channelLayer: layer, logger: silentLogger() });
    try {
      assert.equal((await c.connect()).accepted, true);
      await c.sendJson({ paste: true });
      for (let n = 0; n < 25; n++) await layer.groupSend('room', { type: 'room.event', n });
      const closed = await c.receiveClose({ timeoutMs: 2_000 });
      assert.equal(closed.code, 1013);
      open();
      await waitFor(async () => (await layer.groupSize('room')) === 0, { message: 'the closed member left the group' });
    } finally {
      open();
      await c.disconnect().catch(() => undefined);
      await layer.close();
    }
  });
});
