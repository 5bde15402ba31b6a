/**
 * The demo as the tutorials' readers meet it, in chromium:
 * - a form posted without its CSRF token changes nothing (rows checked in the database);
 * - seed 000's own dice page (its socket code verbatim, on jQuery, its two AJAX views stubbed)
 *   plays a game to `gameStatus: 0`;
 * - a room with a Unicode name works in two tabs;
 * - a user logged in on `/` (no socket) is Online on another user's `/users/`;
 * - a forged guest cookie does not post under another guest's name;
 * - with `ALLOWED_ORIGINS` set to another origin, the demo's own pages still connect.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromiumSkip, launchChromium, watchScriptErrors } from '@switchboard/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from 'switchboard/testing';
import { startDemo, type RunningDemo } from '../../app.js';
import { loadConfig } from '../../config.js';
import { DEMO_ROOT } from '../paths.js';

interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  remove(): void;
  querySelector(selector: string): PageElement | null;
}
declare const document: { querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): PageElement[] };
declare const window: Record<string, unknown>;

const PASSWORD = 'correct horse battery';
const SECRET = 'readers-secret-key-0123456789abcdefgh';

/** A seed-shaped frame as the seed's page received it. */
interface SeedFrame {
  message?: string;
  gameStatus?: number;
  position?: number;
  type?: string;
}

describe('the demo as the tutorials\' readers meet it', { skip: chromiumSkip }, () => {
  let demo: RunningDemo;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }), {
      secretKey: SECRET,
      accounts: { scrypt: { log2N: 10, r: 8, p: 1 } },
      systems: { iotApiKey: undefined, gameBoardSize: 20 },
    });
    for (const name of ['alice', 'bob', 'carol']) await demo.accounts.users.create(name, PASSWORD);
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await demo?.close();
  });

  async function context(): Promise<BrowserContext> {
    const c = await browser.newContext();
    contexts.push(c);
    return c;
  }

  async function open(c: BrowserContext, path: string, base = demo.url): Promise<Page> {
    const page = await c.newPage();
    const response = await page.goto(new URL(path, base).href);
    assert.equal(response?.status(), 200, path);
    return page;
  }

  async function logIn(c: BrowserContext, username: string, next = '/users/'): Promise<Page> {
    const page = await open(c, `/log_in/?next=${encodeURIComponent(next)}`);
    await page.fill('#id_username', username);
    await page.fill('#id_password', PASSWORD);
    await Promise.all([page.waitForURL(new URL(next, demo.url).href), page.click('#log-in-submit')]);
    return page;
  }

  const rows = async () => {
    const db = demo.database.db;
    return {
      users: (await db.selectFrom('users').select('username').orderBy('username').execute()).map((r) => r.username),
      sessions: (await db.selectFrom('sessions').select(['id_hash', 'data']).orderBy('id_hash').execute()).map((r) => `${r.id_hash}:${r.data}`),
      loggedIn: (await db.selectFrom('logged_in_users').select('session_key_hash').orderBy('session_key_hash').execute()).map((r) => r.session_key_hash),
    };
  };

  /** Submits the form on `page` with its CSRF field removed, as a forged cross-site form would arrive. */
  async function submitWithoutToken(page: Page, form: string, submit: string): Promise<number> {
    await page.evaluate((selector) => document.querySelector(`${selector} input[name="csrf_token"]`)!.remove(), form);
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click(submit)]);
    return response.status();
  }

  it('changes nothing for a form posted without its CSRF token: no user, no session, no log-out', async () => {
    const c = await context();
    const signUp = await open(c, '/sign_up/');
    await signUp.fill('#id_username', 'mallory');
    await signUp.fill('#id_password1', PASSWORD);
    await signUp.fill('#id_password2', PASSWORD);
    let before = await rows();
    assert.equal(await submitWithoutToken(signUp, '#sign-up-form', '#sign-up-submit'), 403);
    assert.deepEqual(await rows(), before, 'sign-up: no user row, no session');
    assert.ok(!(await rows()).users.includes('mallory'));

    const logInPage = await open(c, '/log_in/');
    await logInPage.fill('#id_username', 'carol');
    await logInPage.fill('#id_password', PASSWORD);
    before = await rows();
    assert.equal(await submitWithoutToken(logInPage, '#log-in-form', '#log-in-submit'), 403);
    assert.deepEqual(await rows(), before, 'log-in: no session logged in');

    await logIn(c, 'carol');
    const logOut = await open(c, '/log_out/');
    before = await rows();
    assert.equal(before.loggedIn.length, 1);
    assert.equal(await submitWithoutToken(logOut, '#log-out-form', '#log-out-submit'), 403);
    assert.deepEqual(await rows(), before, 'log-out: the session and its logged_in_users row stay');
    const users = await open(c, '/users/');
    assert.equal(await users.textContent('.whoami strong'), 'carol', 'still logged in');
  });

  it('plays seed 000\'s own game page (socket code verbatim, on jQuery) to gameStatus 0', async (t) => {
    const c = await context();
    const page = await c.newPage();
    const errors = watchScriptErrors(page);
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    const html = await readFile(join(DEMO_ROOT, 'test', 'fixtures', 'seed-000-game.html'), 'utf8');
    const jquery = await readFile(createRequire(import.meta.url).resolve('jquery/dist/jquery.min.js'), 'utf8');
    // Record what the socket receives, without touching the seed's script.
    await page.addInitScript(() => {
      const Native = WebSocket;
      const frames: unknown[] = [];
      (window as Record<string, unknown>)['seedFrames'] = frames;
      (window as Record<string, unknown>)['WebSocket'] = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          this.addEventListener('message', (e) => frames.push(JSON.parse(String((e as MessageEvent).data))));
        }
      };
    });
    // The seed's page, jQuery and its two views (which the seed never defines: a message and a
    // position, as its script expects) on a server of their own, which passes WebSocket upgrades
    // through to the demo, as a Django site would route them to Channels. game_start answers once
    // the socket is open: the seed's script sends as soon as it has the answer.
    const seedSite = createServer((req, res) => {
      const send = (type: string, body: string): void => void res.writeHead(200, { 'content-type': type }).end(body);
      if (req.url === '/seed-game/') return send('text/html; charset=utf-8', html);
      if (req.url === '/jquery.js') return send('text/javascript', jquery);
      if (req.url === '/game_start/') {
        waitFor(() => logs.includes('游戏开始'), { timeoutMs: 5_000, message: 'the seed page got the greeting' }).then(
          () => send('application/json', JSON.stringify({ message: 'game start', gameStatus: 1, position: 1 })),
          () => void res.writeHead(504).end(),
        );
        return;
      }
      if (req.url?.startsWith('/game_process/')) return send('application/json', JSON.stringify({ message: 'game start', position: 1 }));
      res.writeHead(404).end();
    });
    seedSite.on('upgrade', (req, socket, head) => {
      const upstream = connect(demo.port, '127.0.0.1', () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)];
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    const upgraded = new Set<Duplex>();
    seedSite.on('upgrade', (_req, socket) => upgraded.add(socket));
    seedSite.listen(0, '127.0.0.1');
    await once(seedSite, 'listening');
    t.after(() => {
      for (const socket of upgraded) socket.destroy();
      seedSite.closeAllConnections();
      return new Promise<void>((done) => seedSite.close(() => done()));
    });
    await page.goto(`http://127.0.0.1:${(seedSite.address() as AddressInfo).port}/seed-game/`);

    const frames = (): Promise<SeedFrame[]> => page.evaluate(() => (window as Record<string, unknown>)['seedFrames'] as SeedFrame[]);
    const greeting = await waitFor(async () => (await frames()).find((f) => f.message === '游戏开始'), { timeoutMs: 5_000, message: 'the seed greeting' }).catch(async (err: unknown) => { throw new Error(`${String(err)}; console: ${JSON.stringify(logs)}; errors: ${JSON.stringify(errors)}; frames: ${JSON.stringify(await frames())}`); });
    assert.equal(greeting.gameStatus, 1);
    assert.ok(greeting.position! >= 1 && greeting.position! <= 6, `position ${greeting.position}`);
    // The page's first frame (sent after game_start answered) is a roll that joins the game.
    const rolls = async (): Promise<SeedFrame[]> => (await frames()).filter((f) => f.type === 'game' && / rolled /.test(f.message ?? ''));
    await waitFor(async () => (await rolls()).length === 1, { timeoutMs: 5_000, message: 'the first roll' });
    let clicks = 0;
    while (!(await rolls()).some((f) => f.gameStatus === 0)) {
      assert.ok(clicks < 25, 'a 20-square board is won within 20 rolls');
      const before = (await rolls()).length;
      await page.click('#button_start');
      clicks++;
      await waitFor(async () => (await rolls()).length > before, { timeoutMs: 5_000, message: `roll ${before + 1}` });
    }
    for (const roll of await rolls()) {
      assert.equal(typeof roll.message, 'string');
      assert.ok(roll.position! >= 1 && roll.position! <= 6, JSON.stringify(roll));
    }
    const all = await frames();
    assert.ok(all.every((f) => typeof f.message === 'string' && typeof f.position === 'number' && (f.gameStatus === 0 || f.gameStatus === 1 || f.type === 'error')), 'every frame has the seed\'s fields');
    assert.equal((await rolls()).at(-1)!.gameStatus, 0, 'the last roll ends the game');
    assert.ok(logs.includes('0'), 'the seed\'s console.log(gameStatus) printed 0');
    assert.deepEqual(errors, []);
    t.diagnostic(`seed page: ${(await rolls()).length} rolls to the end`);
  });

  it('chats in /chat/房间1/ from two tabs', async () => {
    const [a, b] = [await context(), await context()];
    const path = `/chat/${encodeURIComponent('房间1')}/`;
    const tabA = await open(a, path);
    const tabB = await open(b, path);
    for (const tab of [tabA, tabB]) await tab.waitForSelector('#chat[data-state="open"]');
    assert.equal(await tabA.textContent('h1 code'), '房间1');
    await tabA.fill('#chat-message-input', '你好，房间1');
    await tabA.press('#chat-message-input', 'Enter');
    await waitFor(async () => (await tabB.inputValue('#chat-log')).includes('你好，房间1'), { timeoutMs: 5_000, message: 'tab B got the message' });
    // Another room hears nothing of it.
    const other = await open(b, `/chat/${encodeURIComponent('房间2')}/`);
    await other.waitForSelector('#chat[data-state="open"]');
    assert.equal(await other.inputValue('#chat-log'), '');
    // The room is listed on /chat/, by its own name.
    const index = await open(a, '/chat/');
    assert.ok((await index.locator('#room-list a[data-room]').evaluateAll((links) => links.map((l) => (l as unknown as PageElement).dataset['room']))).includes('房间1'));
  });

  it('shows alice Online on bob\'s /users/ while she reads the home page', async () => {
    const bob = await context();
    const list = await logIn(bob, 'bob');
    await list.waitForSelector('#users[data-state="open"]');
    const alice = await context();
    await logIn(alice, 'alice', '/');
    const status = (): Promise<string | null> =>
      list.evaluate(() => {
        const li = [...document.querySelectorAll('#users li')].find((l) => l.dataset['username'] === 'alice');
        return li ? `${li.dataset['online']}:${li.querySelector('.user-status')?.textContent}:${li.dataset['active']}` : null;
      });
    await waitFor(async () => (await status()) === 'true:Online:false', { timeoutMs: 5_000, message: 'alice Online (logged in), not active (no socket open)' });
  });

  it('does not post under another guest\'s name with a forged sb_guest cookie', async () => {
    const owner = await context();
    const room = await open(owner, '/chat/guests-only/');
    await room.waitForSelector('#chat[data-state="open"]');
    const name = (await room.textContent('.whoami strong'))!;
    assert.match(name, /^guest-[a-z0-9]+$/);
    const thief = await context();
    const { hostname } = new URL(demo.url);
    for (const value of [name, `${name}.${'A'.repeat(22)}`]) {
      await thief.clearCookies();
      await thief.addCookies([{ name: 'sb_guest', value, domain: hostname, path: '/' }]);
      const page = await open(thief, '/chat/guests-only/');
      await page.waitForSelector('#chat[data-state="open"]');
      assert.notEqual(await page.textContent('.whoami strong'), name, 'the page gave the forger a name of their own');
      await page.fill('#chat-message-input', `it is me (${value.length})`);
      await page.press('#chat-message-input', 'Enter');
      const line = await waitFor(async () => (await room.inputValue('#chat-log')).split('\n').find((l) => l.includes(`it is me (${value.length})`)), { timeoutMs: 5_000, message: 'the forged post arrived' });
      assert.ok(!line.startsWith(`${name}:`), `posted as ${line}`);
      await page.close();
    }
  });

  it('says when a message is over 2,000 characters instead of cutting it, and sends nothing', async () => {
    const c = await context();
    const page = await open(c, '/chat/long-lines/');
    await page.waitForSelector('#chat[data-state="open"]');
    const long = 'x'.repeat(2001);
    await page.fill('#chat-message-input', long);
    assert.equal((await page.inputValue('#chat-message-input')).length, 2001, 'nothing was cut');
    assert.match((await page.textContent('#chat-char-count')) ?? '', /2001 \/ 2000 characters: 1 too many/);
    assert.equal(await page.isDisabled('#chat-message-submit'), true);
    await page.press('#chat-message-input', 'Enter');
    assert.match((await page.textContent('#chat-status')) ?? '', /not sent: the message has 2001 characters, at most 2000/);
    assert.equal((await page.inputValue('#chat-message-input')).length, 2001, 'the text stays to be shortened');
    await page.fill('#chat-message-input', 'y'.repeat(2000));
    await page.press('#chat-message-input', 'Enter');
    await waitFor(async () => (await page.inputValue('#chat-log')).includes('y'.repeat(2000)), { timeoutMs: 5_000, message: '2,000 characters go through' });
    assert.equal((await page.inputValue('#chat-log')).includes('x'.repeat(2000)), false, 'the long one was never sent');
  });

  it('shows the dice board: a start square and 20 more, with each player\'s token where they stand', async () => {
    const c = await context();
    const page = await open(c, '/game/board-room/');
    await page.waitForSelector('#game[data-state="open"]');
    assert.equal(await page.locator('#game-board li').count(), 21);
    assert.equal(await page.isVisible('#game-players-empty'), true, 'an empty state before anyone joins');
    await page.click('#game-join');
    await page.waitForSelector('#game-board li[data-square="0"] .token.you');
    await page.click('#game-roll');
    const square = await waitFor(async () => {
      const at = await page.locator('#game-board li:has(.token.you)').getAttribute('data-square');
      return at !== '0' && at;
    }, { timeoutMs: 5_000, message: 'the token moved' });
    assert.ok(Number(square) >= 1 && Number(square) <= 6);
    assert.match((await page.textContent('#game-die')) ?? '', /^[1-6]$/);
    const index = await open(c, '/game/');
    assert.ok(await index.isVisible('#room-list a[data-room="board-room"]'), 'the room is listed on /game/');
  });

  it('keeps its own pages connecting when ALLOWED_ORIGINS names one other origin', async () => {
    const widened = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', ALLOWED_ORIGINS: 'https://tutorial.example' }), { secretKey: SECRET });
    try {
      const c = await context();
      for (const path of ['/chat/lobby/', '/one/', '/game/lobby/']) {
        const page = await open(c, path, widened.url);
        await page.waitForSelector('[data-state="open"]', { timeout: 5_000 });
      }
    } finally {
      await widened.close();
    }
  });
});
