/**
 * Issue 4's acceptance in Debian's chromium (playwright-core), on SQLite and on PostgreSQL: sign
 * up and log in through the forms, `/users/` flipping another user Online and Offline without a
 * reload (log-in, log-out, several tabs counting once, the last tab closing), chat under the real
 * username that a forged `username` field cannot change, and XSS payloads as a username and as a
 * chat message shown as text. Then two demo processes on Redis sharing one database: a log-in on
 * A reaches the `/users/` socket on B, and a log-out on B closes the socket on A with 4401.
 * PostgreSQL and Redis parts are skipped when the service is missing, unless REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitFor } from 'switchboard/testing';
import { startDemo, type RunningDemo } from '../../app.js';
import { loadConfig } from '../../config.js';
import { Agent, type AgentSocket } from '../accounts-agent.js';
import { DATABASE_URL, REDIS_URL, postgresAvailable, redisAvailable, tempPostgresDatabase } from '@switchboard/test-support';
import { chromiumSkip, launchChromium } from '@switchboard/test-support';
import { SERVER_JS } from '../paths.js';

// The page functions below run in the browser; these are the DOM names they use.
declare const document: { querySelectorAll(selector: string): Iterable<{ dataset: Record<string, string | undefined>; querySelector(selector: string): { textContent: string | null } | null }> };
declare const location: { host: string };

const noBrowser = chromiumSkip;
const PASSWORD = 'correct horse battery';
const SECRET = 'e2e-accounts-secret-0123456789abcdef';
const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

const targets: Array<[string, () => Promise<{ url: string; drop(): Promise<void> }>, string | false]> = [
  [
    'SQLite',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sb-e2e-accounts-'));
      return { url: `sqlite:${join(dir, 'db.sqlite3')}`, drop: () => rm(dir, { recursive: true, force: true }) };
    },
    false,
  ],
  ['PostgreSQL', () => tempPostgresDatabase('sbe2e'), postgresAvailable() ? false : `PostgreSQL at ${DATABASE_URL} is unreachable`],
];

for (const [label, makeDatabase, skipDb] of targets) {
  describe(`accounts in a browser on ${label}`, { skip: noBrowser || skipDb }, () => {
    let demo: RunningDemo;
    let database: { url: string; drop(): Promise<void> };
    let browser: Browser;
    /** Script errors and dialogs (an alert() would mean injected script ran), per page. */
    const problems = new Map<Page, string[]>();

    before(async () => {
      database = await makeDatabase();
      demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url }), { secretKey: SECRET, accounts: { scrypt: { log2N: 14, r: 8, p: 1 } } });
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await demo?.close();
      await database?.drop();
    });

    async function newPage(context: BrowserContext, path: string): Promise<Page> {
      const page = await context.newPage();
      const list: string[] = [];
      page.on('pageerror', (err) => list.push(err.message));
      page.on('dialog', (dialog) => {
        list.push(`dialog: ${dialog.message()}`);
        void dialog.dismiss();
      });
      problems.set(page, list);
      await page.goto(new URL(path, demo.url).href);
      return page;
    }

    async function signUpAndLogIn(page: Page, username: string): Promise<void> {
      await page.goto(new URL('/sign_up/', demo.url).href);
      await page.fill('#id_username', username);
      await page.fill('#id_password1', PASSWORD);
      await page.fill('#id_password2', PASSWORD);
      await Promise.all([page.waitForURL(/\/log_in\/\?username=/), page.click('#sign-up-submit')]);
      assert.equal(await page.inputValue('#id_username'), username, 'the log-in form is prefilled');
      await page.fill('#id_password', PASSWORD);
      await Promise.all([page.waitForURL(/\/users\/$/), page.click('#log-in-submit')]);
      await page.waitForSelector('#users[data-state="open"]');
    }

    const status = (page: Page, username: string): Promise<string | null> =>
      page.evaluate((name) => {
        const li = [...document.querySelectorAll('#users li')].find((l) => l.dataset['username'] === name);
        return li ? `${li.dataset['online']}:${li.querySelector('.user-status')?.textContent}` : null;
      }, username);
    const waitStatus = (page: Page, username: string, online: boolean, message: string) =>
      waitFor(async () => (await status(page, username)) === (online ? 'true:Online' : 'false:Offline'), { timeoutMs: 5_000, message });
    /** Whether `username`'s line shows the "active now" marker (a page of the site open). */
    const active = (page: Page, username: string): Promise<string | null> =>
      page.evaluate((name) => {
        const li = [...document.querySelectorAll('#users li')].find((l) => l.dataset['username'] === name);
        return li ? `${li.dataset['active']}:${li.querySelector('.user-active')?.textContent}` : null;
      }, username);
    const waitActive = (page: Page, username: string, on: boolean, message: string) =>
      waitFor(async () => (await active(page, username)) === (on ? 'true:active now' : 'false:'), { timeoutMs: 5_000, message });

    it('signs up, logs in, and follows another user Online/Offline and active without a reload; chats under the real name', async (t) => {
      const [alice, bob] = [uniqueName('alice'), uniqueName('bob')];
      const contextA = await browser.newContext();
      const contextB = await browser.newContext();

      // An XSS payload as a username is refused and shown as text in the form.
      const pageA = await newPage(contextA, '/sign_up/');
      const payload = '<img src=x onerror=alert(1)>';
      await pageA.fill('#id_username', payload);
      await pageA.fill('#id_password1', PASSWORD);
      await pageA.fill('#id_password2', PASSWORD);
      await Promise.all([pageA.waitForLoadState('load'), pageA.click('#sign-up-submit')]);
      await pageA.waitForSelector('.field-error[data-field="username"][data-code="SB_ERR_INVALID_USERNAME"]');
      assert.equal(await pageA.inputValue('#id_username'), payload);
      assert.equal(await pageA.locator('main img').count(), 0);

      const started = performance.now();
      await signUpAndLogIn(pageA, alice);
      const flowMs = performance.now() - started;
      await waitStatus(pageA, alice, true, 'alice sees herself online');
      const reloads: string[] = [];
      pageA.on('framenavigated', (frame) => frame === pageA.mainFrame() && reloads.push(frame.url()));

      const pageB = await newPage(contextB, '/');
      await signUpAndLogIn(pageB, bob);
      await waitStatus(pageA, bob, true, 'bob online on alice\'s page after his log-in');
      await waitStatus(pageB, alice, true, 'alice online on bob\'s page');

      await Promise.all([pageB.waitForURL(/\/log_in\/$/), pageB.click('#log-out-submit')]);
      await waitStatus(pageA, bob, false, 'bob offline after his log-out');

      await pageB.fill('#id_username', bob);
      await pageB.fill('#id_password', PASSWORD);
      await Promise.all([pageB.waitForURL(/\/users\/$/), pageB.click('#log-in-submit')]);
      await waitStatus(pageA, bob, true, 'bob online again');
      const bobChat = await newPage(contextB, '/chat/lobby/');
      await bobChat.waitForSelector('#chat[data-state="open"]');
      await pageB.close();
      // Still a tab open: still online (give a wrong "offline" time to arrive, then look).
      await bobChat.fill('#chat-message-input', 'still here');
      await bobChat.press('#chat-message-input', 'Enter');
      await waitFor(async () => (await bobChat.inputValue('#chat-log')).includes(`${bob}: still here`), { timeoutMs: 5_000, message: 'bob\'s message' });
      assert.equal(await status(pageA, bob), 'true:Online', 'several tabs count once');
      assert.equal(await active(pageA, bob), 'true:active now');
      await bobChat.close();
      // Logged in with no page open: still Online, no longer active (seed 003's list means logged in).
      await waitActive(pageA, bob, false, 'bob not active when his last tab closes');
      assert.equal(await status(pageA, bob), 'true:Online', 'bob is still logged in');
      assert.deepEqual(reloads, [], 'alice\'s page never reloaded');

      // Chat under the real name; a forged username changes nothing; HTML shows as text.
      const room = `room-${randomBytes(3).toString('hex')}`;
      const chat = await newPage(contextA, `/chat/${room}/`);
      await chat.waitForSelector('#chat[data-state="open"]');
      assert.equal(await chat.textContent('.whoami strong'), alice);
      await chat.fill('#chat-message-input', 'hello from alice');
      await chat.press('#chat-message-input', 'Enter');
      await chat.evaluate(
        ([r, forged]) =>
          new Promise<void>((done) => {
            const ws = new WebSocket(`ws://${location.host}/ws/chat/${r}/`);
            ws.onopen = () => {
              ws.send(JSON.stringify({ message: 'forged line', username: forged }));
              done();
            };
          }),
        [room, bob] as const,
      );
      await chat.fill('#chat-message-input', payload);
      await chat.press('#chat-message-input', 'Enter');
      const log = await waitFor(
        async () => {
          const text = await chat.inputValue('#chat-log');
          return text.includes(`${alice}: ${payload}`) && text.includes('forged line') && text;
        },
        { timeoutMs: 5_000, message: 'all three messages' },
      );
      assert.ok(log.includes(`${alice}: hello from alice`));
      assert.ok(log.includes(`${alice}: forged line`) && !log.includes(`${bob}: forged line`), log);
      assert.equal(await chat.locator('img').count(), 0);

      // History: a fresh page of the room shows what was said.
      const later = await newPage(contextB, `/chat/${room}/`);
      await waitFor(async () => (await later.inputValue('#chat-log')).includes(`${alice}: hello from alice`), { timeoutMs: 5_000, message: 'history on open' });

      for (const [page, list] of problems) assert.deepEqual(list, [], `no script errors or dialogs on ${page.url()}`);
      t.diagnostic(`${label}: sign-up + log-in through the forms in ${flowMs.toFixed(0)} ms`);
    });
  });
}

// ---- two processes -------------------------------------------------------------------------


interface Server {
  readonly child: ChildProcess;
  output: string;
  url: string;
}

async function startServer(cwd: string, env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, [SERVER_JS], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const server: Server = { child, output: '', url: '' };
  child.stdout!.on('data', (d: Buffer) => (server.output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (server.output += d.toString()));
  server.url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${server.output}`);
      return /Switchboard demo on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(server.output)?.[1];
    },
    { timeoutMs: 15_000, intervalMs: 20, message: 'the server printed its URL' },
  );
  return server;
}

async function stopServer(server: Server | undefined): Promise<number | null> {
  if (!server || server.child.exitCode !== null) return server?.child.exitCode ?? null;
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
  return server.child.exitCode;
}

describe('accounts on two processes over Redis', { skip: redisAvailable() ? false : `Redis at ${REDIS_URL} is unreachable` }, () => {
  let dir: string;
  let a: Server | undefined;
  let b: Server | undefined;
  const sockets: AgentSocket[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-e2e-accounts-mp-'));
    // The servers keep their sign-up and log-in budgets in Redis under the default prefix, which
    // outlives a run: start every run with full buckets (10 sign-ups per 10 minutes per IP).
    const redis = new Redis(REDIS_URL);
    const stale = await redis.keys('sb:demo:ratelimit:*');
    if (stale.length > 0) await redis.del(...stale);
    await redis.quit();
    const env = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', CHANNEL_LAYER_URL: REDIS_URL, DATABASE_URL: `sqlite:${join(dir, 'shared.sqlite3')}`, SECRET_KEY: SECRET, SWITCHBOARD_API_KEY: 'e2e-accounts-api-key-0123456789' };
    [a, b] = await Promise.all([startServer(dir, env), startServer(dir, env)]);
  });

  after(async () => {
    for (const s of sockets) s.ws.terminate();
    const codes = await Promise.all([stopServer(a), stopServer(b)]);
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(codes, [0, 0], `${a?.output}\n${b?.output}`);
  });

  it('a log-in on A reaches the /users/ socket on B; a log-out on B closes the socket on A with 4401', async (t) => {
    const [carol, dave] = [uniqueName('carol'), uniqueName('dave')];
    const carolOnA = new Agent(a!.url);
    const daveOnB = new Agent(b!.url);
    assert.equal((await carolOnA.signUp(carol, PASSWORD)).status, 303);
    assert.equal((await daveOnB.signUp(dave, PASSWORD)).status, 303);
    assert.equal((await daveOnB.logIn(dave, PASSWORD)).status, 303);
    const watch = await daveOnB.socket('users/');
    sockets.push(watch);
    const about = (): unknown[] => watch.messages.filter((m) => (m as { username: string }).username === carol);
    await waitFor(() => about().length === 1, { message: 'the snapshot has carol' });
    assert.deepEqual(about()[0], { username: carol, is_logged_in: false, active: false });

    const started = performance.now();
    assert.equal((await carolOnA.logIn(carol, PASSWORD)).status, 303);
    // The log-in alone (no page open yet) makes carol Online on B, as seed 003's signal does.
    await waitFor(() => about().length === 2, { message: 'B heard that carol logged in' });
    assert.deepEqual(about()[1], { username: carol, is_logged_in: true, active: false });
    const loginToOnlineMs = performance.now() - started;
    const carolPage = await carolOnA.socket('users/');
    sockets.push(carolPage);
    await waitFor(() => about().length === 3, { message: 'B heard that carol is active' });
    assert.deepEqual(about()[2], { username: carol, is_logged_in: true, active: true });

    // The same browser session, its log-out form posted to process B.
    const carolOnB = new Agent(b!.url);
    for (const [k, v] of carolOnA.cookies) carolOnB.cookies.set(k, v);
    assert.equal((await carolOnB.logOut()).status, 303);
    assert.equal((await carolPage.closed).code, 4401, 'closed on A by a log-out on B');
    await waitFor(() => JSON.stringify(about().at(-1)) === JSON.stringify({ username: carol, is_logged_in: false, active: false }), { message: 'B heard that carol is offline' });
    assert.ok(about().slice(3).every((m) => (m as { is_logged_in: boolean }).is_logged_in === false), JSON.stringify(about()));
    t.diagnostic(`two processes: log-in on A to "online" on B in ${loginToOnlineMs.toFixed(0)} ms`);
  });
});
