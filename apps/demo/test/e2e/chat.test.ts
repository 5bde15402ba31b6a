/**
 * Chat rooms end to end in Debian's chromium (playwright-core, no downloaded browsers): two
 * browser contexts (two guests) in one room see each other's messages; a third page in another
 * room sees none; a message that looks like HTML shows as text; after a server restart on the same
 * port the pages reconnect on their own (the browser client SDK) and chat again.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromiumSkip, launchChromium, watchScriptErrors } from '@switchboard/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from 'switchboard/testing';
import { startDemo, type RunningDemo } from '../../app.js';
import { loadConfig } from '../../config.js';

const skip = chromiumSkip;

describe('chat rooms in a browser', { skip }, () => {
  let demo: RunningDemo;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Uncaught page errors and dialogs (an alert() would mean injected script ran), per page. */
  const scriptErrors = new WeakMap<Page, string[]>();

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  /** A page in a fresh context (its own guest cookie), on `path` of `base`, connected. */
  async function openRoom(path: string, base = demo.url): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const errors = watchScriptErrors(page);
    scriptErrors.set(page, errors);
    await page.goto(new URL(path, base).href);
    await page.waitForSelector('#chat[data-state="open"]', { timeout: 10_000 });
    return page;
  }

  const logOf = (page: Page): Promise<string> => page.inputValue('#chat-log');
  const whoAmI = async (page: Page): Promise<string> => (await page.textContent('.whoami strong')) ?? '';

  it('lists who is here in the room, each name once, and drops a name when its page closes', async () => {
    const alice = await openRoom('/chat/here-room/');
    const aliceTab2 = await alice.context().newPage();
    await aliceTab2.goto(new URL('/chat/here-room/', demo.url).href); // same context: same guest, a second tab
    await aliceTab2.waitForSelector('#chat[data-state="open"]', { timeout: 10_000 });
    const bob = await openRoom('/chat/here-room/');
    const [aliceName, bobName] = [await whoAmI(alice), await whoAmI(bob)];
    const here = (page: Page): Promise<string[]> => page.$$eval('#chat-presence li', (items) => items.map((li) => li.textContent ?? ''));
    const both = [aliceName, bobName].sort();
    for (const page of [alice, aliceTab2, bob]) {
      await waitFor(async () => (await here(page)).join() === both.join(), { timeoutMs: 5_000, message: 'both names, once each' });
    }
    await bob.close();
    await waitFor(async () => (await here(alice)).join() === aliceName, { timeoutMs: 5_000, message: 'bob left the list' });
    await aliceTab2.close();
    assert.deepEqual(await here(alice), [aliceName], 'one of two tabs closed: still here');
  });

  it('shows messages to both pages in a room, and none to another room', async () => {
    const alice = await openRoom('/chat/lobby/');
    const bob = await openRoom('/chat/lobby/');
    const other = await openRoom('/chat/other/');
    const [aliceName, bobName] = [await whoAmI(alice), await whoAmI(bob)];
    assert.match(aliceName, /^guest-[a-z0-9]{4,12}$/);
    assert.notEqual(aliceName, bobName, 'two contexts, two guests');

    await alice.fill('#chat-message-input', 'hello from alice');
    await alice.press('#chat-message-input', 'Enter');
    await bob.fill('#chat-message-input', 'hello from bob');
    await bob.click('#chat-message-submit');

    const expected = [`${aliceName}: hello from alice`, `${bobName}: hello from bob`];
    for (const page of [alice, bob]) {
      const log = await waitFor(async () => {
        const text = await logOf(page);
        return expected.every((line) => text.includes(line)) && text;
      }, { timeoutMs: 5_000, message: 'both messages in the log' });
      assert.deepEqual(log.trimEnd().split('\n').sort(), [...expected].sort());
    }
    assert.equal(await alice.inputValue('#chat-message-input'), '', 'the input is cleared after sending');

    // The other room's page is connected (it would have got them by now): nothing arrived.
    await other.fill('#chat-message-input', 'marker in other');
    await other.press('#chat-message-input', 'Enter');
    const otherLog = await waitFor(async () => (await logOf(other)).includes('marker in other') && logOf(other), { timeoutMs: 5_000, message: 'the other room got its own message' });
    assert.equal(otherLog, `${await whoAmI(other)}: marker in other\n`);
  });

  it('shows a message that looks like HTML as literal text', async () => {
    const sender = await openRoom('/chat/xss/');
    const reader = await openRoom('/chat/xss/');
    const payload = '<img src=x onerror=alert(1)>';
    await sender.fill('#chat-message-input', payload);
    await sender.press('#chat-message-input', 'Enter');
    const line = `${await whoAmI(sender)}: ${payload}`;
    await waitFor(async () => (await logOf(reader)).includes(line), { timeoutMs: 5_000, message: 'the payload arrived as text' });
    assert.equal(await reader.locator('img').count(), 0, 'no element was created');
    for (const page of [sender, reader]) {
      assert.deepEqual(scriptErrors.get(page), [], 'no script errors, no alert');
    }
  });

  it('reconnects on its own after the server restarts on the same port, and chats again', async (t) => {
    // A demo of its own, on a database file, so it can be stopped and started again as it was.
    const dir = await mkdtemp(join(tmpdir(), 'sb-e2e-chat-restart-'));
    const env = { HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}`, SECRET_KEY: 'e2e-chat-restart-secret-0123456789abcdef' };
    let restartable: RunningDemo | undefined = await startDemo(loadConfig({ ...env, PORT: '0' }));
    try {
      const port = restartable.port;
      const [alice, bob] = [await openRoom('/chat/restart/', restartable.url), await openRoom('/chat/restart/', restartable.url)];
      const [aliceName, bobName] = [await whoAmI(alice), await whoAmI(bob)];
      const logHas = (page: Page, line: string, message: string) => waitFor(async () => (await logOf(page)).includes(line), { timeoutMs: 10_000, message });
      await alice.fill('#chat-message-input', 'before the restart');
      await alice.press('#chat-message-input', 'Enter');
      for (const page of [alice, bob]) await logHas(page, `${aliceName}: before the restart`, 'the first message');

      // Graceful shutdown closes the sockets with 1001: the SDK comes back by itself.
      await restartable.close();
      const stopped = performance.now();
      for (const page of [alice, bob]) {
        await page.waitForSelector('#chat[data-state="reconnecting"]', { timeout: 5_000 });
        // 1001 first; 1006 (no server to answer) for the attempts that fail while it is down.
        assert.match((await page.textContent('#chat-status')) ?? '', /^disconnected \(close code 100[16]\b.*\); reconnecting…$/);
      }
      // Typed while the server is down: queued by the SDK, sent once the page is connected again.
      await bob.fill('#chat-message-input', 'typed while down');
      await bob.press('#chat-message-input', 'Enter');
      assert.equal(await bob.inputValue('#chat-message-input'), '', 'accepted for sending');
      assert.match((await bob.textContent('#chat-status')) ?? '', /will be sent once connected/);

      restartable = undefined;
      restartable = await startDemo(loadConfig({ ...env, PORT: String(port) }));
      for (const page of [alice, bob]) await page.waitForSelector('#chat[data-state="open"]', { timeout: 15_000 });
      t.diagnostic(`chat: both pages open again ${(performance.now() - stopped).toFixed(0)} ms after the shutdown`);
      assert.equal(await alice.textContent('#chat-status'), 'connected to room restart');
      for (const page of [alice, bob]) await logHas(page, `${bobName}: typed while down`, 'the queued message, after the reconnect');

      await alice.fill('#chat-message-input', 'after the restart');
      await alice.press('#chat-message-input', 'Enter');
      for (const page of [alice, bob]) await logHas(page, `${aliceName}: after the restart`, 'a message after the reconnect');
      // The restarted server had no history to recover from: the pages got `recovered: false`,
      // started their logs over and showed the stored messages once each, no line twice.
      for (const page of [alice, bob]) {
        assert.deepEqual((await logOf(page)).trimEnd().split('\n'), [`${aliceName}: before the restart`, `${bobName}: typed while down`, `${aliceName}: after the restart`]);
      }
      for (const page of [alice, bob]) assert.deepEqual(scriptErrors.get(page), [], 'no script errors');
    } finally {
      await restartable?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows the 400 page for an invalid room name', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const response = await page.goto(new URL('/chat/not%20valid/', demo.url).href);
    assert.equal(response?.status(), 400);
    assert.match((await page.textContent('main')) ?? '', /not a valid room name/);
  });
});
