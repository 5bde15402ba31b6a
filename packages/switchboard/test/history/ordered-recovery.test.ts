/**
 * Recovery stays exact when live delivery reorders offsets: two servers on one Redis publish to
 * one group with history, so a client can get offset N+1 (from the other process, through Redis)
 * before N (local). The SDK's position is contiguous: a client cut right after such a delivery
 * reconnects from before the gap, gets N replayed and N+1 not twice.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { JsonWebsocketConsumer, ProtocolTypeRouter, SwitchboardServer, URLRouter, historyRecovery, path, silentLogger, withPosition, type LayerEvent } from 'switchboard';
import { SwitchboardSocket } from 'switchboard/client';
import { RedisChannelLayer, RedisHistoryStore } from 'switchboard/redis';
import { waitFor } from 'switchboard/testing';
import { redisAvailable, REDIS_URL } from '@switchboard/test-support';
import { PositionTracker } from '../../src/client/position.js';

describe('PositionTracker', () => {
  it('stays before a gap until it is filled, and reports what it already has as duplicates', () => {
    const t = new PositionTracker();
    assert.equal(t.see({ epoch: 'e', offset: 5 }), true);
    assert.equal(t.see({ epoch: 'e', offset: 7 }), true, '7 before 6');
    assert.deepEqual(t.position, { epoch: 'e', offset: 5 }, 'a cut now reconnects from 5: 6 is replayed');
    assert.equal(t.see({ epoch: 'e', offset: 7 }), false, 'the replayed 7 is a duplicate');
    assert.equal(t.see({ epoch: 'e', offset: 6 }), true);
    assert.deepEqual(t.position, { epoch: 'e', offset: 7 }, '6 fills the gap up to 7');
    assert.equal(t.see({ epoch: 'e', offset: 3 }), false);
    assert.equal(t.see({ epoch: 'f', offset: 1 }), true, 'a new epoch starts over');
    assert.deepEqual(t.position, { epoch: 'f', offset: 1 });
  });
});

interface FeedEvents {
  'feed.item': { readonly payload: { readonly n: number } };
}

/** Publishes `{n}` to the feed with history (not a member itself: it does not read the feed). */
class PublisherConsumer extends JsonWebsocketConsumer<Record<string, never>, FeedEvents> {
  override async receiveJson(content: unknown): Promise<void> {
    const n = (content as { n?: unknown } | null)?.n;
    if (typeof n === 'number') await this.groupSendWithHistory('feed', { type: 'feed.item', payload: { n } });
  }
}

/** Reads the feed, recovering what it missed. */
class FeedConsumer extends JsonWebsocketConsumer<Record<string, never>, FeedEvents> {
  override groups = ['feed'];
  override features = [historyRecovery('feed')];
  feedItem(event: LayerEvent<FeedEvents, 'feed.item'>): void {
    this.sendJson(withPosition(event, event.payload));
  }
}

/** `ws`'s WebSocket, remembering the last instance so the test can cut it. */
class CuttableWebSocket extends WebSocket {
  static last: CuttableWebSocket | undefined;
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    CuttableWebSocket.last = this;
  }
}

describe('recovery across two processes with reordered live delivery', { skip: redisAvailable() ? false : 'Redis not reachable (set REQUIRE_SERVICES=1 to fail instead)' }, () => {
  const prefix = `sb:test:ordered:${randomBytes(4).toString('hex')}:`;
  const servers: Array<{ server: SwitchboardServer; layer: RedisChannelLayer; history: RedisHistoryStore; url: string }> = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      const layer = await RedisChannelLayer.fromUrl(REDIS_URL, { prefix });
      const history = new RedisHistoryStore({ url: REDIS_URL, prefix, maxEvents: 10_000 });
      const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket: new URLRouter([path('ws/feed/', FeedConsumer), path('ws/publish/', PublisherConsumer)]) }), { port: 0, channelLayer: layer, history, logger: silentLogger() });
      const { port } = await server.listen();
      servers.push({ server, layer, history, url: `ws://127.0.0.1:${port}/ws/` });
    }
  });
  after(async () => {
    for (const s of servers) {
      await s.server.close();
      await s.layer.close();
      await s.history.flush?.().catch(() => undefined);
      await s.history.close();
    }
  });

  it('ends with every event exactly once after cuts right behind out-of-order deliveries', { timeout: 60_000 }, async (t) => {
    const TOTAL = 1_500;
    const reader = new SwitchboardSocket(`${servers[0]!.url}feed/`, { WebSocketImpl: CuttableWebSocket, minDelayMs: 10, maxDelayMs: 50 });
    const received: number[] = [];
    let maxOffset = 0;
    let cuts = 0;
    reader.on('message', (m) => {
      const { n, offset } = m as { n: number; offset: number };
      received.push(n);
      if (offset < maxOffset && cuts < 20) {
        // Offset below one already delivered: the moment a "highest offset seen" client would lose one.
        cuts++;
        CuttableWebSocket.last?.terminate();
      }
      maxOffset = Math.max(maxOffset, offset);
    });
    const recoveries: unknown[] = [];
    reader.on('recovery', (r) => recoveries.push(r));
    reader.on('close', (c) => recoveries.push({ close: c.code }));
    const publishers = servers.map((s) => new SwitchboardSocket(`${s.url}publish/`, { WebSocketImpl: WebSocket, recover: false }));
    try {
      await waitFor(() => reader.state === 'open' && publishers.every((p) => p.state === 'open'), { timeoutMs: 5_000 });
      await waitFor(() => reader.position !== null, { message: 'the reader has a position' });
      for (let n = 1; n <= TOTAL; n++) publishers[n % 2]!.sendJson({ n });
      await waitFor(() => new Set(received).size === TOTAL, { timeoutMs: 40_000, intervalMs: 20, message: `the reader got all ${TOTAL}` }).catch((err: unknown) => {
        const missing = Array.from({ length: TOTAL }, (_, i) => i + 1).filter((n) => !received.includes(n));
        t.diagnostic(`at the timeout: got ${new Set(received).size}, cuts ${cuts}, missing ${missing.slice(0, 20).join(',')} (${missing.length}), recoveries ${JSON.stringify(recoveries.slice(0, 30))}, position ${JSON.stringify(reader.position)}`);
        throw err;
      });
      await waitFor(() => reader.state === 'open');
      t.diagnostic(`${cuts} cuts right after an out-of-order delivery`);
      const counts = new Map<number, number>();
      for (const n of received) counts.set(n, (counts.get(n) ?? 0) + 1);
      const dupes = [...counts].filter(([, c]) => c > 1);
      assert.deepEqual(dupes, [], 'no event twice');
      assert.equal(counts.size, TOTAL, 'no event missing');
    } finally {
      reader.close();
      for (const p of publishers) p.close();
    }
  });
});
