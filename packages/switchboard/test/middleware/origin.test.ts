/** OriginValidator and AllowedHostsOriginValidator: a refused origin gets 403 before the upgrade. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, WebsocketConsumer } from 'switchboard';
import { WebsocketCommunicator } from 'switchboard/testing';
import { AllowedHostsOriginValidator, LOCAL_ALLOWED_HOSTS, OriginValidator, isOriginAllowed, parseOriginPatterns } from '../../src/middleware/origin.js';
import { handshakeStatus, startTestServer, type TestServer } from '../helpers.js';

class AcceptConsumer extends WebsocketConsumer {}

async function connect(app: OriginValidator, origin?: string) {
  const c = new WebsocketCommunicator(app, '/ws/', { headers: origin === undefined ? {} : { origin }, channelLayer: null });
  const result = await c.connect();
  await c.disconnect();
  return result;
}

function allowed(patterns: string[], origin: string | undefined): boolean {
  return isOriginAllowed(origin, parseOriginPatterns(patterns));
}

describe('OriginValidator', () => {
  const app = new OriginValidator(AcceptConsumer, ['https://example.com', 'http://localhost:8000']);

  it('refuses a foreign Origin with 403 before the upgrade', async () => {
    assert.deepEqual(await connect(app, 'https://evil.example.net'), { accepted: false, status: 403 });
  });

  it('accepts an allowed Origin', async () => {
    assert.equal((await connect(app, 'https://example.com')).accepted, true);
    assert.equal((await connect(app, 'http://localhost:8000')).accepted, true);
  });

  it('refuses a missing Origin unless * is listed (as Channels)', async () => {
    assert.equal((await connect(app)).status, 403);
    assert.equal((await connect(new OriginValidator(AcceptConsumer, ['*']))).accepted, true);
  });

  it('refuses the opaque origin "null" and garbage', () => {
    assert.equal(allowed(['https://example.com'], 'null'), false);
    assert.equal(allowed(['https://example.com'], 'not a url'), false);
    assert.equal(allowed(['*'], 'null'), true);
  });

  it('compares scheme and port, with the scheme\'s default port', () => {
    const p = ['https://example.com'];
    assert.equal(allowed(p, 'https://example.com:443'), true);
    assert.equal(allowed(p, 'http://example.com'), false);
    assert.equal(allowed(p, 'https://example.com:8443'), false);
    assert.equal(allowed(['http://localhost:8000'], 'http://localhost:8001'), false);
    assert.equal(allowed(['HTTPS://Example.COM'], 'https://example.com'), true);
  });

  it('matches a host without a scheme on any scheme, and on its port when given', () => {
    assert.equal(allowed(['localhost'], 'http://localhost:5173'), true);
    assert.equal(allowed(['localhost'], 'https://localhost'), true);
    assert.equal(allowed(['localhost:8000'], 'http://localhost:8000'), true);
    assert.equal(allowed(['localhost:8000'], 'http://localhost:9000'), false);
    assert.equal(allowed(['[::1]'], 'http://[::1]:8000'), true);
    assert.equal(allowed(['[0:0::1]'], 'http://[::1]:8000'), true);
  });

  it('matches .example.com as the domain and its subdomains, *.example.com as subdomains only', () => {
    assert.equal(allowed(['.example.com'], 'https://example.com'), true);
    assert.equal(allowed(['.example.com'], 'https://a.b.example.com'), true);
    assert.equal(allowed(['*.example.com'], 'https://a.example.com'), true);
    assert.equal(allowed(['*.example.com'], 'https://example.com'), false);
    assert.equal(allowed(['https://*.example.com'], 'http://a.example.com'), false);
    for (const p of ['.example.com', '*.example.com', 'example.com']) {
      assert.equal(allowed([p], 'https://evilexample.com'), false, p);
      assert.equal(allowed([p], 'https://example.com.evil.net'), false, p);
    }
  });

  it('rejects bad patterns and an empty list at construction with ConfigError', () => {
    for (const bad of ['https://example.com/', 'https://example.com/path', 'http://', 'exa mple.com', 'host:99999', '']) {
      assert.throws(
        () => new OriginValidator(AcceptConsumer, [bad], 'ALLOWED_ORIGINS'),
        (err: unknown) => err instanceof ConfigError && err.code === 'SB_ERR_CONFIG' && err.variable === 'ALLOWED_ORIGINS',
        bad,
      );
    }
    assert.throws(() => new OriginValidator(AcceptConsumer, []), ConfigError);
  });

  describe('over a real socket', () => {
    let t: TestServer;
    before(async () => {
      // The server's own check is turned off so that the middleware alone decides.
      t = await startTestServer(new OriginValidator(AcceptConsumer, ['http://good.test']), { allowedOrigins: ['*'] });
    });
    after(() => t.close());

    it('answers 403 to a foreign Origin and 101 to an allowed one', async () => {
      assert.equal(await handshakeStatus(`${t.url}/ws/`, { origin: 'http://evil.test' }), 403);
      assert.equal(await handshakeStatus(`${t.url}/ws/`, { origin: 'http://good.test' }), 101);
    });
  });
});

describe('AllowedHostsOriginValidator', () => {
  it('accepts listed hosts on any port and refuses others', async () => {
    const app = new AllowedHostsOriginValidator(AcceptConsumer, LOCAL_ALLOWED_HOSTS);
    assert.equal((await connect(app, 'http://127.0.0.1:45678')).accepted, true);
    assert.equal((await connect(app, 'http://localhost:8000')).accepted, true);
    assert.equal((await connect(app, 'http://[::1]:8000')).accepted, true);
    assert.equal((await connect(app, 'http://192.168.1.10:8000')).status, 403);
    assert.equal((await connect(app)).status, 403);
  });

  it('refuses entries with a scheme', () => {
    assert.throws(() => new AllowedHostsOriginValidator(AcceptConsumer, ['https://example.com']), ConfigError);
  });
});
