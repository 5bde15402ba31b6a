/**
 * Every page of the demo at a phone width (390 px) and a desktop width (1280 px) in chromium: no
 * page scrolls sideways, no script error, and a screenshot of each goes to
 * `test-results/screenshots/` (gitignored) for people to look at.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromiumSkip, launchChromium, watchScriptErrors } from '@switchboard/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startDemo, type RunningDemo } from '../../app.js';
import { loadConfig } from '../../config.js';
import { REPO_ROOT } from '../paths.js';

declare const document: { documentElement: { scrollWidth: number } };
declare const innerWidth: number;

const PASSWORD = 'correct horse battery';
const SHOTS = join(REPO_ROOT, 'test-results', 'screenshots');
const WIDTHS = [390, 1280] as const;

/** Path, file name, and what the page shows once its script has run. */
const GUEST_PAGES: ReadonlyArray<readonly [string, string, string]> = [
  ['/', 'home', '.systems'],
  ['/one/', 'words', '#one-stream[data-state="open"]'],
  ['/two/', 'chart', '#iot-status:has-text("simulated: live")'],
  ['/chat/', 'chat-index', '#room-list'],
  ['/chat/lobby/', 'chat-room', '#chat[data-state="open"]'],
  [`/chat/${encodeURIComponent('房间1')}/`, 'chat-room-unicode', '#chat[data-state="open"]'],
  ['/game/', 'game-index', '#room-list'],
  ['/game/lobby/', 'game-room', '#game[data-state="open"]'],
  ['/log_in/', 'log-in', '#log-in-form'],
  ['/sign_up/', 'sign-up', '#sign-up-form'],
  ['/nowhere/', 'not-found', '.error-page'],
];
const USER_PAGES: ReadonlyArray<readonly [string, string, string]> = [
  ['/users/', 'users', '#users[data-state="open"]'],
  ['/log_out/', 'log-out', '#log-out-form'],
  ['/', 'home-logged-in', '.systems'],
];

describe('every page at 390 px and 1280 px', { skip: chromiumSkip }, () => {
  let demo: RunningDemo;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }), {
      secretKey: 'screenshot-secret-key-0123456789abcdef',
      accounts: { scrypt: { log2N: 10, r: 8, p: 1 } },
      systems: { iotApiKey: undefined, gameBoardSize: 20 },
    });
    await demo.accounts.users.create('alice', PASSWORD);
    browser = await launchChromium();
    await mkdir(SHOTS, { recursive: true });
    // Somebody in two rooms, who said hello and rolled once, so the pages have something to show.
    const other = await browser.newContext();
    contexts.push(other);
    const chat = await other.newPage();
    await chat.goto(new URL('/chat/lobby/', demo.url).href);
    await chat.waitForSelector('#chat[data-state="open"]');
    await chat.fill('#chat-message-input', 'hello, anyone here? 你好');
    await chat.press('#chat-message-input', 'Enter');
    const game = await other.newPage();
    await game.goto(new URL('/game/lobby/', demo.url).href);
    await game.waitForSelector('#game[data-state="open"]');
    await game.click('#game-join');
    await game.waitForSelector('#game-roll:not([disabled])');
    await game.click('#game-roll');
    await game.waitForSelector('#game-board li:not([data-square="0"]) .token');
  });

  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await demo?.close();
  });

  async function check(page: Page, width: number, path: string, name: string, ready: string): Promise<void> {
    const errors = watchScriptErrors(page);
    const response = await page.goto(new URL(path, demo.url).href);
    assert.ok(response && (response.status() === 200 || (name === 'not-found' && response.status() === 404)), `${path}: HTTP ${response?.status()}`);
    await page.waitForSelector(ready, { timeout: 5_000 });
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
    const { scrollWidth, viewport } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, viewport: innerWidth }));
    assert.ok(scrollWidth <= viewport, `${path} at ${width} px scrolls sideways: ${scrollWidth} > ${viewport}`);
    assert.deepEqual(errors, [], `script errors on ${path} at ${width} px`);
  }

  for (const width of WIDTHS) {
    it(`shows every guest page at ${width} px without sideways scrolling`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      for (const [path, name, ready] of GUEST_PAGES) await check(page, width, path, name, ready);
    });

    it(`shows every logged-in page at ${width} px without sideways scrolling`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(new URL('/log_in/', demo.url).href);
      await page.fill('#id_username', 'alice');
      await page.fill('#id_password', PASSWORD);
      await Promise.all([page.waitForURL(/\/users\/$/), page.click('#log-in-submit')]);
      for (const [path, name, ready] of USER_PAGES) await check(page, width, path, name, ready);
    });
  }
});
