/**
 * Chat rooms end to end in Debian's chromium (playwright-core, no downloaded browsers): two
 * browser contexts (two guests) in one room see each other's messages; a third page in another
 * room sees none; a message that looks like HTML shows as text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromiumSkip, launchChromium, watchScriptErrors } from './browser.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from 'switchboard/testing';
import { startDemo, type RunningDemo } from '../../demo/app.js';
import { loadConfig } from '../../demo/config.js';

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

  /** A page in a fresh context (its own guest cookie), on `path`, connected. */
  async function openRoom(path: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const errors = watchScriptErrors(page);
    scriptErrors.set(page, errors);
    await page.goto(new URL(path, demo.url).href);
    await page.waitForSelector('#chat[data-state="open"]', { timeout: 10_000 });
    return page;
  }

  const logOf = (page: Page): Promise<string> => page.inputValue('#chat-log');
  const whoAmI = async (page: Page): Promise<string> => (await page.textContent('.whoami strong')) ?? '';

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

  it('shows the 400 page for an invalid room name', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const response = await page.goto(new URL('/chat/not%20valid/', demo.url).href);
    assert.equal(response?.status(), 400);
    assert.match((await page.textContent('main')) ?? '', /not a valid room name/);
  });
});
