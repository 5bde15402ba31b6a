/** Real-socket integration tests for SwitchboardServer (127.0.0.1, port 0). */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import {
  BadRequestError,
  CloseCode,
  InMemoryChannelLayer,
  ProtocolTypeRouter,
  SwitchboardServer,
  JsonWebsocketConsumer,
  URLRouter,
  WebsocketConsumer,
  path,
  type LayerMessage,
  frameRateLimit,
} from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { connectClient, EmittingLayer, handshakeStatus, startTestServer, type TestServer } from '../helpers.js';

class EchoConsumer extends JsonWebsocketConsumer {
  override receiveJson(content: unknown): void {
    const c = content as { boom?: boolean; message?: unknown };
    if (c.boom) throw new Error('handler exploded on purpose');
    if (c.message === undefined) throw new BadRequestError('"message" is required');
    this.sendJson({ echo: c.message });
  }
}

class RefuseConsumer extends WebsocketConsumer {
  override connect(): void {
    this.close();
  }
}

class ProtocolConsumer extends WebsocketConsumer {
  override connect(): void {
    this.accept('chat.v2');
  }
}

class RoomConsumer extends JsonWebsocketConsumer {
  override groups = ['room'];
  roomMessage(event: LayerMessage): void {
    this.sendJson(event.payload);
  }
}

const router = new URLRouter([
  path('ws/echo/', EchoConsumer),
  path('ws/refuse/', RefuseConsumer),
  path('ws/protocol/', ProtocolConsumer),
  path('ws/room/', RoomConsumer),
]);

describe('SwitchboardServer', () => {
  let t: TestServer;
  const logLines: string[] = [];
  const logRecords: Array<Record<string, unknown>> = [];
  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) {
          if (!line) continue;
          const record = JSON.parse(line) as { msg: string };
          logRecords.push(record);
          logLines.push(record.msg);
        }
        cb();
      },
    });
    t = await startTestServer(router, { maxPayloadBytes: 4096, maxSendQueueBytes: 256 * 1024, logger: pino({ level: 'info' }, sink) });
  });
  after(async () => {
    await t.close();
  });

  it('completes the handshake when the consumer accepts and echoes JSON', async () => {
    const c = await connectClient(`${t.url}/ws/echo/`);
    c.ws.send(JSON.stringify({ message: 'hi' }));
    await waitFor(() => c.messages.length === 1);
    assert.deepEqual(JSON.parse(c.messages[0]!), { echo: 'hi' });
    c.ws.close(1000);
    assert.equal((await c.closed).code, 1000);
  });

  it('answers 403 when the consumer closes before accepting', async () => {
    assert.equal(await handshakeStatus(`${t.url}/ws/refuse/`), 403);
  });

  it('answers 404 before upgrade for an unrouted path', async () => {
    assert.equal(await handshakeStatus(`${t.url}/ws/nowhere/`), 404);
  });

  it('accepts with the subprotocol the consumer chose', async () => {
    const c = await connectClient(`${t.url}/ws/protocol/`, { protocols: ['chat.v1', 'chat.v2'] });
    assert.equal(c.ws.protocol, 'chat.v2');
    c.ws.close();
    await c.closed;
  });

  it('closes with 1009 on a frame over maxPayloadBytes', async () => {
    const c = await connectClient(`${t.url}/ws/echo/`);
    c.ws.send(JSON.stringify({ message: 'x'.repeat(5000) }));
    assert.equal((await c.closed).code, CloseCode.MESSAGE_TOO_BIG);
  });

  it('answers invalid JSON with an error frame and closes with 4400 on the fifth; application errors do not count', async () => {
    const c = await connectClient(`${t.url}/ws/echo/`);
    c.ws.send('{not json');
    await waitFor(() => c.messages.length === 1);
    const first = JSON.parse(c.messages[0]!) as { type: string; code: string; message: string };
    assert.equal(first.type, 'error');
    assert.equal(first.code, 'SB_ERR_INVALID_JSON');
    // The connection survives a bad frame.
    c.ws.send(JSON.stringify({ message: 'still here' }));
    await waitFor(() => c.messages.length === 2);
    assert.deepEqual(JSON.parse(c.messages[1]!), { echo: 'still here' });
    // An application error (BadRequestError) is answered, many times over, and never counted.
    for (let i = 0; i < 6; i++) c.ws.send(JSON.stringify({ nomessage: true }));
    c.ws.send('[');
    c.ws.send('{');
    c.ws.send('}');
    c.ws.send('{{'); // 5th invalid JSON frame
    const closed = await c.closed;
    assert.equal(closed.code, CloseCode.BAD_REQUEST);
    const errors = c.messages.slice(2).map((m) => (JSON.parse(m) as { code: string }).code);
    assert.deepEqual(errors, [...Array(6).fill('SB_ERR_BAD_REQUEST'), 'SB_ERR_INVALID_JSON', 'SB_ERR_INVALID_JSON', 'SB_ERR_INVALID_JSON']);
  });

  it('closes only the connection whose handler threw, with 1011', async () => {
    const a = await connectClient(`${t.url}/ws/echo/`);
    const b = await connectClient(`${t.url}/ws/echo/`);
    a.ws.send(JSON.stringify({ boom: true }));
    assert.equal((await a.closed).code, CloseCode.INTERNAL_ERROR);
    // The consumer logged through its child logger, bound (when first used) to its path and client.
    const failure = logRecords.find((r) => (r.err as { message?: string } | undefined)?.message === 'handler exploded on purpose');
    assert.equal(failure?.path, '/ws/echo/');
    assert.match(String(failure?.peer), /^127\.0\.0\.1:\d+$/);
    b.ws.send(JSON.stringify({ message: 'unaffected' }));
    await waitFor(() => b.messages.length === 1);
    assert.deepEqual(JSON.parse(b.messages[0]!), { echo: 'unaffected' });
    b.ws.close();
    await b.closed;
  });

  it('closes a client that stops reading with 1013 while the others keep receiving', async () => {
    const fast1 = await connectClient(`${t.url}/ws/room/`);
    const fast2 = await connectClient(`${t.url}/ws/room/`);
    const slow = await connectClient(`${t.url}/ws/room/`);
    await waitFor(async () => (await t.layer.groupSize('room')) === 3);
    // Stop reading: the kernel buffers fill, then the server's send queue grows past its bound.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const before = t.server.stats.slowClientsClosed;
    const payload = 'y'.repeat(1000);
    let sent = 0;
    while (t.server.stats.slowClientsClosed === before && sent < 50_000) {
      for (let i = 0; i < 100; i++) await t.layer.groupSend('room', { type: 'room.message', payload: { n: sent++, payload } });
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(t.server.stats.slowClientsClosed, before + 1, 'the slow client was closed');
    await waitFor(() => fast1.messages.length === sent && fast2.messages.length === sent, { timeoutMs: 10_000 });
    assert.equal((JSON.parse(fast1.messages.at(-1)!) as { n: number }).n, sent - 1);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const code = (await slow.closed).code;
    assert.ok(code === CloseCode.TRY_AGAIN_LATER || code === 1006, `slow client closed with ${code}`);
    fast1.ws.close();
    fast2.ws.close();
    await Promise.all([fast1.closed, fast2.closed]);
  });

  it('writes Channels-style access log lines', async () => {
    const c = await connectClient(`${t.url}/ws/echo/`);
    c.ws.close(1000);
    await c.closed;
    await waitFor(() => logLines.some((l) => /^WebSocket DISCONNECT \/ws\/echo\/ \[127\.0\.0\.1:\d+\] code=1000$/.test(l)));
    assert.ok(logLines.some((l) => /^WebSocket HANDSHAKING \/ws\/echo\/ \[127\.0\.0\.1:\d+\]$/.test(l)));
    assert.ok(logLines.some((l) => /^WebSocket CONNECT \/ws\/echo\/ \[127\.0\.0\.1:\d+\]$/.test(l)));
    assert.ok(logLines.some((l) => /^WebSocket REJECT \/ws\/refuse\/ \[127\.0\.0\.1:\d+\] status=403/.test(l)));
  });
});

describe('SwitchboardServer heartbeat and shutdown', () => {
  it('closes a peer that stops answering pings with 4408', async () => {
    const t = await startTestServer(router, { heartbeatIntervalMs: 50 });
    try {
      const ws = new WebSocket(`${t.url}/ws/echo/`, { autoPong: false });
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      await new Promise((resolve) => ws.once('open', resolve));
      assert.equal(await closed, CloseCode.TIMEOUT);
      assert.equal(t.server.stats.deadPeersDropped, 1);
    } finally {
      await t.close();
    }
  });

  it('closes open connections with 1001 on shutdown and refuses new ones', async () => {
    const t = await startTestServer(router);
    const a = await connectClient(`${t.url}/ws/echo/`);
    const b = await connectClient(`${t.url}/ws/room/`);
    await t.close();
    assert.equal((await a.closed).code, CloseCode.GOING_AWAY);
    assert.equal((await b.closed).code, CloseCode.GOING_AWAY);
    assert.equal(await t.layer.groupSize('room').catch(() => 0), 0);
  });

  it('waits on close() for the disconnect() of a connection that closed just before', async () => {
    let finished = 0;
    class SlowGoodbye extends WebsocketConsumer {
      override async disconnect(): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, 300));
        finished++;
      }
    }
    const t = await startTestServer(new URLRouter([path('ws/slow/', SlowGoodbye)]));
    const client = await connectClient(`${t.url}/ws/slow/`);
    client.ws.close();
    await client.closed;
    await waitFor(() => t.server.stats.connectionsOpen === 0);
    assert.equal(finished, 0, 'disconnect() still running when close() starts');
    await t.close();
    assert.equal(finished, 1, 'close() resolved only after that disconnect() finished');
  });
});

class ReconnectAware extends JsonWebsocketConsumer {
  override connect(): void {
    this.accept();
  }
  layerReconnected(): void {
    this.sendJson({ type: 'resync' });
  }
}

class Indifferent extends JsonWebsocketConsumer {
  override connect(): void {
    this.accept();
  }
}

class LimitedEcho extends JsonWebsocketConsumer {
  override features = [frameRateLimit({ limit: 3, windowMs: 60_000, maxRefusedFrames: 4 })];
  override receiveJson(content: unknown): void {
    this.sendJson({ echo: content });
  }
}

describe('SwitchboardServer receive rate limit', () => {
  it('drops frames over frameRateLimit with one error frame, closes a flood with 4429, and leaves others alone', async () => {
    const t = await startTestServer(new URLRouter([path('ws/limited/', LimitedEcho)]));
    try {
      const flooder = await connectClient(`${t.url}/ws/limited/`);
      const other = await connectClient(`${t.url}/ws/limited/`);
      for (let i = 1; i <= 5; i++) flooder.ws.send(JSON.stringify(i));
      await waitFor(() => flooder.messages.length === 4, { message: '3 echoes and 1 error frame' });
      const got = flooder.messages.map((m) => JSON.parse(m) as { echo?: number; type?: string; code?: string; retryAfterMs?: number });
      assert.deepEqual(got.slice(0, 3), [{ echo: 1 }, { echo: 2 }, { echo: 3 }]);
      assert.equal(got[3]!.type, 'error');
      assert.equal(got[3]!.code, 'SB_ERR_RATE_LIMITED');
      assert.ok(got[3]!.retryAfterMs! > 0 && got[3]!.retryAfterMs! <= 20_000, `retryAfterMs ${got[3]!.retryAfterMs}`);
      // Refused frames 3 (warned again) and 4 (closes): a flood ends with 4429.
      flooder.ws.send('6');
      flooder.ws.send('7');
      assert.equal((await flooder.closed).code, CloseCode.RATE_LIMITED);
      // The other connection has its own budget.
      other.ws.send(JSON.stringify('still here'));
      await waitFor(() => other.messages.length === 1);
      assert.deepEqual(JSON.parse(other.messages[0]!), { echo: 'still here' });
      other.ws.close();
    } finally {
      await t.close();
    }
  });
});

describe('SwitchboardServer drain', () => {
  it('closes connections with 1001 in batches of drainBatchSize, drainIntervalMs apart', async () => {
    const t = await startTestServer(router, { drainBatchSize: 2, drainIntervalMs: 300 });
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await connectClient(`${t.url}/ws/room/`));
    const closedAt: number[] = [];
    const start = performance.now();
    const closes = clients.map((c) => c.closed.then(({ code }) => {
      closedAt.push(performance.now() - start);
      return code;
    }));
    await t.close();
    assert.deepEqual(await Promise.all(closes), Array(5).fill(CloseCode.GOING_AWAY));
    closedAt.sort((a, b) => a - b);
    // Three batches (2, 2, 1): the gaps between them are at least the interval (a busy machine
    // only makes them longer), within a batch they are not.
    assert.ok(closedAt[2]! - closedAt[1]! >= 250, `second batch after the interval: ${closedAt.map(Math.round).join(', ')} ms`);
    assert.ok(closedAt[4]! - closedAt[3]! >= 250, `third batch after the interval: ${closedAt.map(Math.round).join(', ')} ms`);
  });

  it('refuses a drainBatchSize below 1', () => {
    assert.throws(() => new SwitchboardServer(new ProtocolTypeRouter({ websocket: router }), { drainBatchSize: 0 }), RangeError);
  });
});

describe('SwitchboardServer layer-wide events', () => {
  it('dispatches layer.reconnected to every open consumer with a handler, quietly skips the others', async () => {
    const layer = new EmittingLayer();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const server = new SwitchboardServer(
      new ProtocolTypeRouter({ websocket: new URLRouter([path('ws/aware/', ReconnectAware), path('ws/plain/', Indifferent)]) }),
      { port: 0, channelLayer: layer, logger },
    );
    const { port } = await server.listen();
    const a = await connectClient(`ws://127.0.0.1:${port}/ws/aware/`);
    const b = await connectClient(`ws://127.0.0.1:${port}/ws/aware/`);
    const c = await connectClient(`ws://127.0.0.1:${port}/ws/plain/`);
    layer.emit({ type: 'layer.reconnected' });
    await waitFor(() => a.messages.length === 1 && b.messages.length === 1, { message: 'both aware consumers resynced' });
    assert.deepEqual(JSON.parse(a.messages[0]!), { type: 'resync' });
    assert.equal(c.messages.length, 0);
    assert.ok(!lines.some((l) => l.includes('layerReconnected')), 'no "no handler" warning for consumers without one');
    await server.close();
    assert.equal(layer.listenerCount, 0, 'the server unsubscribed on close');
    await layer.close();
  });
});
