/**
 * The browser client SDK as a page loads it: `switchboard/client/bundle` (dist/browser/, one ES
 * module file) served by a small `node:http` handler, in Debian's chromium, against a real
 * SwitchboardServer. It reconnects after a server restart on the same port and sends what was
 * queued meanwhile, backs off after 1012 and stays closed after 4403 (src/close-codes.ts); it
 * recovers what was published while it was away (`?since=`) or reports `recovered: false`; and a
 * refused handshake, whose status browsers hide, is retried until `maxAttempts`, then given up.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromiumSkip, launchChromium, watchScriptErrors, type Browser, type Page } from '@switchboard/test-support';
import { CloseCode, groupSendWithHistory, InMemoryChannelLayer, InMemoryHistoryStore, ProtocolTypeRouter, SwitchboardServer } from 'switchboard';
import type { Events } from 'switchboard/client';
import { waitFor } from 'switchboard/testing';
import { Gate, quietPeriod } from '../client/sdk-fixtures.js';

/**
 * A page that opens a SwitchboardSocket on the path in `?ws=` (options `maxAttempts` from the
 * query too) and logs its events in `window.sdkLog`.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>sdk</title>
<script type="module">
  import { SwitchboardSocket } from '/switchboard-client.js';
  const params = new URLSearchParams(location.search);
  const log = { messages: [], states: [], closes: [], errors: [], giveups: [], recoveries: [] };
  window.sdkLog = log;
  const options = { minDelayMs: 50, maxDelayMs: 400 };
  if (params.has('maxAttempts')) options.maxAttempts = Number(params.get('maxAttempts'));
  const socket = new SwitchboardSocket(location.origin.replace('http', 'ws') + params.get('ws'), options);
  window.socket = socket;
  socket.on('message', (m) => log.messages.push(m));
  socket.on('state', (s) => log.states.push(s));
  socket.on('close', (c) => log.closes.push(c));
  socket.on('error', (e) => log.errors.push(e));
  socket.on('giveup', (g) => log.giveups.push(g));
  socket.on('recovery', (r) => log.recoveries.push(r));
</script>`;

interface SdkLog {
  messages: Array<{ echo?: unknown; text?: string; epoch?: string; offset?: number }>;
  states: string[];
  closes: Array<Events['close']>;
  errors: Array<Events['error']>;
  giveups: Array<Events['giveup']>;
  recoveries: Array<Events['recovery']>;
}

describe('browser client SDK (SwitchboardSocket from switchboard/client/bundle)', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let bundle: Buffer;
  const gate = new Gate();
  const layer = new InMemoryChannelLayer();
  // Outlives the server restarts, like a Redis history would.
  let history = new InMemoryHistoryStore();
  let server: SwitchboardServer | undefined;
  let port = 0;

  function http(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    else if (url.pathname === '/switchboard-client.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle);
    else res.writeHead(404).end();
  }

  async function startServer(): Promise<void> {
    server = new SwitchboardServer(new ProtocolTypeRouter({ http, websocket: gate }), { host: '127.0.0.1', port, channelLayer: layer, history });
    port = (await server.listen()).port;
  }

  before(async () => {
    // What `import 'switchboard/client/bundle'` resolves to: the file the package ships.
    bundle = await readFile(fileURLToPath(import.meta.resolve('switchboard/client/bundle')));
    await startServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await layer.close();
    await history.close();
  });

  const sdkLog = (page: Page): Promise<SdkLog> => page.evaluate(() => (globalThis as unknown as { sdkLog: SdkLog }).sdkLog);
  const sendJson = (page: Page, content: unknown): Promise<void> =>
    page.evaluate((c) => (globalThis as unknown as { socket: { sendJson(c: unknown): void } }).socket.sendJson(c), content);
  const state = (page: Page): Promise<string> => page.evaluate(() => (globalThis as unknown as { socket: { state: string } }).socket.state);
  const position = (page: Page): Promise<{ epoch: string; offset: number } | null> =>
    page.evaluate(() => (globalThis as unknown as { socket: { position: { epoch: string; offset: number } | null } }).socket.position);
  const scriptErrors = new Map<Page, string[]>();
  /** Closes the page's context after checking that no script error went uncaught in it. */
  async function closePage(page: Page): Promise<void> {
    assert.deepEqual(scriptErrors.get(page), [], 'no uncaught error in the page');
    await page.context().close();
  }
  const publish = (text: string) => groupSendWithHistory(layer, history, 'news', { type: 'news.item', payload: { text } });

  async function openPage(ws: string, { waitOpen = true, maxAttempts }: { waitOpen?: boolean; maxAttempts?: number } = {}): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    scriptErrors.set(page, watchScriptErrors(page));
    const query = new URLSearchParams({ ws, ...(maxAttempts === undefined ? {} : { maxAttempts: String(maxAttempts) }) });
    await page.goto(`http://127.0.0.1:${port}/?${query}`);
    if (waitOpen) await waitFor(async () => (await state(page)) === 'open', { timeoutMs: 5_000, message: 'the SDK socket opened' });
    return page;
  }

  it('reconnects after the server restarts on the same port and sends what was queued meanwhile', async () => {
    const page = await openPage('/ws/echo/');
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
    await closePage(page);
  });

  it('backs off and comes back after 1012, and stays closed after 4403', async () => {
    const page = await openPage('/ws/echo/');
    const seen = gate.count('/ws/echo/');
    await sendJson(page, { close: CloseCode.SERVICE_RESTART });
    await waitFor(async () => (await sdkLog(page)).closes.length === 1 && (await state(page)) === 'open', { timeoutMs: 10_000, message: 'reopened after 1012' });
    await sendJson(page, { echo: 'after 1012' });
    await waitFor(async () => (await sdkLog(page)).messages.some((m) => m.echo === 'after 1012'), { timeoutMs: 5_000, message: 'echo after 1012' });

    await sendJson(page, { close: CloseCode.FORBIDDEN });
    await waitFor(async () => (await state(page)) === 'closed', { timeoutMs: 5_000, message: 'closed for good after 4403' });
    const log = await sdkLog(page);
    assert.deepEqual(log.closes.map((c) => [c.code, c.willReconnect]), [[1012, true], [4403, false]]);
    assert.deepEqual(log.giveups, [], 'a final close code is not giving up');
    await quietPeriod(800); // twice maxDelayMs: no reconnect happens later either
    assert.equal(await state(page), 'closed');
    assert.equal(gate.count('/ws/echo/') - seen, 1, 'one handshake: the reconnect after 1012');
    await closePage(page);
  });

  it('fills the gap after a server restart: the messages published while it was away, then live ones', async () => {
    const page = await openPage('/ws/news/');
    await waitFor(async () => (await position(page)) !== null, { timeoutMs: 5_000, message: 'the SDK learned the position on open' });
    await publish('one');
    await waitFor(async () => (await sdkLog(page)).messages.length === 1, { timeoutMs: 5_000, message: 'first message' });

    await server!.close();
    await waitFor(async () => (await state(page)) === 'reconnecting', { timeoutMs: 5_000, message: 'reconnecting after 1001' });
    await publish('two'); // nobody is connected: only the history has these
    await publish('three');
    await startServer();
    await waitFor(async () => (await sdkLog(page)).recoveries.length === 1, { timeoutMs: 10_000, message: 'recovered after the restart' });
    await publish('four');
    await waitFor(async () => (await sdkLog(page)).messages.length === 4, { timeoutMs: 5_000, message: 'the live message after the recovery' });

    const log = await sdkLog(page);
    assert.deepEqual(log.messages.map((m) => [m.text, m.offset]), [['one', 1], ['two', 2], ['three', 3], ['four', 4]]);
    assert.deepEqual(log.recoveries.map((r) => [r.recovered, r.missed, r.offset]), [[true, 2, 3]]);
    assert.deepEqual(await position(page), { epoch: log.messages[0]!.epoch, offset: 4 });
    await closePage(page);
  });

  it('reports recovered: false when the history was lost while it was away', async () => {
    const page = await openPage('/ws/news/');
    await publish('kept');
    await waitFor(async () => (await sdkLog(page)).messages.length === 1, { timeoutMs: 5_000, message: 'first message' });
    const before = await position(page);

    await server!.close();
    await waitFor(async () => (await state(page)) === 'reconnecting', { timeoutMs: 5_000, message: 'reconnecting after 1001' });
    await history.close();
    history = new InMemoryHistoryStore(); // a restart without shared history: a new epoch
    await publish('lost');
    await startServer();
    await waitFor(async () => (await sdkLog(page)).recoveries.length === 1, { timeoutMs: 10_000, message: 'recovery answer' });
    const [recovery] = (await sdkLog(page)).recoveries;
    assert.equal(recovery!.recovered, false);
    assert.notEqual(recovery!.epoch, before!.epoch);
    assert.deepEqual(await position(page), { epoch: recovery!.epoch, offset: 1 });
    assert.deepEqual((await sdkLog(page)).messages.map((m) => m.text), ['kept'], 'no partial replay');
    await closePage(page);
  });

  it('retries a refused handshake (the browser hides its status) until maxAttempts, then gives up', async () => {
    gate.refuse = 403;
    const seen = gate.count('/ws/echo/');
    const page = await openPage('/ws/echo/', { waitOpen: false, maxAttempts: 3 });
    await waitFor(async () => (await sdkLog(page)).giveups.length === 1, { timeoutMs: 10_000, message: 'gave up' });
    gate.refuse = undefined;
    const log = await sdkLog(page);
    assert.deepEqual(log.giveups, [{ attempts: 3 }], 'no status: browsers do not expose it');
    assert.deepEqual(log.errors.map((e) => [e.status ?? null, e.opened]), [[null, false], [null, false], [null, false]]);
    assert.deepEqual(log.closes.map((c) => [c.code, c.willReconnect]), [[1006, true], [1006, true], [1006, false]]);
    assert.equal(await state(page), 'closed');
    assert.equal(gate.count('/ws/echo/') - seen, 3);
    await closePage(page);
  });
});
