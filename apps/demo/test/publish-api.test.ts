/**
 * POST /api/publish: the framework's publish endpoint mounted in a real Fastify instance (inject)
 * behind the demo's API key, and the API key's resolution. The endpoint's own cases (every status,
 * every field) are the framework's tests (packages/switchboard/test/transport/publish-handler.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigError, InMemoryChannelLayer } from 'switchboard';
import { WebsocketCommunicator } from 'switchboard/testing';
import { API_KEY_FILE, resolveApiKey } from '../api/api-key.js';
import { PUBLISH_MAX_BODY_BYTES, registerPublishApi } from '../api/publish.js';
import { SINGLE_ROOM_GROUP } from '../consumers/chat.js';
import { createWebsocketApplication } from '../routing.js';

const KEY = 'test-key-0123456789abcdef';

describe('POST /api/publish', () => {
  const layer = new InMemoryChannelLayer();
  let app: FastifyInstance;

  before(async () => {
    app = Fastify({ logger: false });
    await registerPublishApi(app, { channelLayer: layer, apiKey: KEY });
    await app.ready();
  });

  after(async () => {
    await app.close();
    await layer.close();
  });

  function publish(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) {
    return app.inject({
      method: 'POST',
      url: '/api/publish',
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  const valid = { group: SINGLE_ROOM_GROUP, event: { type: 'chat.message', payload: { message: 'hi', username: 'server' } } };

  it('answers 401 with WWW-Authenticate: Bearer without a key', async () => {
    const res = await publish(valid, {});
    assert.equal(res.statusCode, 401);
    assert.match(String(res.headers['www-authenticate']), /^Bearer realm="switchboard"$/);
    assert.equal(res.json().code, 'SB_ERR_UNAUTHORIZED');
    assert.match(res.json().message, /Authorization: Bearer <token>"; the key is SWITCHBOARD_API_KEY/);
  });

  it('answers 401 with error="invalid_token" for a wrong key, a prefix of it, or another scheme', async () => {
    for (const authorization of [`Bearer ${KEY}x`, `Bearer ${KEY.slice(0, -1)}`, `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}`, 'Bearer']) {
      const res = await publish(valid, { authorization });
      assert.equal(res.statusCode, 401, authorization);
      if (authorization.startsWith('Bearer ') && authorization.length > 7) {
        assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
      }
    }
  });

  it('checks the key before reading the body', async () => {
    const res = await publish('{not json', { authorization: 'Bearer wrong-key-wrong-key' });
    assert.equal(res.statusCode, 401);
  });

  it('answers 400 naming the field when the body misses one', async () => {
    const res = await publish({ event: valid.event });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'SB_ERR_INVALID_MESSAGE');
    assert.match(res.json().message, /must have required property 'group'/);
  });

  it('answers 400 with the layer\'s code and message for a bad group name', async () => {
    const res = await publish({ group: 'chat room', event: valid.event });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      statusCode: 400,
      error: 'Bad Request',
      code: 'SB_ERR_INVALID_GROUP_NAME',
      message: 'publish("chat room"): group names allow [A-Za-z0-9._-] only; found " " at index 4',
    });
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const body = JSON.stringify({ group: SINGLE_ROOM_GROUP, event: { type: 'chat.message', message: 'x'.repeat(PUBLISH_MAX_BODY_BYTES) } });
    const res = await publish(body);
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().code, 'SB_ERR_MESSAGE_TOO_LARGE');
  });

  it('sends the event to the group: a chat client on ws/chat/ receives it, and the answer counts it', async () => {
    const app2 = createWebsocketApplication();
    const a = new WebsocketCommunicator(app2, '/ws/chat/', { channelLayer: layer });
    const b = new WebsocketCommunicator(app2, '/ws/chat/chat_room/', { channelLayer: layer });
    try {
      assert.equal((await a.connect()).accepted, true);
      assert.equal((await b.connect()).accepted, true);
      const res = await publish(valid);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { recipients: 2, dropped: 0, crossProcess: false });
      assert.deepEqual(await a.receiveJson({ timeoutMs: 2_000 }), { message: 'hi', username: 'server' });
      assert.deepEqual(await b.receiveJson({ timeoutMs: 2_000 }), { message: 'hi', username: 'server' });

      // Seed 002's flat form works too.
      const flat = await publish({ group: SINGLE_ROOM_GROUP, event: { type: 'chat.message', message: 'flat' } });
      assert.equal(flat.statusCode, 200);
      assert.deepEqual(await a.receiveJson({ timeoutMs: 2_000 }), { message: 'flat', username: 'server' });
    } finally {
      await a.disconnect();
      await b.disconnect();
    }
  });

  it('answers 200 with zero recipients for a group nobody is in', async () => {
    const res = await publish({ group: 'chat_empty', event: { type: 'chat.message', message: 'anyone?' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { recipients: 0, dropped: 0, crossProcess: false });
  });

  it('answers 503 once the layer is closed', async () => {
    const closedLayer = new InMemoryChannelLayer();
    const app3 = Fastify({ logger: false });
    await registerPublishApi(app3, { channelLayer: closedLayer, apiKey: KEY });
    await app3.ready();
    await closedLayer.close();
    try {
      const res = await app3.inject({ method: 'POST', url: '/api/publish', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, payload: JSON.stringify(valid) });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().code, 'SB_ERR_LAYER_CLOSED');
    } finally {
      await app3.close();
    }
  });

  it('refuses a key shorter than 16 characters at registration', async () => {
    const app4 = Fastify({ logger: false });
    await assert.rejects(registerPublishApi(app4, { channelLayer: layer, apiKey: 'short' }), /at least 16 characters/);
    await app4.close().catch(() => undefined);
  });
});

describe('resolveApiKey', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-api-key-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uses SWITCHBOARD_API_KEY when set', async () => {
    const key = await resolveApiKey({ env: { SWITCHBOARD_API_KEY: KEY }, dataDir: join(dir, 'env') });
    assert.deepEqual(key, { key: KEY, generated: false, source: { kind: 'env', variable: 'SWITCHBOARD_API_KEY' } });
  });

  it('refuses a short or spaced SWITCHBOARD_API_KEY at start-up', async () => {
    await assert.rejects(resolveApiKey({ env: { SWITCHBOARD_API_KEY: 'short' }, dataDir: dir }), (e: unknown) => e instanceof ConfigError && e.variable === 'SWITCHBOARD_API_KEY');
    await assert.rejects(resolveApiKey({ env: { SWITCHBOARD_API_KEY: 'a key with spaces inside' }, dataDir: dir }), /whitespace/);
  });

  it('generates a key once, stores it with mode 0600, and returns the stored one afterwards', async () => {
    const dataDir = join(dir, 'data');
    const first = await resolveApiKey({ env: {}, dataDir });
    assert.equal(first.generated, true);
    assert.match(first.key, /^[A-Za-z0-9_-]{32}$/);
    const path = join(dataDir, API_KEY_FILE);
    assert.deepEqual(first.source, { kind: 'file', path });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await readFile(path, 'utf8')).trim(), first.key);
    const second = await resolveApiKey({ env: {}, dataDir });
    assert.deepEqual(second, { key: first.key, generated: false, source: { kind: 'file', path } });
  });

  it('refuses an empty stored key, naming the file', async () => {
    const dataDir = join(dir, 'empty');
    await resolveApiKey({ env: {}, dataDir });
    await writeFile(join(dataDir, API_KEY_FILE), '\n');
    await assert.rejects(resolveApiKey({ env: {}, dataDir }), (e: unknown) => e instanceof ConfigError && e.message.includes(join(dataDir, API_KEY_FILE)));
  });
});
