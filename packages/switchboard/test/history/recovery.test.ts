/**
 * Recovery after reconnect through real sockets (DESIGN.md §4): a client that comes back with
 * `?since=<epoch>:<offset>` gets exactly the events it missed, in order, then a
 * `switchboard.history` frame, then live events; events published while the history is being read
 * are neither lost nor duplicated; a gap beyond the window answers `recovered: false`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  formatSince,
  groupSendWithHistory,
  HISTORY_FRAME_TYPE,
  InMemoryHistoryStore,
  JsonWebsocketConsumer,
  URLRouter,
  path,
  type HistoryFrame,
  type HistoryPosition,
  type HistoryRecovery,
  type HistoryStore,
  type HistoryStoreOptions,
  type LayerMessage,
  historyRecovery,
} from 'switchboard';
import { RedisHistoryStore } from 'switchboard/redis';
import { waitFor } from 'switchboard/testing';
import { connectClient, EmittingLayer, handshakeStatus, startTestServer, type TestClient, type TestServer } from '../helpers.js';
import { freePort } from '@switchboard/test-support';
import { redisAvailable, REDIS_URL } from '@switchboard/test-support';

/** One feed: publishes `{n}` with history, forwards every event as it is (type, n, epoch, offset). */
class FeedConsumer extends JsonWebsocketConsumer {
  override groups = ['feed'];
  override features = [historyRecovery('feed')];
  override async receiveJson(content: unknown): Promise<void> {
    await this.groupSendWithHistory('feed', { type: 'feed.item', n: (content as { n: number }).n });
  }
  feedItem(event: LayerMessage): void {
    this.sendJson(event);
  }
}

/** No history: echoes what it gets. */
class PlainConsumer extends JsonWebsocketConsumer {
  override receiveJson(content: unknown): void {
    this.sendJson(content);
  }
}

/** A history group outside `groups`: refused at start (the group would not be joined first). */
class MisconfiguredConsumer extends JsonWebsocketConsumer {
  override features = [historyRecovery('feed')];
}

interface FeedFrame {
  type: string;
  n?: number;
  epoch?: string;
  offset?: number;
  recovered?: boolean;
  missed?: number;
}

/** A store whose `since` waits for `release()`: the window in which live events race the read. */
class GatedStore implements HistoryStore {
  readonly #inner: HistoryStore;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  reading = false;
  constructor(inner: HistoryStore) {
    this.#inner = inner;
  }
  get options() {
    return this.#inner.options;
  }
  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }
  release(): void {
    this.#open?.();
  }
  append(group: string, event: LayerMessage) {
    return this.#inner.append(group, event);
  }
  async since(group: string, position: HistoryPosition): Promise<HistoryRecovery> {
    this.reading = true;
    await this.#gate;
    return this.#inner.since(group, position);
  }
  position(group: string) {
    return this.#inner.position(group);
  }
  flush() {
    return this.#inner.flush();
  }
  close() {
    return this.#inner.close();
  }
}

const frames = (client: TestClient): FeedFrame[] => client.messages.map((m) => JSON.parse(m) as FeedFrame);
const items = (client: TestClient): number[] => frames(client).filter((f) => f.type === 'feed.item').map((f) => f.n!);
const historyFrames = (client: TestClient): FeedFrame[] => frames(client).filter((f) => f.type === HISTORY_FRAME_TYPE);

const stores: Array<[string, (options: HistoryStoreOptions) => HistoryStore, string | false]> = [
  ['in-memory', (options) => new InMemoryHistoryStore(options), false],
  ['redis', (options) => new RedisHistoryStore({ url: REDIS_URL, prefix: `sbtest:${randomBytes(6).toString('hex')}:`, ...options }), redisAvailable() ? false : `Redis unreachable at ${REDIS_URL}`],
];

for (const [name, makeStore, skip] of stores) {
  describe(`recovery after reconnect (${name} history)`, { skip }, () => {
    async function withServer(options: HistoryStoreOptions, body: (t: TestServer, history: GatedStore) => Promise<void>): Promise<void> {
      const history = new GatedStore(makeStore(options));
      const t = await startTestServer(new URLRouter([path('ws/feed/', FeedConsumer), path('ws/bad/', MisconfiguredConsumer)]), { history });
      try {
        await body(t, history);
      } finally {
        await t.close();
        await history.flush();
        await history.close();
      }
    }
    const publish = (t: TestServer, history: HistoryStore, n: number) => groupSendWithHistory(t.layer, history, 'feed', { type: 'feed.item', n });
    const publishMany = async (t: TestServer, history: HistoryStore, from: number, to: number) => {
      for (let n = from; n <= to; n++) await publish(t, history, n);
    };

    it('sends a reconnecting client exactly the events it missed, in order, then live ones', async () => {
      await withServer({}, async (t, history) => {
        const first = await connectClient(`${t.url}/ws/feed/?since=`);
        await waitFor(() => historyFrames(first).length === 1, { message: 'position frame' });
        const start = historyFrames(first)[0]!;
        assert.equal(start.offset, 0);
        assert.equal('recovered' in start, false, 'an empty since asks for the position only');
        first.ws.send(JSON.stringify({ n: 1 }));
        await publishMany(t, history, 2, 3);
        await waitFor(() => items(first).length === 3, { message: 'three live events' });
        const last = frames(first).at(-1)!;
        assert.deepEqual([last.epoch, last.offset], [start.epoch, 3]);
        first.ws.close();
        await first.closed;

        await publishMany(t, history, 4, 8); // N = 5 missed
        const again = await connectClient(`${t.url}/ws/feed/?since=${formatSince({ epoch: last.epoch!, offset: 3 })}`);
        await waitFor(() => historyFrames(again).length === 1, { message: 'recovery frame' });
        await publish(t, history, 9);
        await waitFor(() => items(again).length === 6, { message: 'missed and live events' });
        assert.deepEqual(
          frames(again).map((f) => (f.type === HISTORY_FRAME_TYPE ? `history:${f.recovered}:${f.missed}:${f.offset}` : `${f.n}@${f.offset}`)),
          ['4@4', '5@5', '6@6', '7@7', '8@8', 'history:true:5:8', '9@9'],
        );
        again.ws.close();
      });
    });

    it('neither loses nor duplicates events published while the history is read', async () => {
      await withServer({}, async (t, history) => {
        await publishMany(t, history, 1, 3);
        const { epoch } = await history.position('feed');
        await publishMany(t, history, 4, 6); // missed while away
        history.hold();
        const client = await connectClient(`${t.url}/ws/feed/?since=${epoch}:3`);
        await waitFor(() => history.reading, { message: 'the consumer is reading the history' });
        // The client is in the group already: these arrive live and are also in the history read.
        await publishMany(t, history, 7, 8);
        // Appended before the read, published after the replay: must be skipped as a duplicate.
        const late = await history.append('feed', { type: 'feed.item', n: 9 });
        history.release();
        await waitFor(() => historyFrames(client).length === 1, { message: 'recovery frame' });
        await t.layer.groupSend('feed', late);
        await publish(t, history, 10);
        await waitFor(() => items(client).includes(10), { message: 'the live event after the recovery' });
        assert.deepEqual(items(client), [4, 5, 6, 7, 8, 9, 10], 'each event once, in order');
        assert.deepEqual(historyFrames(client).map((f) => [f.recovered, f.missed, f.offset]), [[true, 6, 9]]);
        client.ws.close();
      });
    });

    it('answers recovered: false, replays nothing and carries on live when the gap is beyond the window', async () => {
      await withServer({ maxEvents: 5 }, async (t, history) => {
        await publishMany(t, history, 1, 2);
        const { epoch } = await history.position('feed');
        await publishMany(t, history, 3, 10); // 8 missed > maxEvents
        const client = await connectClient(`${t.url}/ws/feed/?since=${epoch}:2`);
        await waitFor(() => historyFrames(client).length === 1, { message: 'recovery frame' });
        await publish(t, history, 11);
        await waitFor(() => items(client).length === 1, { message: 'live event' });
        const expected: HistoryFrame = { type: HISTORY_FRAME_TYPE, epoch, offset: 10, recovered: false, missed: 0 };
        assert.deepEqual(frames(client), [expected, { type: 'feed.item', n: 11, epoch, offset: 11 }]);
        client.ws.close();
      });
    });
  });
}

describe('recovery step', () => {
  it('answers recovered: false for a position of another epoch and for an unreadable since', async () => {
    const history = new InMemoryHistoryStore();
    const t = await startTestServer(new URLRouter([path('ws/feed/', FeedConsumer)]), { history });
    try {
      await groupSendWithHistory(t.layer, history, 'feed', { type: 'feed.item', n: 1 });
      const { epoch } = await history.position('feed');
      for (const since of ['other-epoch:0', 'garbage', `${epoch}:-1`, `${epoch}:1e3`]) {
        const client = await connectClient(`${t.url}/ws/feed/?since=${encodeURIComponent(since)}`);
        await waitFor(() => client.messages.length === 1, { message: `frame for since=${since}` });
        assert.deepEqual(JSON.parse(client.messages[0]!), { type: HISTORY_FRAME_TYPE, epoch, offset: 1, recovered: false, missed: 0 }, since);
        client.ws.close();
      }
    } finally {
      await t.close();
      await history.close();
    }
  });

  it('sends a client without since no control frame, only the events (seed protocol)', async () => {
    const history = new InMemoryHistoryStore();
    const t = await startTestServer(new URLRouter([path('ws/feed/', FeedConsumer)]), { history });
    try {
      await groupSendWithHistory(t.layer, history, 'feed', { type: 'feed.item', n: 1 });
      const client = await connectClient(`${t.url}/ws/feed/?other=1`);
      client.ws.send(JSON.stringify({ n: 2 }));
      await waitFor(() => client.messages.length === 1, { message: 'the live event' });
      const { epoch } = await history.position('feed');
      assert.deepEqual(frames(client), [{ type: 'feed.item', n: 2, epoch, offset: 2 }]);
      client.ws.close();
    } finally {
      await t.close();
      await history.close();
    }
  });

  it('closes recovering consumers with 1012 after layer.reconnected, so clients come back with since', async () => {
    const layer = new EmittingLayer();
    const history = new InMemoryHistoryStore();
    const t = await startTestServer(new URLRouter([path('ws/feed/', FeedConsumer), path('ws/plain/', PlainConsumer)]), { history, channelLayer: layer });
    try {
      const recovering = await connectClient(`${t.url}/ws/feed/?since=`);
      const seed = await connectClient(`${t.url}/ws/feed/`);
      const plain = await connectClient(`${t.url}/ws/plain/`);
      await waitFor(() => recovering.messages.length === 1, { message: 'the position frame' });
      layer.emit({ type: 'layer.reconnected' });
      const { code, reason } = await recovering.closed;
      assert.equal(code, 1012);
      assert.match(reason, /since=/);
      // A client that never asked for recovery (seed protocol) is not disconnected for it.
      seed.ws.send(JSON.stringify({ n: 5 }));
      await waitFor(() => seed.messages.length === 1, { message: 'the seed client still gets live events' });
      seed.ws.close();
      // A consumer without history has nothing to recover: it stays.
      plain.ws.send(JSON.stringify({ ping: 1 }));
      await waitFor(() => plain.messages.length === 1, { message: 'the plain consumer still answers' });
      plain.ws.close();
    } finally {
      await t.close();
      await history.close();
    }
  });

  it('keeps the live group going while the history store is unreachable: events go out without a position', async () => {
    // A Redis history store on a port nothing listens on: every append fails fast as unavailable.
    const port = await freePort();
    const history = new RedisHistoryStore({ url: `redis://127.0.0.1:${port}/0`, connectTimeoutMs: 300 });
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const t = await startTestServer(new URLRouter([path('ws/feed/', FeedConsumer)]), { history, logger });
    try {
      const a = await connectClient(`${t.url}/ws/feed/`);
      const b = await connectClient(`${t.url}/ws/feed/`);
      a.ws.send(JSON.stringify({ n: 1 }));
      a.ws.send(JSON.stringify({ n: 2 }));
      await waitFor(() => a.messages.length === 2 && b.messages.length === 2, { timeoutMs: 5_000, message: 'both events reached both clients' });
      assert.deepEqual(frames(b), [{ type: 'feed.item', n: 1 }, { type: 'feed.item', n: 2 }]);
      assert.equal(a.ws.readyState, a.ws.OPEN, 'the sender was not closed');
      assert.equal(lines.filter((l) => l.includes('unreachable')).length, 1, `one warning, not one per event: ${lines.join('')}`);
      a.ws.close();
      b.ws.close();
    } finally {
      await t.close();
      await history.close();
    }
  });

  it('refuses the handshake of a consumer whose history group is not one of its groups', async () => {
    const t = await startTestServer(new URLRouter([path('ws/bad/', MisconfiguredConsumer)]), { history: new InMemoryHistoryStore() });
    try {
      assert.equal(await handshakeStatus(`${t.url}/ws/bad/?since=`), 500);
    } finally {
      await t.close();
    }
  });
});
