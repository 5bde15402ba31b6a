/**
 * `SwitchboardSocket` in Node (`ws` as its WebSocket) against a real SwitchboardServer: a refused
 * handshake is an `error` event with the HTTP status, never an exception or a crash; 401, 403 and
 * 404 stop at once (`giveup`), other statuses are retried until `maxAttempts`; `close()` stops
 * quietly; configuration mistakes throw at construction.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { SwitchboardSocket } from 'switchboard/client';
import { startTestServer, waitFor, type TestServer } from 'switchboard/testing';
import { FAST, Gate, quietPeriod, record } from './sdk-fixtures.js';

/** `ws` with a foreign `Origin`, as a page on another site would send. */
class ForeignOriginWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { headers: { origin: 'https://evil.example' } });
  }
}

describe('SwitchboardSocket: refused handshakes', () => {
  let srv: TestServer;
  const gate = new Gate();

  before(async () => {
    srv = await startTestServer(gate);
  });
  after(async () => {
    await srv.close();
  });

  it('reports 401, 403 and 404 as an error event with the status and gives up without retrying', async () => {
    const cases = [
      { status: 401, path: '/ws/echo/', refuse: 401, WebSocketImpl: WebSocket },
      { status: 403, path: '/ws/echo/', refuse: undefined, WebSocketImpl: ForeignOriginWebSocket },
      { status: 404, path: '/ws/nowhere/', refuse: undefined, WebSocketImpl: WebSocket },
    ];
    const rejectedBefore = srv.server.stats.handshakesRejected;
    for (const c of cases) {
      gate.refuse = c.refuse;
      const rejected = srv.server.stats.handshakesRejected;
      const socket = new SwitchboardSocket(`${srv.url}${c.path}`, { ...FAST, WebSocketImpl: c.WebSocketImpl });
      const log = record(socket);
      await waitFor(() => log.giveups.length === 1, { message: `gave up after ${c.status}` });
      assert.equal(log.errors.length, 1, `${c.status}: one error event`);
      assert.equal(log.errors[0]!.status, c.status);
      assert.equal(log.errors[0]!.opened, false);
      assert.match(log.errors[0]!.message, new RegExp(String(c.status)));
      assert.deepEqual(log.closes, [{ code: 1006, reason: '', willReconnect: false, status: c.status }]);
      assert.deepEqual(log.giveups, [{ attempts: 1, status: c.status }]);
      assert.deepEqual(log.states, ['closed']);
      assert.equal(socket.state, 'closed');
      assert.equal(log.opens, 0);
      assert.equal(srv.server.stats.handshakesRejected, rejected + 1, `${c.status}: one handshake`);
    }
    gate.refuse = undefined;
    await quietPeriod(4 * FAST.maxDelayMs);
    assert.equal(srv.server.stats.handshakesRejected, rejectedBefore + 3, 'no retry after giving up');
    assert.equal(srv.server.stats.connectionsAccepted, 0, 'no consumer was ever accepted');
  });

  it('retries a handshake refused with 503, with backoff, and gives up after maxAttempts', async () => {
    gate.refuse = 503;
    const seen = gate.count('/ws/echo/');
    const socket = new SwitchboardSocket(`${srv.url}/ws/echo/`, { ...FAST, maxAttempts: 3, WebSocketImpl: WebSocket });
    const log = record(socket);
    await waitFor(() => log.giveups.length === 1, { message: 'gave up after 3 attempts' });
    gate.refuse = undefined;
    assert.deepEqual(log.giveups, [{ attempts: 3, status: 503 }]);
    assert.deepEqual(log.errors.map((e) => [e.status, e.opened]), [[503, false], [503, false], [503, false]]);
    assert.deepEqual(log.closes.map((c) => [c.code, c.willReconnect, c.status]), [[1006, true, 503], [1006, true, 503], [1006, false, 503]]);
    for (const c of log.closes.slice(0, 2)) assert.ok(c.delayMs! >= FAST.minDelayMs / 2 && c.delayMs! <= FAST.maxDelayMs, `backoff delay ${c.delayMs}`);
    assert.deepEqual(log.states, ['reconnecting', 'closed']);
    await quietPeriod(4 * FAST.maxDelayMs);
    assert.equal(gate.count('/ws/echo/') - seen, 3, 'three handshakes, none after giving up');
  });

  it('neither throws nor crashes the process when nobody listens for errors', async () => {
    gate.refuse = 403;
    const refused = new SwitchboardSocket(`${srv.url}/ws/echo/`, { ...FAST, WebSocketImpl: WebSocket });
    const foreign = new SwitchboardSocket(`${srv.url}/ws/echo/`, { ...FAST, WebSocketImpl: ForeignOriginWebSocket });
    // An unhandled 'error' on a `ws` socket would be thrown from its EventEmitter and fail this file.
    await waitFor(() => refused.state === 'closed' && foreign.state === 'closed', { message: 'both closed' });
    gate.refuse = undefined;
  });

  it('stops quietly on close(): while connecting, and from a close listener before a reconnect', async () => {
    const early = new SwitchboardSocket(`${srv.url}/ws/echo/`, { ...FAST, WebSocketImpl: WebSocket });
    const earlyLog = record(early);
    early.close();
    await waitFor(() => earlyLog.closes.length === 1, { message: 'the interrupted attempt closed' });
    assert.deepEqual(earlyLog.errors, [], 'an attempt cut short by close() is not an error');
    assert.equal(earlyLog.closes[0]!.willReconnect, false);
    assert.deepEqual(earlyLog.giveups, []);
    assert.equal(early.state, 'closed');

    const seen = gate.count('/ws/echo/');
    const late = new SwitchboardSocket(`${srv.url}/ws/echo/`, { ...FAST, WebSocketImpl: WebSocket });
    const lateLog = record(late);
    late.on('close', () => late.close());
    await waitFor(() => late.state === 'open', { message: 'opened' });
    late.sendJson({ close: 1012 }); // "service restart": the socket would reconnect
    await waitFor(() => lateLog.closes.length === 1, { message: 'closed by the server' });
    assert.equal(lateLog.closes[0]!.code, 1012);
    assert.deepEqual(lateLog.states, ['open', 'closed']);
    await quietPeriod(4 * FAST.maxDelayMs);
    assert.equal(gate.count('/ws/echo/') - seen, 1, 'no reconnect after close()');
    assert.equal(late.state, 'closed');
  });

  it('throws at construction for a malformed URL or maxAttempts, before any attempt', () => {
    const seen = gate.seen.length;
    assert.throws(() => new SwitchboardSocket('not a url', { WebSocketImpl: WebSocket }), TypeError);
    assert.throws(() => new SwitchboardSocket('ftp://127.0.0.1/ws/echo/', { WebSocketImpl: WebSocket, recover: false }), SyntaxError);
    for (const maxAttempts of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new SwitchboardSocket(`${srv.url}/ws/echo/`, { WebSocketImpl: WebSocket, maxAttempts }), { name: 'RangeError', message: /maxAttempts must be a whole number >= 1/ });
    }
    assert.equal(gate.seen.length, seen);
  });

  it('throws a TypeError naming WebSocketImpl where Node has no global WebSocket', { skip: 'WebSocket' in globalThis ? 'this Node has a global WebSocket' : false }, () => {
    assert.throws(() => new SwitchboardSocket(`${srv.url}/ws/echo/`), { name: 'TypeError', message: /WebSocketImpl: WebSocket/ });
  });
});
