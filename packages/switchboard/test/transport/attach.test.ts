/**
 * Switchboard on an HTTP server someone else owns: `attach()` on a `node:http` server and on
 * Express 5's, and the `fastifySwitchboard` plugin. HTTP routes stay with their owner, WebSockets
 * connect, and closing Switchboard drains the sockets with 1001 while the owner's server serves on.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { pino } from 'pino';
import {
  ConsumerStateError,
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  SwitchboardServer,
  URLRouter,
  fastifySwitchboard,
  path,
  silentLogger,
  type Logger,
} from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { connectClient, handshakeStatus } from '../helpers.js';

class RoomConsumer extends JsonWebsocketConsumer {
  static disconnected = 0;
  override groups = ['attached'];
  override receiveJson(content: unknown): void {
    this.sendJson({ echo: content });
  }
  override disconnect(): void {
    RoomConsumer.disconnected++;
  }
}

const websocket = new URLRouter([path('ws/room/', RoomConsumer)]);

function newSwitchboard(layer: InMemoryChannelLayer, logger: Logger = silentLogger()): SwitchboardServer {
  return new SwitchboardServer(new ProtocolTypeRouter({ websocket }), { channelLayer: layer, logger });
}

async function listen(server: Server): Promise<number> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  return (server.address() as AddressInfo).port;
}

async function getText(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

/**
 * The shared scenario: an HTTP route answers, two WebSockets echo and join the group, then
 * `stop()` closes them with 1001 (their `disconnect()` runs) and the HTTP route still answers.
 */
async function exercise(port: number, layer: InMemoryChannelLayer, stop: () => Promise<void>, httpAfterStop: boolean): Promise<void> {
  assert.deepEqual(await getText(port, '/hello'), { status: 200, text: 'hello from the owner' });
  const a = await connectClient(`ws://127.0.0.1:${port}/ws/room/`);
  const b = await connectClient(`ws://127.0.0.1:${port}/ws/room/`);
  a.ws.send(JSON.stringify('ping'));
  await waitFor(() => a.messages.length === 1);
  assert.deepEqual(JSON.parse(a.messages[0]!), { echo: 'ping' });
  assert.equal(await layer.groupSize('attached'), 2);
  assert.equal(await handshakeStatus(`ws://127.0.0.1:${port}/ws/nowhere/`), 404);

  const disconnectedBefore = RoomConsumer.disconnected;
  await stop();
  assert.equal((await a.closed).code, 1001);
  assert.equal((await b.closed).code, 1001);
  assert.equal(RoomConsumer.disconnected, disconnectedBefore + 2, 'both consumers ran disconnect()');
  assert.equal(await layer.groupSize('attached'), 0, 'and left their group');
  if (httpAfterStop) assert.deepEqual(await getText(port, '/hello'), { status: 200, text: 'hello from the owner' });
}

describe('SwitchboardServer.attach() on a node:http server', () => {
  it('serves WebSockets next to the owner\'s routes and leaves the server to its owner on close()', async () => {
    const layer = new InMemoryChannelLayer();
    const http = createServer((req, res) => {
      res.writeHead(req.url === '/hello' ? 200 : 404, { 'content-type': 'text/plain' }).end(req.url === '/hello' ? 'hello from the owner' : 'not found');
    });
    const switchboard = newSwitchboard(layer);
    switchboard.attach(http);
    const port = await listen(http);
    try {
      await exercise(port, layer, () => switchboard.close(), true);
      assert.equal(http.listening, true, 'the owner\'s server still listens');
      assert.notEqual(await handshakeStatus(`ws://127.0.0.1:${port}/ws/room/`), 101, 'upgrades are no longer served');
    } finally {
      http.close();
      await once(http, 'close');
      await layer.close();
    }
  });

  it('refuses a second attach() and a listen() after attach()', async () => {
    const switchboard = newSwitchboard(new InMemoryChannelLayer());
    const http = createServer();
    switchboard.attach(http);
    assert.throws(() => switchboard.attach(createServer()), (err: unknown) => err instanceof ConsumerStateError && err.code === 'SB_ERR_CONSUMER_STATE');
    await assert.rejects(switchboard.listen(), ConsumerStateError);
    await switchboard.close();
  });
});

describe('SwitchboardServer.attach() on Express 5', () => {
  it('serves WebSockets on app.listen()\'s server next to Express routes', async () => {
    const layer = new InMemoryChannelLayer();
    const app = express();
    app.get('/hello', (_req, res) => {
      res.type('text/plain').send('hello from the owner');
    });
    const http = app.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const switchboard = newSwitchboard(layer);
    switchboard.attach(http);
    try {
      await exercise(await listen(http), layer, () => switchboard.close(), true);
    } finally {
      http.close();
      await once(http, 'close');
      await layer.close();
    }
  });
});

describe('fastifySwitchboard', () => {
  it('attaches to app.server, shares app.log, and drains the WebSockets on app.close()', async () => {
    const layer = new InMemoryChannelLayer();
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n')) if (line) lines.push((JSON.parse(line) as { msg: string }).msg);
        callback();
      },
    });
    const app = Fastify({ logger: { level: 'info', stream } });
    app.get('/hello', () => 'hello from the owner');
    const switchboard = new SwitchboardServer(new ProtocolTypeRouter({ websocket }), { channelLayer: layer, logger: app.log });
    await app.register(fastifySwitchboard, { switchboard });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    try {
      await exercise(port, layer, () => app.close(), false);
      assert.equal(app.server.listening, false, 'app.close() closed Fastify too');
      // Switchboard's access log went through Fastify's logger.
      assert.ok(lines.some((l) => /^WebSocket CONNECT \/ws\/room\/ \[127\.0\.0\.1:\d+\]$/.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /^WebSocket DISCONNECT \/ws\/room\/ \[127\.0\.0\.1:\d+\] code=1001$/.test(l)), lines.join('\n'));
    } finally {
      await app.close();
      await layer.close();
    }
  });

  it('fails registration when the SwitchboardServer already listens', async () => {
    const switchboard = new SwitchboardServer(new ProtocolTypeRouter({ websocket }), { port: 0, logger: pino({ level: 'silent' }) });
    await switchboard.listen();
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(fastifySwitchboard, { switchboard });
      await app.ready();
    }, ConsumerStateError);
    await app.close().catch(() => undefined);
    await switchboard.close();
  });
});
