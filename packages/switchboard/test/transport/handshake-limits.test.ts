/**
 * Caps before the handshake (issue 10, item 5): slowloris and half-open sockets are closed after
 * `headersTimeoutMs` and their file descriptors released, `maxConnections` answers 503 before the
 * upgrade, `maxPendingHandshakesPerIp` answers 429, and an upgrade whose routing, middleware or
 * `connect()` never finishes is refused after `handshakeTimeoutMs`. Raw TCP sockets on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import {
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  SwitchboardServer,
  URLRouter,
  WebsocketConsumer,
  path,
  silentLogger,
  type ResolvedConsumer,
  type Scope,
  type WebsocketApplication,
} from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { connectClient, handshakeStatus, startTestServer } from '../helpers.js';
import { openFds, partialUpgrade, rawConnect, type RawClient } from './raw-socket.js';

class Echo extends JsonWebsocketConsumer {
  static constructed = 0;
  readonly counted = ++Echo.constructed;
  override receiveJson(content: unknown): void {
    this.sendJson({ echo: content });
  }
}

/** A consumer whose `connect()` never accepts nor closes. */
class Undecided extends WebsocketConsumer {
  static started = 0;
  override connect(): Promise<void> {
    Undecided.started++;
    return new Promise(() => {});
  }
}

/** Middleware that never answers (a session store that hangs), then lets a late one through. */
class HangingMiddleware implements WebsocketApplication {
  readonly waiting: Array<() => void> = [];
  constructor(readonly inner: WebsocketApplication) {}
  async resolve(scope: Scope): Promise<ResolvedConsumer | null> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.inner.resolve(scope);
  }
}

const echoRouter = new URLRouter([path('ws/', Echo), path('ws/undecided/', Undecided)]);

/** A bystander WebSocket that must keep working. */
async function assertEchoes(url: string, c?: Awaited<ReturnType<typeof connectClient>>): Promise<void> {
  const client = c ?? (await connectClient(`${url}/ws/`));
  const before = client.messages.length;
  client.ws.send(JSON.stringify(before));
  await waitFor(() => client.messages.length === before + 1);
  assert.deepEqual(JSON.parse(client.messages.at(-1)!), { echo: before });
  if (c === undefined) client.ws.close();
}

/** Whether the server answered `status` on this raw socket. */
const answered = (client: RawClient, status: number): boolean => client.received().toString().startsWith(`HTTP/1.1 ${status} `);

describe('SwitchboardServer headersTimeoutMs', () => {
  it('answers 408 to slowloris and half-open sockets, releases their file descriptors, and keeps WebSockets open', async () => {
    const t = await startTestServer(echoRouter, { headersTimeoutMs: 400, requestTimeoutMs: 800, logger: silentLogger() });
    const port = Number(new URL(t.url).port);
    try {
      const bystander = await connectClient(`${t.url}/ws/`);
      const baseline = openFds();
      const clients: RawClient[] = [];
      for (let i = 0; i < 20; i++) {
        const client = await rawConnect(port);
        if (i % 2 === 0) client.socket.write(partialUpgrade()); // slowloris; the others stay silent (half-open)
        clients.push(client);
      }
      assert.ok(openFds() >= baseline + 40, 'each raw socket holds two descriptors here (client and server side)');
      await Promise.all(clients.map((c) => c.closed));
      assert.ok(clients.every((c) => answered(c, 408)), 'Node answered 408 Request Timeout');
      await waitFor(() => openFds() <= baseline, { timeoutMs: 5_000, message: `fds back to ${baseline}` });
      // The WebSocket opened before lives past requestTimeoutMs: upgraded sockets are not requests.
      await assertEchoes(t.url, bystander);
      bystander.ws.close();
    } finally {
      await t.close();
    }
  });

  it('refuses a requestTimeoutMs below headersTimeoutMs', () => {
    assert.throws(() => new SwitchboardServer(new ProtocolTypeRouter({}), { headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 }), /requestTimeoutMs \(1000\) must be 0 or at least headersTimeoutMs \(5000\)/);
  });
});

describe('SwitchboardServer handshakeTimeoutMs', () => {
  it('answers 503 when routing or middleware does not finish in time, and constructs no consumer later', async () => {
    const hanging = new HangingMiddleware(echoRouter);
    const t = await startTestServer(hanging, { handshakeTimeoutMs: 300, logger: silentLogger() });
    try {
      const constructed = Echo.constructed;
      assert.equal(await handshakeStatus(`${t.url}/ws/`), 503);
      assert.equal(t.server.stats.handshakesTimedOut, 1);
      // The middleware answers at last: too late, nobody is constructed for the refused socket.
      for (const release of hanging.waiting.splice(0)) release();
      const late = handshakeStatus(`${t.url}/ws/`);
      await waitFor(() => hanging.waiting.length === 1);
      hanging.waiting.shift()!();
      assert.equal(await late, 101);
      assert.equal(Echo.constructed, constructed + 1, 'only the handshake that went through');
    } finally {
      await t.close();
    }
  });

  it('answers 403 when connect() neither accepts nor closes in time', async () => {
    const t = await startTestServer(echoRouter, { handshakeTimeoutMs: 300, logger: silentLogger() });
    try {
      assert.equal(await handshakeStatus(`${t.url}/ws/undecided/`), 403);
      assert.equal(t.server.stats.handshakesTimedOut, 1);
    } finally {
      await t.close();
    }
  });
});

describe('SwitchboardServer maxConnections', () => {
  it('answers 503 before the upgrade past the cap, counting handshakes in progress, and admits again once one closes', async () => {
    const t = await startTestServer(echoRouter, { maxConnections: 3, logger: silentLogger() });
    try {
      const a = await connectClient(`${t.url}/ws/`);
      const b = await connectClient(`${t.url}/ws/`);
      // A third one in progress: its connect() has not decided yet.
      const started = Undecided.started;
      const pending = new WebSocket(`${t.url}/ws/undecided/`);
      pending.on('error', () => {});
      await waitFor(() => Undecided.started === started + 1);
      const constructed = Echo.constructed;
      assert.equal(await handshakeStatus(`${t.url}/ws/`), 503, 'the fourth is refused');
      assert.equal(Echo.constructed, constructed, 'no consumer for a refused handshake');
      assert.equal(t.server.stats.handshakesOverCapacity, 1);
      await assertEchoes(t.url, a);
      // One closes: room for one more.
      pending.terminate();
      await waitFor(async () => (await handshakeStatus(`${t.url}/ws/`)) === 101, { message: 'admitted again' });
      a.ws.close();
      b.ws.close();
    } finally {
      await t.close();
    }
  });
});

describe('SwitchboardServer maxPendingHandshakesPerIp', () => {
  it('answers 429 to the next connection of an address at the cap; other addresses are served; the count drops as sockets go', async () => {
    const t = await startTestServer(echoRouter, { maxPendingHandshakesPerIp: 3, logger: silentLogger() });
    const port = Number(new URL(t.url).port);
    try {
      const slow: RawClient[] = [];
      for (let i = 0; i < 3; i++) {
        const client = await rawConnect(port);
        client.socket.write(partialUpgrade());
        slow.push(client);
      }
      const fourth = await rawConnect(port);
      await fourth.closed;
      assert.ok(answered(fourth, 429), fourth.received().toString());
      // A WebSocket from the same address is refused too (429, or a reset if it was still writing).
      assert.ok([429, -1].includes(await handshakeStatus(`${t.url}/ws/`)));
      // Another client address (127.0.0.2 reaches 127.0.0.1 on Linux's loopback) is not affected.
      const other = new WebSocket(`${t.url}/ws/`, { localAddress: '127.0.0.2' });
      await once(other, 'open');
      other.close();
      // The slow sockets go: the address may connect again.
      for (const client of slow) client.socket.destroy();
      await waitFor(async () => (await handshakeStatus(`${t.url}/ws/`)) === 101, { message: 'admitted again' });
      // Completed requests do not count: more than three in a row pass.
      for (let i = 0; i < 5; i++) assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    } finally {
      await t.close();
    }
  });

  it('counts upgrades in progress on a server it is attached to', async () => {
    const hanging = new HangingMiddleware(echoRouter);
    const switchboard = new SwitchboardServer(new ProtocolTypeRouter({ websocket: hanging }), { maxPendingHandshakesPerIp: 2, logger: silentLogger() });
    const http = createServer((_req, res) => res.end('owner'));
    switchboard.attach(http);
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      const first = handshakeStatus(`${url}/ws/`);
      const second = handshakeStatus(`${url}/ws/`);
      await waitFor(() => hanging.waiting.length === 2);
      assert.equal(await handshakeStatus(`${url}/ws/`), 429);
      for (const release of hanging.waiting.splice(0)) release();
      assert.deepEqual(await Promise.all([first, second]), [101, 101]);
    } finally {
      await switchboard.close();
      http.close();
    }
  });

  it('refuses a cap below 1', () => {
    assert.throws(() => new SwitchboardServer(new ProtocolTypeRouter({}), { maxPendingHandshakesPerIp: 0 }), RangeError);
    assert.doesNotThrow(() => new SwitchboardServer(new ProtocolTypeRouter({}), { maxConnections: Infinity }));
  });
});
