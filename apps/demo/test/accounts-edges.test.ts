/**
 * The account pages' edges over real HTTP: log-in limits per (username, IP) and per username behind
 * a proxy (`TRUST_PROXY`), Secure cookies behind a TLS proxy, and a failing request's 500 page.
 * SQLite in memory.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { Agent } from './accounts-agent.js';
import { proxyDemos } from './proxy-demos.js';

const PASSWORD = 'correct horse battery';
const FAST_SCRYPT = { log2N: 14, r: 8, p: 1 };

/** A unique, valid username. */
const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

describe('log-in limits and cookies behind a proxy (TRUST_PROXY)', () => {
  const options = {
    secretKey: 'test-secret-key-0123456789abcdefghijkl',
    accounts: { scrypt: FAST_SCRYPT, rateLimits: { loginPerUsernameIp: { limit: 3, windowMs: 60_000 }, loginPerUsername: { limit: 6, windowMs: 60_000 }, loginPerIp: { limit: 1000, windowMs: 60_000 } } },
  };
  const demos = proxyDemos(options);

  /** An agent whose requests come through the proxy from `ip`. */
  const from = (demo: RunningDemo, ip: string): Agent => {
    const a = new Agent(demo.url);
    a.headers = { 'x-forwarded-for': ip };
    return a;
  };

  it('locks a username out per address, so wrong passwords from one address do not lock the owner out elsewhere', async () => {
    const name = uniqueName('own');
    await demos.proxied.accounts.users.create(name, PASSWORD);
    const guesser = from(demos.proxied, '203.0.113.7');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await guesser.logIn(name, 'not the password')).status);
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    assert.equal((await guesser.logIn(name, PASSWORD)).status, 429, 'that address waits, even with the password');
    assert.equal((await from(demos.proxied, '198.51.100.20').logIn(name, PASSWORD)).status, 303, 'the owner, elsewhere, gets in');
  });

  it('keeps a softer limit per username across addresses', async () => {
    const name = uniqueName('spr');
    await demos.proxied.accounts.users.create(name, PASSWORD);
    const statuses: number[] = [];
    for (let i = 1; i <= 7; i++) statuses.push((await from(demos.proxied, `192.0.2.${i}`).logIn(name, 'not the password')).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429], 'six guesses from six addresses, then the username waits');
  });

  it('marks cookies Secure behind a TLS proxy only when TRUST_PROXY trusts it, and counts the forwarded client only then', async () => {
    const secureCookies = async (demo: RunningDemo): Promise<string[]> => (await fetch(new URL('/log_in/', demo.url), { headers: { 'x-forwarded-proto': 'https' } })).headers.getSetCookie();
    const behindTls = await secureCookies(demos.proxied);
    assert.ok(behindTls.length >= 2, 'the form page sets the guest and CSRF cookies');
    for (const cookie of behindTls) assert.match(cookie, /; Secure/i, cookie);
    for (const cookie of await secureCookies(demos.direct)) assert.doesNotMatch(cookie, /; Secure/i, cookie);
    // Without TRUST_PROXY a forged X-Forwarded-For does not buy fresh attempts: the socket's address counts.
    const name = uniqueName('dir');
    await demos.direct.accounts.users.create(name, PASSWORD);
    const statuses: number[] = [];
    for (let i = 1; i <= 4; i++) statuses.push((await from(demos.direct, `192.0.2.${i}`).logIn(name, 'not the password')).status);
    assert.deepEqual(statuses, [401, 401, 401, 429]);
  });
});

describe('a failing request (issue 10 item 6)', () => {
  it('answers a plain 500 page with a request id, and logs the detail under that id', async () => {
    const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const capture = (fields: object | string, message?: string): void => {
      if (typeof fields === 'string') lines.push({ fields: {}, message: fields });
      else lines.push({ fields: fields as Record<string, unknown>, message: message ?? '' });
    };
    const logger = { trace: capture, debug: capture, info: capture, warn: capture, error: capture, fatal: capture, child: () => logger };
    const demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }), { secretKey: 'test-secret-key-0123456789abcdefghijkl', logger });
    try {
      // A database fault: the table the session lookup reads is gone.
      await sql`DROP TABLE logged_in_users`.execute(demo.database.db);
      await sql`DROP TABLE sessions`.execute(demo.database.db);
      const res = await fetch(new URL('/users/', demo.url), { headers: { cookie: `sessionid=${'A'.repeat(43)}` } });
      assert.equal(res.status, 500);
      const html = await res.text();
      const id = res.headers.get('x-request-id');
      assert.match(id ?? '', /^[A-Za-z0-9_-]{8}$/);
      assert.ok(html.includes(id!), 'the page quotes the request id');
      for (const leak of ['sessions', 'no such table', 'SqliteError', 'node_modules', '/work/', 'at ']) assert.ok(!html.includes(leak), `the page leaks ${JSON.stringify(leak)}`);
      const logged = lines.find((l) => l.fields['reqId'] === id);
      assert.ok(logged, 'a log line with the request id');
      assert.match(String((logged.fields['err'] as Error).message), /no such table: sessions/);
    } finally {
      await demo.close().catch(() => undefined);
    }
  });
});
