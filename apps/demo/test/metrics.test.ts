/** The demo's `GET /metrics`: Prometheus text behind the API key, live values from the server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from 'switchboard/testing';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { connectClient } from '@switchboard/test-support';

const KEY = 'metrics-test-key-0123456789';

describe('GET /metrics', () => {
  let demo: RunningDemo;

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'metrics-test-secret-0123456789abcdef' }), { apiKey: KEY });
  });

  after(async () => {
    await demo?.close();
  });

  const scrape = (headers: Record<string, string> = {}) => fetch(new URL('/metrics', demo.url), { headers });

  it('answers 401 with WWW-Authenticate without the key or with a wrong one', async () => {
    const none = await scrape();
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="switchboard"');
    const wrong = await scrape({ authorization: 'Bearer wrong-key-0123456789abcdef' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  it('reports open connections and layer sends as they are, plus Node process metrics', async () => {
    const client = await connectClient(demo.url.replace('http', 'ws') + 'ws/chat/lobby/', { headers: { origin: demo.url.slice(0, -1) } });
    client.ws.send(JSON.stringify({ message: 'counted' }));
    await waitFor(() => client.messages.length >= 1);
    const response = await scrape({ authorization: `Bearer ${KEY}` });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^switchboard_connections_open 1$/m);
    assert.match(text, /^switchboard_connections_accepted_total 1$/m);
    assert.match(text, /^switchboard_layer_messages_sent_total [1-9]\d*$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    client.ws.close();
    await client.closed;
  });
});
