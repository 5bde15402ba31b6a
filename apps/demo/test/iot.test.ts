/**
 * IoT: the ingestion API (auth, validation, limits), the readings stores, SensorConsumer's
 * history-then-live protocol, the simulated sensor client, the /two/ page and vendor scripts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Eta } from 'eta';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { after, before, describe, it } from 'node:test';
import { CookieMiddleware, InMemoryChannelLayer, URLRouter } from 'switchboard';
import { WebsocketCommunicator, waitFor } from 'switchboard/testing';
import { guestCookie } from './guest-cookie.js';
import { readingsEvent, sensorGroup, type HistoryFrame, type ReadingFrame } from '../consumers/iot.js';
import { MemoryGameStore } from '../game/game-store.js';
import { IOT_MAX_BATCH, isIsoDateTime, registerIotApi } from '../iot/ingest-api.js';
import { MemoryReadingsStore, RedisReadingsStore } from '../iot/readings-store.js';
import { SimulateSensorError, simulateSensor } from '../iot/simulate-sensor.js';
import { CHART_ADAPTER_URL, CHART_JS_URL, registerSystemPages } from '../systems-http.js';
import { systemRoutes } from '../systems-routes.js';
import { REDIS_URL, redisAvailable } from '@switchboard/test-support';
import { DEMO_ROOT } from './paths.js';
import { API_KEY, apiApp, auth } from './iot-fixtures.js';

interface ErrorBody {
  statusCode: number;
  message: string;
}

describe('POST /api/iot/:sensor/readings', () => {
  const layer = new InMemoryChannelLayer();
  const store = new MemoryReadingsStore();
  let app: FastifyInstance;
  before(async () => {
    app = await apiApp(layer, store);
  });
  after(async () => {
    await app.close();
    await layer.close();
  });

  const post = (sensor: string, payload: unknown, headers: Record<string, string> = auth) =>
    app.inject({ method: 'POST', url: `/api/iot/${sensor}/readings`, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });

  it('accepts one reading and answers {accepted: 1}', async () => {
    const res = await post('api-one', { value: 21.5, ts: '2024-05-01T12:00:00+02:00' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { accepted: 1 });
    assert.deepEqual(await store.recent('api-one'), [{ seq: 1, value: 21.5, ts: '2024-05-01T10:00:00.000Z' }]);
  });

  it('accepts a batch, in order, and stamps readings without ts with the arrival time', async () => {
    const before = Date.now();
    const res = await post('api-batch', [{ value: 1 }, { value: -2.25, ts: '2024-05-01T12:00:00Z' }, { value: 3e10 }]);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { accepted: 3 });
    const stored = await store.recent('api-batch');
    assert.deepEqual(stored.map((r) => [r.seq, r.value]), [[1, 1], [2, -2.25], [3, 3e10]]);
    assert.ok(Date.parse(stored[0]!.ts) >= before - 1);
    assert.equal(stored[1]!.ts, '2024-05-01T12:00:00.000Z');
  });

  it('accepts a batch of 1000', async () => {
    const res = await post('api-max', Array.from({ length: IOT_MAX_BATCH }, (_, i) => ({ value: i })));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { accepted: IOT_MAX_BATCH });
  });

  it('answers 401 without a key, with a wrong key, or with another scheme', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-key-0123456789abcdef' }, { authorization: `Basic ${API_KEY}` }, { authorization: 'Bearer' }, { authorization: `Bearer ${API_KEY}x` }];
    for (const headers of attempts) {
      const res = await post('api-auth', { value: 1 }, headers);
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.match(res.headers['www-authenticate'] as string, /^Bearer/);
    }
    assert.deepEqual(await store.recent('api-auth'), [], 'nothing was stored');
  });

  it('answers 401 before reading the body, even an oversized one', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/iot/api-auth/readings', headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(200_000) });
    assert.equal(res.statusCode, 401);
  });

  it('answers 400 with the reason for a bad reading', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ value: 'abc' }, /body\/value must be number/],
      [{ value: '12' }, /body\/value must be number/], // no type coercion
      [{ value: null }, /body\/value must be number/],
      [{ value: true }, /body\/value must be number/],
      [{}, /must have required property 'value'/],
      [{ value: 1, ts: 'yesterday' }, /body\/ts must be an ISO-8601 date-time/],
      [{ value: 1, ts: '2024-02-30T00:00:00Z' }, /body\/ts must be an ISO-8601 date-time/],
      [{ value: 1, ts: '2024-05-01T12:00:00' }, /body\/ts must be an ISO-8601 date-time/], // no time zone
      [{ value: 1, ts: 1714564800000 }, /body\/ts must be string/],
      [{ value: 1, unit: 'C' }, /unknown property "unit"/],
      [[{ value: 1 }, { value: 'x' }], /body\/1\/value must be number/],
      [[], /body must NOT have fewer than 1 items/],
      [Array.from({ length: IOT_MAX_BATCH + 1 }, () => ({ value: 1 })), /body must NOT have more than 1000 items/],
      ['42', /body must be a reading .* sent as Content-Type: application\/json/],
      [null, /body must be a reading/],
    ];
    for (const [payload, reason] of cases) {
      const res = await post('api-bad', payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload).slice(0, 60)}: ${res.body}`);
      assert.match(res.json<ErrorBody>().message, reason);
    }
    assert.deepEqual(await store.recent('api-bad'), [], 'nothing was stored');
  });

  it('answers 400 for a bad sensor name', async () => {
    for (const sensor of ['a.b', 'x'.repeat(65), '%C3%A9t%C3%A9']) {
      const res = await post(sensor, { value: 1 });
      assert.equal(res.statusCode, 400, sensor);
      assert.match(res.json<ErrorBody>().message, /params\/sensor must be 1 to 64 characters/);
    }
  });

  it('answers 400 for a body that is not JSON, 415 for a type it cannot read', async () => {
    const broken = await app.inject({ method: 'POST', url: '/api/iot/api-bad/readings', headers: { 'content-type': 'application/json', ...auth }, payload: '{"value": ' });
    assert.equal(broken.statusCode, 400);
    const text = await app.inject({ method: 'POST', url: '/api/iot/api-bad/readings', headers: { 'content-type': 'text/plain', ...auth }, payload: '{"value": 1}' });
    assert.equal(text.statusCode, 400);
    assert.match(text.json<ErrorBody>().message, /application\/json/);
    const xml = await app.inject({ method: 'POST', url: '/api/iot/api-bad/readings', headers: { 'content-type': 'application/xml', ...auth }, payload: '<value>1</value>' });
    assert.equal(xml.statusCode, 415);
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const big = JSON.stringify(Array.from({ length: 1000 }, () => ({ value: 1, ts: '2024-05-01T12:00:00.000000000+00:00' }))) + ' '.repeat(30_000);
    assert.ok(big.length > 64 * 1024);
    const res = await app.inject({ method: 'POST', url: '/api/iot/api-big/readings', headers: { 'content-type': 'application/json', ...auth }, payload: big });
    assert.equal(res.statusCode, 413);
  });

  it('answers 503 naming IOT_API_KEY when the demo has no key', async () => {
    const off = await apiApp(layer, store, null);
    try {
      const res = await off.inject({ method: 'POST', url: '/api/iot/s1/readings', headers: { 'content-type': 'application/json', ...auth }, payload: '{"value": 1}' });
      assert.equal(res.statusCode, 503);
      assert.match(res.json<ErrorBody>().message, /IOT_API_KEY/);
    } finally {
      await off.close();
    }
  });

  it('refuses a short key at start-up', () => {
    assert.throws(() => registerIotApi(Fastify(), { channelLayer: layer, store, apiKey: 'short' }), /IOT_API_KEY: .*at least 16/);
  });
});

describe('isIsoDateTime', () => {
  it('accepts RFC 3339 date-times with a zone and refuses the rest', () => {
    for (const s of ['2024-05-01T12:00:00Z', '2024-05-01T12:00Z', '2024-05-01T12:00:00.123+02:00', '2024-02-29T23:59:59-0130']) assert.ok(isIsoDateTime(s), s);
    for (const s of ['2024-05-01', '2024-05-01T12:00:00', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-05-01T24:00:00Z', 'now', '']) assert.ok(!isIsoDateTime(s), s);
  });
});

describe('SensorConsumer', () => {
  const layer = new InMemoryChannelLayer();
  const store = new MemoryReadingsStore();
  const router = new CookieMiddleware(new URLRouter(systemRoutes({ readingsStore: store, gameStore: new MemoryGameStore() })));
  const open: WebsocketCommunicator[] = [];
  let app: FastifyInstance;
  before(async () => {
    app = await apiApp(layer, store);
  });
  after(async () => {
    await Promise.all(open.map((c) => c.disconnect()));
    await app.close();
    await layer.close();
  });

  async function watch(sensor: string): Promise<WebsocketCommunicator> {
    const c = new WebsocketCommunicator(router, `/ws/iot/${sensor}/`, { channelLayer: layer });
    open.push(c);
    assert.equal((await c.connect()).accepted, true);
    return c;
  }

  const post = (sensor: string, payload: unknown) =>
    app.inject({ method: 'POST', url: `/api/iot/${sensor}/readings`, headers: { 'content-type': 'application/json', ...auth }, payload: JSON.stringify(payload) });

  it('sends an empty history first, then each posted reading live', async () => {
    const page = await watch('live');
    assert.deepEqual(await page.receiveJson<HistoryFrame>(), { type: 'history', sensor: 'live', readings: [] });
    assert.equal((await post('live', { value: 7, ts: '2024-05-01T12:00:00Z' })).statusCode, 200);
    assert.deepEqual(await page.receiveJson<ReadingFrame>(), { type: 'reading', sensor: 'live', seq: 1, value: 7, ts: '2024-05-01T12:00:00.000Z' });
    assert.equal((await post('live', [{ value: 8 }, { value: 9 }])).statusCode, 200);
    const a = await page.receiveJson<ReadingFrame>();
    const b = await page.receiveJson<ReadingFrame>();
    assert.deepEqual([a.seq, a.value, b.seq, b.value], [2, 8, 3, 9]);
  });

  it('gives a late page the recent readings first, oldest first, then live ones', async () => {
    await post('late', [{ value: 1 }, { value: 2 }, { value: 3 }]);
    const early = await watch('late');
    await early.receiveJson();
    const late = await watch('late');
    const history = await late.receiveJson<HistoryFrame>();
    assert.equal(history.type, 'history');
    assert.deepEqual(history.readings.map((r) => r.value), [1, 2, 3]);
    await post('late', { value: 4 });
    for (const page of [early, late]) {
      const live = await page.receiveJson<ReadingFrame>();
      assert.deepEqual([live.type, live.seq, live.value], ['reading', 4, 4]);
    }
  });

  it('keeps sensors apart', async () => {
    const a = await watch('apart-a');
    const b = await watch('apart-b');
    await a.receiveJson();
    await b.receiveJson();
    await post('apart-a', { value: 1 });
    assert.equal((await a.receiveJson<ReadingFrame>()).value, 1);
    assert.equal(await b.receiveNothing(), true);
  });

  it('does not repeat a reading that is both in the history and in a live event', async () => {
    const stored = await store.add('overlap', [{ value: 1, ts: '2024-05-01T00:00:01Z' }, { value: 2, ts: '2024-05-01T00:00:02Z' }]);
    const page = await watch('overlap');
    assert.deepEqual((await page.receiveJson<HistoryFrame>()).readings.map((r) => r.seq), [1, 2]);
    // As when a POST lands between the page joining the group and reading the history.
    const [third] = await store.add('overlap', [{ value: 3, ts: '2024-05-01T00:00:03Z' }]);
    await layer.groupSend(sensorGroup('overlap'), readingsEvent('overlap', [stored[1]!, third!]));
    assert.equal((await page.receiveJson<ReadingFrame>()).seq, 3);
    assert.equal(await page.receiveNothing(), true);
  });

  it('refuses a sensor name outside [A-Za-z0-9_-]{1,64} before the handshake', async () => {
    for (const sensor of ['bad.name', 'x'.repeat(65), 'caf%C3%A9']) {
      const c = new WebsocketCommunicator(router, `/ws/iot/${sensor}/`, { channelLayer: layer });
      const result = await c.connect();
      assert.equal(result.accepted, false, sensor);
      assert.equal(result.status, 403);
    }
  });

  it('ignores messages from the page', async () => {
    const page = await watch('quiet');
    await page.receiveJson();
    await page.sendJson({ value: 1 });
    await page.sendJson({ type: 'reading', value: 2 });
    assert.equal(await page.receiveNothing(), true);
    assert.deepEqual(await store.recent('quiet'), [], 'a page cannot post readings');
  });
});

describe('MemoryReadingsStore', () => {
  it('keeps the last perSensor readings per sensor, oldest first, numbered on', async () => {
    const store = new MemoryReadingsStore({ perSensor: 3 });
    for (let i = 1; i <= 5; i++) await store.add('s', [{ value: i, ts: new Date(i).toISOString() }]);
    assert.deepEqual((await store.recent('s')).map((r) => [r.seq, r.value]), [[3, 3], [4, 4], [5, 5]]);
    assert.deepEqual((await store.recent('s', 2)).map((r) => r.seq), [4, 5]);
    assert.deepEqual(await store.recent('unknown'), []);
  });

  it('forgets the sensor written to least recently beyond maxSensors', async () => {
    const store = new MemoryReadingsStore({ maxSensors: 2 });
    const r = [{ value: 1, ts: new Date(0).toISOString() }];
    await store.add('a', r);
    await store.add('b', r);
    await store.add('a', r);
    await store.add('c', r);
    assert.equal((await store.recent('b')).length, 0);
    assert.equal((await store.recent('a')).length, 2);
    assert.equal((await store.recent('c')).length, 1);
  });
});

describe('RedisReadingsStore', { skip: !redisAvailable() && `Redis unreachable at ${REDIS_URL}` }, () => {
  const prefix = `sbtest:${randomUUID().slice(0, 8)}:`;
  const clients: Redis[] = [];
  const client = (): Redis => {
    const c = new Redis(REDIS_URL);
    clients.push(c);
    return c;
  };
  after(async () => {
    await new RedisReadingsStore(client(), { prefix }).clear();
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('keeps the last perSensor readings, oldest first, with full float precision', async () => {
    const store = new RedisReadingsStore(client(), { prefix, perSensor: 3 });
    await store.add('s', [{ value: 0.1 + 0.2, ts: '2024-05-01T00:00:00.000Z' }]);
    await store.add('s', [2, 3, 4].map((v) => ({ value: v, ts: '2024-05-01T00:00:00.000Z' })));
    const recent = await store.recent('s');
    assert.deepEqual(recent.map((r) => [r.seq, r.value]), [[2, 2], [3, 3], [4, 4]]);
    await store.add('p', [{ value: 0.1 + 0.2, ts: '2024-05-01T00:00:00.000Z' }]);
    assert.equal((await store.recent('p'))[0]!.value, 0.30000000000000004);
  });

  it('numbers concurrent appends from two processes without gaps or repeats, in list order', async () => {
    const a = new RedisReadingsStore(client(), { prefix });
    const b = new RedisReadingsStore(client(), { prefix });
    const ts = '2024-05-01T00:00:00.000Z';
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).add('race', [{ value: i, ts }, { value: i, ts }])));
    const seqs = results.flat().map((r) => r.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, Array.from({ length: 80 }, (_, i) => i + 1));
    const listed = (await a.recent('race')).map((r) => r.seq);
    assert.deepEqual(listed, [...listed].sort((x, y) => x - y), 'list order is seq order');
  });
});

describe('simulateSensor', () => {
  const layer = new InMemoryChannelLayer();
  const store = new MemoryReadingsStore();
  let app: FastifyInstance;
  let url: string;
  before(async () => {
    app = await apiApp(layer, store);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
    await layer.close();
  });

  it('posts count readings at the rate, values within 0..100', async () => {
    const started = performance.now();
    const { sent } = await simulateSensor({ url, apiKey: API_KEY, sensor: 'sim', ratePerSecond: 50, count: 10 });
    assert.equal(sent, 10);
    assert.ok(performance.now() - started >= 150, 'paced at ~50/s, not all at once');
    const stored = await store.recent('sim');
    assert.equal(stored.length, 10);
    for (const r of stored) assert.ok(r.value >= 0 && r.value <= 100);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const run = simulateSensor({ url, apiKey: API_KEY, sensor: 'sim-abort', ratePerSecond: 20, signal: controller.signal });
    await waitFor(async () => (await store.recent('sim-abort')).length >= 2);
    controller.abort();
    // Resolves (the loop ended) with what was accepted before the abort.
    const { sent } = await run;
    assert.ok(sent >= 1);
  });

  it('fails with the status and reason on a wrong key', async () => {
    await assert.rejects(simulateSensor({ url, apiKey: 'wrong-key-0123456789abcdef', sensor: 'sim', ratePerSecond: 5, count: 1 }), (err: unknown) => {
      assert.ok(err instanceof SimulateSensorError);
      assert.equal(err.status, 401);
      assert.match(err.message, /401: wrong API key/);
      return true;
    });
  });

  it('checks its arguments', async () => {
    await assert.rejects(simulateSensor({ url, apiKey: API_KEY, sensor: 'bad name', ratePerSecond: 5 }), RangeError);
    await assert.rejects(simulateSensor({ url, apiKey: API_KEY, sensor: 's', ratePerSecond: 0 }), RangeError);
  });
});

describe('IoT page and vendor scripts', () => {
  let app: FastifyInstance;
  before(async () => {
    const eta = new Eta({ views: join(DEMO_ROOT, 'views'), autoEscape: true });
    app = Fastify({ logger: false });
    await registerSystemPages(app, { render: (view, data) => eta.render(view, data) });
    await app.ready();
  });
  after(() => app.close());

  it('serves /two/ with the chart, the sensors to watch, and local Chart.js', async () => {
    const res = await app.inject({ url: '/two/?sensors=s1,kitchen,bad.name,s1' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.match(res.body, /<canvas id="iot-chart"/);
    assert.match(res.body, /data-sensors="s1,kitchen"/);
    assert.ok(res.body.includes(`<script src="${CHART_JS_URL}" defer>`));
    assert.ok(res.body.includes(`<script src="${CHART_ADAPTER_URL}" defer>`));
    assert.doesNotMatch(res.body, /https?:\/\/cdn/i);
    assert.match(res.headers['set-cookie'] as string, /^sb_guest=guest-[a-z0-9]+\.[A-Za-z0-9_-]{22};/);
  });

  it('serves /one/ with the seed element', async () => {
    const res = await app.inject({ url: '/one/', headers: { cookie: guestCookie('guest-abcd12') } });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<p id="one"[ >]/);
    assert.match(res.body, /guest-abcd12/);
    assert.equal(res.headers['set-cookie'], undefined);
  });

  it('serves Chart.js and the date adapter from node_modules, cacheable', async () => {
    for (const url of [CHART_JS_URL, CHART_ADAPTER_URL]) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.headers['content-type'] as string, /^text\/javascript/);
      assert.ok(res.body.length > 10_000);
      const etag = res.headers.etag as string;
      assert.ok(etag);
      assert.equal((await app.inject({ url, headers: { 'if-none-match': etag } })).statusCode, 304);
    }
    assert.match((await app.inject({ url: CHART_JS_URL })).body, /Chart\.js v4/);
  });
});
