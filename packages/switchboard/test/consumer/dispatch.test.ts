/** Event-type dispatch, ordering and failure isolation, driven through WebsocketCommunicator. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { handlerNameFor, InMemoryChannelLayer, InvalidEventTypeError, JsonWebsocketConsumer, WebsocketConsumer, type LayerMessage, type ReceivedFrame } from 'switchboard';
import { ConsumerFailedError, WebsocketCommunicator } from 'switchboard/testing';

describe('handlerNameFor', () => {
  it('maps dots, underscores and hyphens to camelCase', () => {
    assert.equal(handlerNameFor('chat.message'), 'chatMessage');
    assert.equal(handlerNameFor('chat_message'), 'chatMessage');
    assert.equal(handlerNameFor('layer.reconnected'), 'layerReconnected');
    assert.equal(handlerNameFor('user-joined.now'), 'userJoinedNow');
  });

  it('refuses types that start with "_" or land on lifecycle methods', () => {
    for (const type of ['_secret', 'send', 'close', 'accept', 'connect', 'disconnect', 'receive.json', '']) {
      assert.throws(() => handlerNameFor(type), (e: unknown) => e instanceof InvalidEventTypeError && e.code === 'SB_ERR_INVALID_EVENT_TYPE', type);
    }
  });
});

class Recorder extends JsonWebsocketConsumer {
  override groups = ['rec'];
  seen: string[] = [];
  async slowEvent(e: LayerMessage): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
    this.seen.push(`slow:${String(e.n)}`);
    this.sendJson({ got: `slow:${String(e.n)}` });
  }
  fastEvent(e: LayerMessage): void {
    this.seen.push(`fast:${String(e.n)}`);
    this.sendJson({ got: `fast:${String(e.n)}` });
  }
  explode(): void {
    throw new Error('boom');
  }
}

describe('WebsocketConsumer dispatch', () => {
  it('handles layer events one at a time in arrival order, async or not', async () => {
    const layer = new InMemoryChannelLayer();
    const c = new WebsocketCommunicator(Recorder, '/ws/', { channelLayer: layer });
    assert.equal((await c.connect()).accepted, true);
    await layer.groupSend('rec', { type: 'slow.event', n: 1 });
    await layer.groupSend('rec', { type: 'fast.event', n: 2 });
    await layer.groupSend('rec', { type: 'slow.event', n: 3 });
    await layer.groupSend('rec', { type: 'fast.event', n: 4 });
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await c.receiveJson<{ got: string }>()).got);
    assert.deepEqual(got, ['slow:1', 'fast:2', 'slow:3', 'fast:4']);
    await c.disconnect();
    assert.equal(await layer.groupSize('rec'), 0, 'declared groups are left on disconnect');
    await layer.close();
  });

  it('logs and ignores an event type without a handler', async () => {
    const layer = new InMemoryChannelLayer();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const c = new WebsocketCommunicator(Recorder, '/ws/', { channelLayer: layer, logger });
    await c.connect();
    await layer.groupSend('rec', { type: 'no.such.handler' });
    await layer.groupSend('rec', { type: 'send' }); // would land on a lifecycle method
    // Inherited plumbing is never a handler: Object.prototype and the base consumer classes.
    for (const type of ['is.prototype.of', 'property.is.enumerable', 'to.locale.string', 'receive.error']) {
      await layer.groupSend('rec', { type });
    }
    await layer.groupSend('rec', { type: 'fast.event', n: 1 });
    assert.deepEqual(await c.receiveJson(), { got: 'fast:1' });
    for (const name of ['noSuchHandler', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString']) {
      assert.ok(lines.some((l) => l.includes(`no handler ${name}()`)), `no-handler warning for ${name}: ${lines.join('')}`);
    }
    await c.disconnect();
    await layer.close();
  });

  it('closes with 1011 when an event handler throws', async () => {
    const layer = new InMemoryChannelLayer();
    const a = new WebsocketCommunicator(Recorder, '/ws/', { channelLayer: layer });
    const b = new WebsocketCommunicator(Recorder, '/ws/', { channelLayer: layer });
    await a.connect();
    await b.connect();
    await layer.send(a.consumer!.channelName, { type: 'explode' });
    // The communicator surfaces the error first, then the 1011 close a real server sends.
    await assert.rejects(a.receiveClose(), (err: unknown) => err instanceof ConsumerFailedError && (err.cause as Error).message === 'boom');
    assert.equal((await a.receiveClose()).code, 1011);
    await layer.groupSend('rec', { type: 'fast.event', n: 7 });
    assert.deepEqual(await b.receiveJson(), { got: 'fast:7' });
    await a.disconnect();
    await b.disconnect();
    await layer.close();
  });

  it('closes with 1003 on a binary frame to a JSON consumer', async () => {
    const c = new WebsocketCommunicator(Recorder, '/ws/', { channelLayer: null });
    await c.connect();
    await c.sendBytes(new Uint8Array([1, 2, 3]));
    assert.equal((await c.receiveClose()).code, 1003);
    await c.disconnect();
  });

  it('hands a websocket.receive event from the layer to receive(), as a frame from the socket', async () => {
    class Echo extends WebsocketConsumer {
      override receive({ text, bytes }: ReceivedFrame): void {
        if (text !== undefined) this.send(`text:${text}`);
        if (bytes !== undefined) this.send(`bytes:${[...bytes].join(',')}`);
      }
    }
    const layer = new InMemoryChannelLayer();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const echo = new WebsocketCommunicator(Echo, '/ws/', { channelLayer: layer, logger });
    class JsonEcho extends JsonWebsocketConsumer {
      override receiveJson(content: unknown): void {
        this.sendJson(content);
      }
    }
    const json = new WebsocketCommunicator(JsonEcho, '/ws/', { channelLayer: layer });
    await echo.connect();
    await json.connect();
    // Channels code injects frames this way: channel_layer.send(name, {"type": "websocket.receive", "text": ...}).
    await layer.send(echo.consumer!.channelName, { type: 'websocket.receive', text: 'injected' });
    assert.equal(await echo.receiveText(), 'text:injected');
    await layer.send(echo.consumer!.channelName, { type: 'websocket.receive', bytes: new Uint8Array([7, 8]) });
    assert.equal(await echo.receiveText(), 'bytes:7,8');
    await layer.send(echo.consumer!.channelName, { type: 'websocket.receive', text: 42 });
    assert.equal(await echo.receiveNothing(), true, 'a websocket.receive without text or bytes is ignored');
    assert.ok(lines.some((l) => l.includes('websocket.receive event needs')), lines.join(''));
    // A JSON consumer decodes the injected text like a socket frame.
    await layer.send(json.consumer!.channelName, { type: 'websocket.receive', text: JSON.stringify({ echo: 'via layer' }) });
    assert.deepEqual(await json.receiveJson(), { echo: 'via layer' });
    await echo.disconnect();
    await json.disconnect();
    await layer.close();
  });
});
