/**
 * `SwitchboardSocket` in Node (`ws` as its WebSocket) reconnecting against real servers: capped
 * backoff while nothing listens and `giveup` after `maxAttempts` attempts in a row that never
 * opened; an attempt that opened resets that count; what was sent while disconnected is flushed
 * on open; and a reconnect carries `since=` so the server replays what was missed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { freePort } from '@switchboard/test-support';
import { groupSendWithHistory, InMemoryHistoryStore } from 'switchboard';
import { SwitchboardSocket } from 'switchboard/client';
import { startTestServer, waitFor, type TestServer } from 'switchboard/testing';
import { FAST, Gate, quietPeriod, record } from './sdk-fixtures.js';

describe('SwitchboardSocket: reconnecting', () => {
  let srv: TestServer;
  const gate = new Gate();
  const history = new InMemoryHistoryStore();

  before(async () => {
    srv = await startTestServer(gate, { history });
  });
  after(async () => {
    await srv.close();
    await history.close();
  });

  it('backs off with a capped delay while nothing listens and gives up after maxAttempts', async () => {
    const port = await freePort();
    const urls: string[] = [];
    class CountingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        urls.push(url);
      }
    }
    // `random` near 1: every delay is its upper bound, min(maxDelayMs, minDelayMs * 2^attempt).
    const socket = new SwitchboardSocket(`ws://127.0.0.1:${port}/ws/echo/`, { ...FAST, random: () => 0.999999, maxAttempts: 5, WebSocketImpl: CountingWebSocket });
    const log = record(socket);
    await waitFor(() => log.giveups.length === 1, { timeoutMs: 5_000, message: 'gave up' });
    assert.deepEqual(log.closes.map((c) => c.delayMs), [20, 40, 80, 80, undefined]);
    assert.deepEqual(log.closes.map((c) => c.willReconnect), [true, true, true, true, false]);
    assert.deepEqual(log.giveups, [{ attempts: 5 }]);
    assert.equal(log.errors.length, 5);
    for (const e of log.errors) {
      assert.match(e.message, /ECONNREFUSED/);
      assert.equal(e.status, undefined);
      assert.equal(e.opened, false);
    }
    assert.deepEqual(log.states, ['reconnecting', 'closed']);
    await quietPeriod(4 * FAST.maxDelayMs);
    assert.equal(urls.length, 5, 'five attempts, none after giving up');
  });

  it('counts only attempts in a row that never opened: one that opened resets the count', async () => {
    gate.refuse = 503;
    const seen = gate.count('/ws/echo/');
    const socket = new SwitchboardSocket(`${srv.url}/ws/echo/`, { ...FAST, maxAttempts: 2, WebSocketImpl: WebSocket });
    const log = record(socket);
    // The first attempt is refused; let the second one in.
    socket.on('close', () => {
      if (log.closes.length === 1) gate.refuse = undefined;
    });
    await waitFor(() => socket.state === 'open', { message: 'opened on the second attempt' });
    gate.refuse = 503;
    socket.sendJson({ close: 1012 });
    await waitFor(() => log.giveups.length === 1, { message: 'gave up' });
    gate.refuse = undefined;
    // refused, opened, then two refused in a row: the one before the open does not count.
    assert.equal(gate.count('/ws/echo/') - seen, 4);
    assert.deepEqual(log.giveups, [{ attempts: 2, status: 503 }]);
    assert.deepEqual(log.closes.map((c) => [c.code, c.willReconnect]), [[1006, true], [1012, true], [1006, true], [1006, false]]);
  });

  it('sends what was queued before the first open and while reconnecting, in order, dropping the oldest beyond maxQueuedMessages', async () => {
    const socket = new SwitchboardSocket(`${srv.url}/ws/echo/`, { ...FAST, maxQueuedMessages: 2, WebSocketImpl: WebSocket });
    const log = record(socket);
    for (const echo of ['a', 'b', 'c']) socket.sendJson({ echo });
    socket.on('close', () => {
      if (log.closes.length === 1) for (const echo of ['d', 'e']) socket.sendJson({ echo });
    });
    await waitFor(() => log.messages.length === 2, { message: 'the queue was flushed on open' });
    socket.sendJson({ close: 1012 });
    await waitFor(() => log.messages.length === 4, { message: 'the queue was flushed on reopen' });
    assert.deepEqual(log.messages, [{ echo: 'b' }, { echo: 'c' }, { echo: 'd' }, { echo: 'e' }]);
    assert.equal(log.opens, 2);
    socket.close();
  });

  /**
   * Connects to the feed, receives 'one', is closed with 1012, and is kept out (503) while 'two'
   * and 'three' are published; then is let back in, and 'four' is published live.
   */
  async function missTwoMessages(recover: boolean): Promise<{ socket: SwitchboardSocket; log: ReturnType<typeof record>; queries: string[] }> {
    const from = gate.seen.length;
    const socket = new SwitchboardSocket(`${srv.url}/ws/news/`, { ...FAST, recover, WebSocketImpl: WebSocket });
    const log = record(socket);
    const publish = (text: string) => groupSendWithHistory(srv.layer, history, 'news', { type: 'news.item', payload: { text } });
    await waitFor(() => socket.state === 'open', { message: 'opened' });
    await waitFor(async () => (await srv.layer.groupSize('news')) === 1, { message: 'joined the group' });
    await publish('one');
    await waitFor(() => log.messages.length === 1, { message: 'first message' });

    gate.refuse = 503;
    socket.sendJson({ close: 1012 });
    await waitFor(() => log.errors.length >= 1, { message: 'a reconnect was refused' });
    await publish('two'); // nobody is connected: only the history has these
    await publish('three');
    gate.refuse = undefined;
    await waitFor(() => log.opens === 2, { message: 'reopened' });
    await waitFor(async () => (await srv.layer.groupSize('news')) === 1, { message: 'joined the group again' });
    if (recover) await waitFor(() => log.recoveries.length === 1, { message: 'recovered' });
    await publish('four');
    await waitFor(() => log.messages.some((m) => (m as { text?: string }).text === 'four'), { message: 'the live message' });
    socket.close();
    await waitFor(async () => (await srv.layer.groupSize('news')) === 0, { message: 'left the group' });
    return { socket, log, queries: gate.seen.slice(from).map((h) => h.queryString) };
  }

  it('reconnects with since= and receives what it missed, in order, before live messages', async () => {
    const { socket, log, queries } = await missTwoMessages(true);
    const texts = log.messages.map((m) => [(m as { text: string }).text, (m as { offset: number }).offset]);
    const base = (log.messages[0] as { offset: number }).offset - 1;
    assert.deepEqual(texts, [['one', base + 1], ['two', base + 2], ['three', base + 3], ['four', base + 4]]);
    const { epoch } = log.messages[0] as { epoch: string };
    assert.equal(queries[0], 'since=', 'the first connection asks where the history stands');
    assert.equal(queries.at(-1), `since=${encodeURIComponent(`${epoch}:${base + 1}`)}`, 'the reconnect gives the last position received');
    assert.deepEqual(log.recoveries, [{ recovered: true, epoch, offset: base + 3, missed: 2 }]);
    assert.deepEqual(socket.position, { epoch, offset: base + 4 });
  });

  it('with recover: false, sends no since= and gets no replay', async () => {
    const { log, queries } = await missTwoMessages(false);
    assert.deepEqual(log.messages.map((m) => (m as { text: string }).text), ['one', 'four']);
    assert.deepEqual(log.recoveries, []);
    assert.ok(queries.length >= 3 && queries.every((q) => q === ''), `no query string: ${JSON.stringify(queries)}`);
  });
});
