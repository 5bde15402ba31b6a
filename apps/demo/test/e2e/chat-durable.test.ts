/**
 * Durable catch-up (issue 10 item 3): readers of a busy room (16 messages/s) keep every message
 * exactly once through a Redis restart (a private redis-server killed by PID: history and epoch
 * lost, `recovered: false`) and a 10 s network cut of one reader (more than the 100-event history
 * window): what history cannot give back comes from the database, after the reader's last id.
 * Readers are the client SDK in Node, wired like the chat page (public/chat.js: `after=<lastId>`).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { SwitchboardSocket } from 'switchboard/client';
import { waitFor } from 'switchboard/testing';
import { connectClient, freePort, redisAvailable, startRedisServer, stopProcess, type TestClient } from '@switchboard/test-support';
import { startDemo, type RunningDemo } from '../../app.js';
import { loadConfig } from '../../config.js';

const skip = redisAvailable() ? false : 'redis-server is needed (set REQUIRE_SERVICES=1 to fail instead)';
const RATE_PER_S = 16;
const TOTAL = 240;

/** A TCP proxy in front of the demo that the test can cut: drops every connection and refuses new ones for a while. */
class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #refuseUntil = 0;
  port = 0;

  constructor(targetPort: number) {
    this.#server = createServer((client) => {
      if (Date.now() < this.#refuseUntil) return void client.destroy();
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.#sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  cut(ms: number): void {
    this.#refuseUntil = Date.now() + ms;
    for (const s of this.#sockets) s.destroy();
  }

  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A reader as the chat page is: it remembers the last stored id and reconnects with `after=`. */
function reader(url: string): { socket: SwitchboardSocket; texts: string[] } {
  let lastId: number | null = null;
  const texts: string[] = [];
  const socket = new SwitchboardSocket(url, { WebSocketImpl: WebSocket, minDelayMs: 100, params: () => (lastId === null ? {} : { after: String(lastId) }) });
  socket.on('message', (m) => {
    const frame = m as { message?: unknown; id?: unknown };
    if (typeof frame.message !== 'string') return;
    if (typeof frame.id === 'number') lastId = Math.max(lastId ?? 0, frame.id);
    texts.push(frame.message);
  });
  return { socket, texts };
}

describe('chat: every message exactly once through a Redis restart and a 10 s cut', { skip }, () => {
  let redis: ChildProcess | undefined;
  let redisPort: number;
  let demo: RunningDemo;
  let proxy: CuttableProxy;

  before(async () => {
    redisPort = await freePort();
    redis = await startRedisServer(redisPort);
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', CHANNEL_LAYER_URL: `redis://127.0.0.1:${redisPort}/0` }), { redisPrefix: 'sb:durable:' });
    proxy = new CuttableProxy(demo.port);
    await proxy.listen();
  });

  after(async () => {
    await proxy?.close();
    await demo?.close();
    if (redis) await stopProcess(redis);
  });

  it(`delivers all ${TOTAL} messages at ${RATE_PER_S}/s to a steady reader and to one cut for 10 s`, { timeout: 90_000 }, async (t) => {
    const room = `ws/chat/durable/`;
    const steady = reader(`${demo.url.replace('http', 'ws')}${room}`);
    const cut = reader(`ws://127.0.0.1:${proxy.port}/${room}`);
    let poster: TestClient | undefined;
    try {
      await waitFor(() => steady.socket.state === 'open' && cut.socket.state === 'open', { timeoutMs: 5_000 });
      poster = await connectClient(`${demo.url.replace('http', 'ws')}${room}`);
      for (let i = 0; i < TOTAL; i++) {
        if (i === 40) await stopProcess(redis!); // history and live Redis gone for a while
        if (i === 64) redis = await startRedisServer(redisPort); // back, empty: new epoch
        if (i === 80) proxy.cut(10_000); // 160 messages at 16/s: beyond the 100-event window
        poster.ws.send(JSON.stringify({ message: `m${i}` }));
        await new Promise((resolve) => setTimeout(resolve, 1_000 / RATE_PER_S));
      }
      const expected = Array.from({ length: TOTAL }, (_, i) => `m${i}`);
      for (const [name, r] of [['steady', steady], ['cut', cut]] as const) {
        await waitFor(() => new Set(r.texts).size === TOTAL, { timeoutMs: 30_000, intervalMs: 50, message: `${name} reader has every message` });
        const dupes = r.texts.filter((text, i) => r.texts.indexOf(text) !== i);
        t.diagnostic(`${name}: ${r.texts.length} frames, ${new Set(r.texts).size} distinct, ${dupes.length} duplicates`);
        assert.deepEqual(dupes, [], `${name}: no message twice`);
        assert.deepEqual([...r.texts].sort(), [...expected].sort(), `${name}: every message`);
      }
    } finally {
      poster?.ws.terminate();
      steady.socket.close();
      cut.socket.close();
    }
  });
});
