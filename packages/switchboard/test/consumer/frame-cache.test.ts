/**
 * sendJson's shared frames (src/consumer/frame-cache.ts): members whose handlers send equal content
 * for one group event share one PreparedMessage; content of their own is encoded for each.
 * Checked on recording connection handles (which frame each consumer sent) and on real sockets
 * (what each client received).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { createScope, InMemoryChannelLayer, JsonWebsocketConsumer, PreparedMessage, silentLogger, URLRouter, path, type ConnectionHandle, type ConsumerClass, type LayerMessage } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { startConsumer } from '../../src/consumer/lifecycle.js';
import { startTestServer } from '../helpers.js';

/** A connection handle that records what its consumer sent. */
class RecordingHandle implements ConnectionHandle {
  readonly sent: Array<PreparedMessage | string> = [];
  accept(): void {}
  sendText(text: string): void {
    this.sent.push(text);
  }
  sendBytes(): void {}
  sendPrepared(message: PreparedMessage): void {
    this.sent.push(message);
  }
  close(): void {}
  /** The texts sent, whether prepared or not. */
  get texts(): string[] {
    return this.sent.map((s) => (typeof s === 'string' ? s : s.text));
  }
}

/** Starts `n` consumers of `cls` in group 'room' on `layer`, each on a recording handle. */
async function members(cls: ConsumerClass, layer: InMemoryChannelLayer, n: number): Promise<RecordingHandle[]> {
  const handles: RecordingHandle[] = [];
  for (let i = 0; i < n; i++) {
    const connection = new RecordingHandle();
    await startConsumer({ scope: createScope({ path: '/ws/' }), consumer: cls }, { channelLayer: layer, connection, logger: silentLogger() });
    handles.push(connection);
  }
  return handles;
}

/** As a Channels port writes it: a fresh object per recipient, with the event's values. */
class Natural extends JsonWebsocketConsumer {
  override groups = ['room'];
  chatMessage(e: LayerMessage): void {
    this.sendJson({ message: e.message, username: e.username });
  }
}

/** Each member adds a field of its own. */
class PerMember extends JsonWebsocketConsumer {
  override groups = ['room'];
  chatMessage(e: LayerMessage): void {
    this.sendJson({ message: e.message, you: this.channelName });
  }
}

/** Two different frames per event, both equal across members. */
class TwoFrames extends JsonWebsocketConsumer {
  override groups = ['room'];
  chatMessage(e: LayerMessage): void {
    this.sendJson({ kind: 'typing', username: e.username });
    this.sendJson({ kind: 'message', message: e.message });
  }
}

let serial = 0;
/** Equal own enumerable keys, different JSON: a class instance is never shared by value. */
class Stamped {
  readonly message: unknown;
  readonly #serial = ++serial;
  constructor(message: unknown) {
    this.message = message;
  }
  toJSON(): object {
    return { message: this.message, serial: this.#serial };
  }
}
class StampedConsumer extends JsonWebsocketConsumer {
  override groups = ['room'];
  chatMessage(e: LayerMessage): void {
    this.sendJson(new Stamped(e.message));
  }
}

describe('JsonWebsocketConsumer.sendJson frame sharing', () => {
  it('gives members that build equal objects for one event the same prepared frame', async () => {
    const layer = new InMemoryChannelLayer();
    const handles = await members(Natural, layer, 5);
    await layer.groupSend('room', { type: 'chat.message', message: 'hi', username: 'ann' });
    const first = handles[0]!.sent[0];
    assert.ok(first instanceof PreparedMessage);
    assert.equal(first.text, '{"message":"hi","username":"ann"}');
    for (const h of handles) {
      assert.equal(h.sent.length, 1);
      assert.equal(h.sent[0], first, 'one encode and one frame for every member');
    }
    await layer.groupSend('room', { type: 'chat.message', message: 'second', username: 'ann' });
    const second = handles[0]!.sent[1] as PreparedMessage;
    assert.notEqual(second, first, 'a new event is encoded again');
    assert.deepEqual(handles.map((h) => h.texts[1]), Array(5).fill('{"message":"second","username":"ann"}'));
    await layer.close();
  });

  it('encodes content of its own for each member', async () => {
    const layer = new InMemoryChannelLayer();
    const handles = await members(PerMember, layer, 4);
    await layer.groupSend('room', { type: 'chat.message', message: 'hi' });
    const got = handles.map((h) => JSON.parse(h.texts[0]!) as { message: string; you: string });
    assert.equal(new Set(got.map((g) => g.you)).size, 4, 'every member got its own field');
    for (const g of got) assert.equal(g.message, 'hi');
    assert.equal(new Set(handles.map((h) => h.sent[0])).size, 4);
    await layer.close();
  });

  it('compares the k-th send of a handler with the k-th send of the previous member', async () => {
    const layer = new InMemoryChannelLayer();
    const handles = await members(TwoFrames, layer, 3);
    await layer.groupSend('room', { type: 'chat.message', message: 'hi', username: 'ann' });
    for (const h of handles) {
      assert.deepEqual(h.texts, ['{"kind":"typing","username":"ann"}', '{"kind":"message","message":"hi"}']);
      assert.equal(h.sent[0], handles[0]!.sent[0]);
      assert.equal(h.sent[1], handles[0]!.sent[1]);
    }
    await layer.close();
  });

  it('never shares a class instance by its fields (its toJSON may differ)', async () => {
    const layer = new InMemoryChannelLayer();
    const handles = await members(StampedConsumer, layer, 3);
    await layer.groupSend('room', { type: 'chat.message', message: 'hi' });
    const serials = handles.map((h) => (JSON.parse(h.texts[0]!) as { serial: number }).serial);
    assert.equal(new Set(serials).size, 3, serials.join());
    await layer.close();
  });

  it('shares equal arrays, not arrays with a different element', async () => {
    let created = 0;
    class Arrays extends JsonWebsocketConsumer {
      override groups = ['room'];
      readonly label = ++created === 1 ? 'first' : 'other';
      chatMessage(e: LayerMessage): void {
        this.sendJson([e.message, this.label]);
      }
    }
    const layer = new InMemoryChannelLayer();
    const handles = await members(Arrays, layer, 3);
    await layer.groupSend('room', { type: 'chat.message', message: 'hi' });
    assert.deepEqual(handles.map((h) => h.texts[0]), ['["hi","first"]', '["hi","other"]', '["hi","other"]']);
    assert.notEqual(handles[0]!.sent[0], handles[1]!.sent[0]);
    assert.equal(handles[1]!.sent[0], handles[2]!.sent[0]);
    await layer.close();
  });

  it('delivers each client its own field over real sockets', async () => {
    const srv = await startTestServer(new URLRouter([path('ws/', PerMember), path('ws/natural/', Natural)]), { logger: silentLogger() });
    const open = (p: string): Promise<{ ws: WebSocket; got: string[] }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${srv.url}${p}`);
        const got: string[] = [];
        ws.on('message', (d) => got.push(d.toString()));
        ws.once('open', () => resolve({ ws, got }));
        ws.once('error', reject);
      });
    try {
      const clients = [await open('/ws/'), await open('/ws/'), await open('/ws/natural/'), await open('/ws/natural/')];
      await waitFor(async () => (await srv.layer.groupSize('room')) === 4);
      await srv.layer.groupSend('room', { type: 'chat.message', message: 'hello', username: 'bob' });
      await waitFor(() => clients.every((c) => c.got.length === 1));
      const [a, b, c, d] = clients.map((cl) => JSON.parse(cl.got[0]!) as Record<string, string>);
      assert.equal(a!.message, 'hello');
      assert.equal(b!.message, 'hello');
      assert.notEqual(a!.you, b!.you, 'each PerMember client has its own channel name');
      assert.deepEqual(c, { message: 'hello', username: 'bob' });
      assert.deepEqual(d, { message: 'hello', username: 'bob' });
      for (const cl of clients) cl.ws.close();
    } finally {
      await srv.close();
    }
  });
});
