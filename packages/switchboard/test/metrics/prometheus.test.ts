/** `switchboard/metrics`: server and layer counters exposed through prom-client, read at scrape time. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { JsonWebsocketConsumer, URLRouter, path, type LayerMessage } from 'switchboard';
import { METRICS, registerSwitchboardMetrics } from 'switchboard/metrics';
import { waitFor } from 'switchboard/testing';
import { RedisChannelLayer } from 'switchboard/redis';
import { connectClient, handshakeStatus, startTestServer } from '../helpers.js';
import { REDIS_URL, redisAvailable } from '@switchboard/test-support';

class Room extends JsonWebsocketConsumer {
  override groups = ['room'];
  chatMessage(event: LayerMessage): void {
    this.sendJson(event.payload);
  }
}

/** The value of an unlabelled sample `name` in the text exposition. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('registerSwitchboardMetrics', () => {
  it('reports the server and in-memory layer counters as they are at scrape time', async () => {
    const t = await startTestServer(new URLRouter([path('ws/room/', Room)]));
    const registry = new Registry();
    const names = registerSwitchboardMetrics(registry, { server: t.server, channelLayer: t.layer });
    // The Redis-only counters are not registered for the in-memory layer.
    assert.ok(!names.includes('switchboard_layer_publishes_total'));
    assert.deepEqual(names, METRICS.filter((m) => !/publish|inbox|undeliverable|decode|outages/.test(m.name)).map((m) => m.name));

    let text = await registry.metrics();
    assert.equal(sample(text, 'switchboard_connections_open'), 0);
    assert.match(text, /# TYPE switchboard_connections_accepted_total counter/);
    assert.match(text, /# TYPE switchboard_connections_open gauge/);

    const a = await connectClient(`${t.url}/ws/room/`);
    const b = await connectClient(`${t.url}/ws/room/`);
    assert.equal(await handshakeStatus(`${t.url}/ws/nowhere/`), 404);
    await t.layer.groupSend('room', { type: 'chat.message', payload: { message: 'hi' } });
    await waitFor(() => a.messages.length === 1 && b.messages.length === 1);

    text = await registry.metrics();
    assert.equal(sample(text, 'switchboard_connections_open'), 2);
    assert.equal(sample(text, 'switchboard_connections_accepted_total'), 2);
    assert.equal(sample(text, 'switchboard_handshakes_rejected_total'), 1);
    assert.equal(sample(text, 'switchboard_layer_messages_sent_total'), 1);
    // Scraping twice does not double a counter.
    assert.equal(sample(await registry.metrics(), 'switchboard_connections_accepted_total'), 2);

    a.ws.close();
    await waitFor(() => t.server.stats.connectionsOpen === 1);
    assert.equal(sample(await registry.metrics(), 'switchboard_connections_open'), 1);
    b.ws.close();
    await t.close();
  });

  it('counts handshakes refused for capacity, and none timed out', async () => {
    const t = await startTestServer(new URLRouter([path('ws/room/', Room)]), { maxConnections: 1 });
    const registry = new Registry();
    registerSwitchboardMetrics(registry, { server: t.server, channelLayer: t.layer });
    const a = await connectClient(`${t.url}/ws/room/`);
    assert.equal(await handshakeStatus(`${t.url}/ws/room/`), 503);
    const text = await registry.metrics();
    assert.equal(sample(text, 'switchboard_handshakes_over_capacity_total'), 1);
    assert.equal(sample(text, 'switchboard_handshakes_rejected_total'), 1);
    assert.equal(sample(text, 'switchboard_handshakes_timed_out_total'), 0);
    a.ws.close();
    await t.close();
  });

  it('refuses to register twice on one registry', () => {
    const registry = new Registry();
    const stats = { connectionsOpen: 0, connectionsAccepted: 0, handshakesRejected: 0, slowClientsClosed: 0, deadPeersDropped: 0, handshakesOverCapacity: 0, handshakesTimedOut: 0 };
    registerSwitchboardMetrics(registry, { server: { stats } });
    assert.throws(() => registerSwitchboardMetrics(registry, { server: { stats } }), /already been registered/);
  });

  it('adds the Redis layer counters for a RedisChannelLayer', { skip: redisAvailable() ? false : 'Redis unreachable' }, async () => {
    const layer = await RedisChannelLayer.fromUrl(REDIS_URL, { prefix: `sbmetrics:${process.pid}:` });
    try {
      const registry = new Registry();
      const names = registerSwitchboardMetrics(registry, { channelLayer: layer });
      assert.deepEqual(names, METRICS.filter((m) => m.source === 'channelLayer').map((m) => m.name));
      const inbox = await layer.newChannel();
      layer.attach(inbox, () => true);
      await layer.groupAdd('metrics', inbox);
      await layer.groupSend('metrics', { type: 'x.y' });
      const text = await registry.metrics();
      assert.equal(sample(text, 'switchboard_layer_publishes_total'), 1);
      assert.equal(sample(text, 'switchboard_layer_bare_publishes_total'), 1, 'no named members: a bare PUBLISH');
      assert.equal(sample(text, 'switchboard_layer_scripted_publishes_total'), 0);
      assert.equal(sample(text, 'switchboard_layer_outages_total'), 0);
      await layer.flush();
    } finally {
      await layer.close();
    }
  });
});
