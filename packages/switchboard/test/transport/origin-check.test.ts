/**
 * The server's own origin check, on with no option set (RFC 6455 §10.2, cross-site WebSocket
 * hijacking): real handshakes on 127.0.0.1, counting the consumers constructed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocket, type ClientOptions } from 'ws';
import { ConfigError, ProtocolTypeRouter, SwitchboardServer, URLRouter, WebsocketConsumer, path } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { startTestServer, type TestServer } from '../helpers.js';

/** Counts every instance constructed, refused handshakes included. */
class CountingConsumer extends WebsocketConsumer {
  static constructed = 0;
  readonly counted = ++CountingConsumer.constructed;
  override connect(): void {
    this.accept();
  }
}

const router = new URLRouter([path('ws/', CountingConsumer)]);

/** 101 when the handshake is accepted (then closes), else the HTTP status of the refusal. */
function handshake(url: string, options: ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.close();
      ws.once('close', () => resolve(101));
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? -1);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('SwitchboardServer origin check (no options)', () => {
  let t: TestServer;
  let port: number;
  const lines: Array<{ msg: string; reason?: string; status?: number }> = [];
  before(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    t = await startTestServer(router, { logger });
    port = Number(new URL(t.url).port);
  });
  after(() => t.close());

  /** Asserts `origin` gets `status`, and that a refusal constructed no consumer. */
  async function expectStatus(status: number, options: ClientOptions): Promise<void> {
    const before = CountingConsumer.constructed;
    const rejected = t.server.stats.handshakesRejected;
    assert.equal(await handshake(`${t.url}/ws/`, options), status, JSON.stringify(options.headers ?? options.origin));
    if (status === 101) {
      assert.equal(CountingConsumer.constructed, before + 1);
    } else {
      assert.equal(CountingConsumer.constructed, before, 'a refused handshake constructs no consumer');
      assert.equal(t.server.stats.handshakesRejected, rejected + 1);
    }
  }

  it('refuses a foreign Origin with 403 before the upgrade, constructing no consumer', async () => {
    await expectStatus(403, { origin: 'http://evil.example' });
    await expectStatus(403, { origin: 'https://127.0.0.1.evil.example' });
    await expectStatus(403, { origin: 'not a url' });
    await waitFor(() => lines.some((l) => l.status === 403 && l.reason === 'origin "http://evil.example" is not this server\'s host nor in allowedOrigins'));
  });

  it("accepts the request's own host, with the scheme's default port", async () => {
    await expectStatus(101, { origin: `http://chat.example:${port}`, headers: { host: `chat.example:${port}` } });
    await expectStatus(101, { origin: 'https://chat.example', headers: { host: 'chat.example' } });
    await expectStatus(101, { origin: 'http://chat.example', headers: { host: 'chat.example:80' } });
    // Same host, another port or scheme: another origin.
    await expectStatus(403, { origin: 'http://chat.example:9999', headers: { host: `chat.example:${port}` } });
    await expectStatus(403, { origin: 'http://chat.example', headers: { host: 'chat.example:443' } });
    await expectStatus(403, { origin: 'http://chat.example', headers: { host: 'evil.example' } });
  });

  it('accepts localhost, 127.0.0.1 and [::1] on any port', async () => {
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080', 'https://localhost']) {
      await expectStatus(101, { origin, headers: { host: 'chat.example' } });
    }
  });

  it('accepts a handshake without Origin (not a browser)', async () => {
    await expectStatus(101, {});
  });

  it('refuses Origin: null, naming the option that admits it', async () => {
    await expectStatus(403, { origin: 'null' });
    await waitFor(() => lines.some((l) => l.status === 403 && l.reason?.includes("list 'null' (or '*') in allowedOrigins") === true));
  });

  it('refuses a hybi-08 handshake whose Sec-WebSocket-Origin is foreign, and accepts a local one', async () => {
    // ws sends the origin as Sec-WebSocket-Origin for protocol versions below 13.
    await expectStatus(403, { protocolVersion: 8, origin: 'http://evil.example' });
    await expectStatus(101, { protocolVersion: 8, origin: 'http://localhost:3000' });
    await expectStatus(403, { protocolVersion: 8, headers: { 'sec-websocket-origin': 'null' } });
    // Both headers present: each must pass.
    await expectStatus(403, { origin: 'http://localhost:3000', headers: { 'sec-websocket-origin': 'http://evil.example' } });
    await waitFor(() => lines.some((l) => l.reason === 'Sec-WebSocket-Origin: origin "http://evil.example" is not this server\'s host nor in allowedOrigins'));
  });
});

describe('SwitchboardServer allowedOrigins', () => {
  /** The status each origin gets from a server with `allowedOrigins` (Origin header, or hybi-08's with `v8:`). */
  async function statuses(allowedOrigins: string[], origins: string[]): Promise<number[]> {
    const t = await startTestServer(router, { allowedOrigins });
    try {
      const out = [];
      for (const origin of origins) {
        const options: ClientOptions = origin.startsWith('v8:') ? { protocolVersion: 8, origin: origin.slice(3) } : { origin };
        out.push(await handshake(`${t.url}/ws/`, options));
      }
      return out;
    } finally {
      await t.close();
    }
  }

  it('widens the check to the listed origins and patterns, nothing else', async () => {
    const origins = ['https://app.example', 'https://eu.partner.example', 'http://app.example', 'https://other.example', 'null', 'http://localhost:3000'];
    // Another scheme is another origin; the always-allowed ones stay allowed.
    assert.deepEqual(await statuses(['https://app.example', '.partner.example'], origins), [101, 101, 403, 403, 403, 101]);
  });

  it("admits Origin: null when 'null' is listed", async () => {
    assert.deepEqual(await statuses(['null'], ['null', 'http://evil.example']), [101, 403]);
  });

  it("turns the check off with ['*'], Origin: null included", async () => {
    assert.deepEqual(await statuses(['*'], ['http://evil.example', 'null', 'v8:http://evil.example']), [101, 101, 101]);
  });

  it('refuses a malformed pattern at construction with ConfigError', () => {
    assert.throws(
      () => new SwitchboardServer(new ProtocolTypeRouter({ websocket: router }), { allowedOrigins: ['https://app.example/path'] }),
      (err: unknown) => err instanceof ConfigError && err.code === 'SB_ERR_CONFIG' && err.variable === 'allowedOrigins',
    );
  });
});
