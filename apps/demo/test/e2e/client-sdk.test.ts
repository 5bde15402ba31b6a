/**
 * The browser client SDK (`client/`, bundled to dist/public/switchboard-client.js) in Debian's
 * chromium against a real SwitchboardServer: it reconnects after a server restart on the same
 * port, sends what was queued while disconnected, backs off after 1012, and stays closed after a
 * final close code (4403), as `src/close-codes.ts` says; and it recovers the messages published
 * while it was away (`?since=`), or reports `recovered: false` when the history was lost.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { chromiumSkip, launchChromium } from '@switchboard/test-support';
import type { Browser, Page } from 'playwright-core';
import {
  CloseCode,
  groupSendWithHistory,
  InMemoryChannelLayer,
  InMemoryHistoryStore,
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  SwitchboardServer,
  URLRouter,
  path,
  withPosition,
  type LayerMessage,
} from 'switchboard';
import { waitFor } from 'switchboard/testing';

const skip = chromiumSkip;
// The framework's one-file browser bundle, as the demo serves it (systems-http.ts clientSdkFiles).
const BUNDLE = new URL(import.meta.resolve('switchboard/client/bundle'));

/** Echoes `{echo}`; `{close: code}` makes the server close the connection with that code. */
class EchoConsumer extends JsonWebsocketConsumer {
  override receiveJson(content: unknown): void {
    const c = content as { close?: number; echo?: unknown };
    if (typeof c.close === 'number') this.close(c.close);
    else this.sendJson({ echo: c.echo });
  }
}

/** A news feed with history: forwards `{text}` with the event's epoch and offset. */
class FeedConsumer extends JsonWebsocketConsumer {
  override groups = ['news'];
  override historyGroup = 'news';
  newsItem(event: LayerMessage): void {
    this.sendJson(withPosition(event, event['payload'] as object));
  }
}

const FEED_PAGE = `<!doctype html><meta charset="utf-8"><title>feed</title>
<script type="module">
  import { SwitchboardSocket } from '/switchboard-client.js';
  const log = { messages: [], recoveries: [] };
  window.sdkLog = log;
  const socket = new SwitchboardSocket(location.origin.replace('http', 'ws') + '/ws/news/', { minDelayMs: 50, maxDelayMs: 400 });
  window.socket = socket;
  socket.on('message', (m) => log.messages.push(m));
  socket.on('recovery', (r) => log.recoveries.push(r));
</script>`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>sdk</title>
<script type="module">
  import { SwitchboardSocket } from '/switchboard-client.js';
  const log = { messages: [], states: [], closes: [] };
  window.sdkLog = log;
  const socket = new SwitchboardSocket(location.origin.replace('http', 'ws') + '/ws/echo/', { minDelayMs: 50, maxDelayMs: 400 });
  window.socket = socket;
  socket.on('message', (m) => log.messages.push(m));
  socket.on('state', (s) => log.states.push(s));
  socket.on('close', (c) => log.closes.push(c));
</script>`;

async function http(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url === '/feed') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(FEED_PAGE);
  } else if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  } else if (req.url === '/switchboard-client.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(await readFile(BUNDLE));
  } else {
    res.writeHead(404).end();
  }
}

interface SdkLog {
  messages: Array<{ echo: unknown }>;
  states: string[];
  closes: Array<{ code: number; willReconnect: boolean }>;
}

describe('browser client SDK (SwitchboardSocket)', { skip }, () => {
  let browser: Browser;
  let layer: InMemoryChannelLayer;
  // Outlives the server restarts, like a Redis history would.
  let history = new InMemoryHistoryStore();
  let server: SwitchboardServer | undefined;
  let port = 0;

  async function startServer(): Promise<void> {
    server = new SwitchboardServer(new ProtocolTypeRouter({ http: (req, res) => void http(req, res), websocket: new URLRouter([path('ws/echo/', EchoConsumer), path('ws/news/', FeedConsumer)]) }), {
      host: '127.0.0.1',
      port,
      channelLayer: layer,
      history,
    });
    port = (await server.listen()).port;
  }

  before(async () => {
    layer = new InMemoryChannelLayer();
    await startServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await layer?.close();
    await history.close();
  });

  const sdkLog = (page: Page): Promise<SdkLog> => page.evaluate(() => (globalThis as unknown as { sdkLog: SdkLog }).sdkLog);
  const sendJson = (page: Page, content: unknown): Promise<void> =>
    page.evaluate((c) => (globalThis as unknown as { socket: { sendJson(c: unknown): void } }).socket.sendJson(c), content);
  const state = (page: Page): Promise<string> => page.evaluate(() => (globalThis as unknown as { socket: { state: string } }).socket.state);

  async function openPage(url = '/'): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${port}${url}`);
    await waitFor(async () => (await state(page)) === 'open', { timeoutMs: 5_000, message: 'the SDK socket opened' });
    return page;
  }

  it('reconnects after the server restarts on the same port and sends what was queued meanwhile', async () => {
    const page = await openPage();
    await sendJson(page, { echo: 'before' });
    await waitFor(async () => (await sdkLog(page)).messages.length === 1, { timeoutMs: 5_000, message: 'first echo' });

    await server!.close(); // closes the socket with 1001 "going away"
    await waitFor(async () => (await state(page)) === 'reconnecting', { timeoutMs: 5_000, message: 'reconnecting after 1001' });
    await sendJson(page, { echo: 'queued while down' });
    await startServer();
    await waitFor(async () => (await sdkLog(page)).messages.length === 2, { timeoutMs: 10_000, message: 'the queued message was echoed after the reconnect' });
    const log = await sdkLog(page);
    assert.deepEqual(log.messages, [{ echo: 'before' }, { echo: 'queued while down' }]);
    assert.equal(log.closes[0]!.code, CloseCode.GOING_AWAY);
    assert.equal(log.closes[0]!.willReconnect, true);
    assert.equal(await state(page), 'open');
    await page.context().close();
  });

  it('backs off and comes back after 1012, and stays closed after 4403', async () => {
    const page = await openPage();
    await sendJson(page, { close: CloseCode.SERVICE_RESTART });
    await waitFor(async () => (await sdkLog(page)).closes.length === 1 && (await state(page)) === 'open', { timeoutMs: 10_000, message: 'reopened after 1012' });
    await sendJson(page, { echo: 'after 1012' });
    await waitFor(async () => (await sdkLog(page)).messages.some((m) => m.echo === 'after 1012'), { timeoutMs: 5_000, message: 'echo after 1012' });

    await sendJson(page, { close: CloseCode.FORBIDDEN });
    await waitFor(async () => (await state(page)) === 'closed', { timeoutMs: 5_000, message: 'closed for good after 4403' });
    const log = await sdkLog(page);
    assert.deepEqual(log.closes.map((c) => [c.code, c.willReconnect]), [[1012, true], [4403, false]]);
    // No reconnect happens later either.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await state(page), 'closed');
    assert.equal((await sdkLog(page)).states.filter((s) => s === 'open').length, 2, 'opened twice: at start and after 1012');
    await page.context().close();
  });
  interface FeedLog {
    messages: Array<{ text: string; epoch: string; offset: number }>;
    recoveries: Array<{ recovered: boolean; epoch: string; offset: number; missed: number }>;
  }
  const feedLog = (page: Page): Promise<FeedLog> => page.evaluate(() => (globalThis as unknown as { sdkLog: FeedLog }).sdkLog);
  const position = (page: Page): Promise<{ epoch: string; offset: number } | null> =>
    page.evaluate(() => (globalThis as unknown as { socket: { position: { epoch: string; offset: number } | null } }).socket.position);
  const publish = (text: string) => groupSendWithHistory(layer, history, 'news', { type: 'news.item', payload: { text } });

  it('fills the gap after a server restart: the messages published while it was away, then live ones', async () => {
    const page = await openPage('/feed');
    await waitFor(async () => (await position(page)) !== null, { timeoutMs: 5_000, message: 'the SDK learned the position on open' });
    await publish('one');
    await waitFor(async () => (await feedLog(page)).messages.length === 1, { timeoutMs: 5_000, message: 'first message' });

    await server!.close();
    await waitFor(async () => (await state(page)) === 'reconnecting', { timeoutMs: 5_000, message: 'reconnecting after 1001' });
    await publish('two'); // nobody is connected: only the history has these
    await publish('three');
    await startServer();
    await waitFor(async () => (await feedLog(page)).recoveries.length === 1, { timeoutMs: 10_000, message: 'recovered after the restart' });
    await publish('four');
    await waitFor(async () => (await feedLog(page)).messages.length === 4, { timeoutMs: 5_000, message: 'the live message after the recovery' });

    const log = await feedLog(page);
    assert.deepEqual(log.messages.map((m) => [m.text, m.offset]), [['one', 1], ['two', 2], ['three', 3], ['four', 4]]);
    assert.deepEqual(log.recoveries.map((r) => [r.recovered, r.missed, r.offset]), [[true, 2, 3]]);
    assert.deepEqual(await position(page), { epoch: log.messages[0]!.epoch, offset: 4 });
    await page.context().close();
  });

  it('reports recovered: false when the history was lost while it was away', async () => {
    const page = await openPage('/feed');
    await publish('kept');
    await waitFor(async () => (await feedLog(page)).messages.length === 1, { timeoutMs: 5_000, message: 'first message' });
    const before = await position(page);

    await server!.close();
    await waitFor(async () => (await state(page)) === 'reconnecting', { timeoutMs: 5_000, message: 'reconnecting after 1001' });
    await history.close();
    history = new InMemoryHistoryStore(); // a restart without shared history: a new epoch
    await publish('lost');
    await startServer();
    await waitFor(async () => (await feedLog(page)).recoveries.length === 1, { timeoutMs: 10_000, message: 'recovery answer' });
    const [recovery] = (await feedLog(page)).recoveries;
    assert.equal(recovery!.recovered, false);
    assert.notEqual(recovery!.epoch, before!.epoch);
    assert.deepEqual(await position(page), { epoch: recovery!.epoch, offset: 1 });
    assert.deepEqual((await feedLog(page)).messages.map((m) => m.text), ['kept'], 'no partial replay');
    await page.context().close();
  });
});
