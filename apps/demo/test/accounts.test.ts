/**
 * Accounts over real HTTP and WebSocket connections (no browser): sign-up rules, CSRF, the log-in
 * answers for a wrong password and an unknown user, rate limits, the shared session, the origin
 * check, who-is-online messages, log-out closing sockets with 4401, chat under real names with
 * history and members-only rooms, the demo error table, the config of the new variables and the
 * `switchboard createuser` command. SQLite in memory; the browser flow on SQLite and PostgreSQL is
 * test/e2e/accounts.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, SwitchboardError } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import * as accountErrors from '../accounts/errors.js';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { MigrationFailedError } from '../db/migrations.js';
import { InvalidPasswordError, InvalidUsernameError, UsernameTakenError } from '../db/users.js';
import { Agent, type AgentSocket } from './accounts-agent.js';
import { REPO_ROOT, DEMO_CLI } from './paths.js';

const PASSWORD = 'correct horse battery';
const FAST_SCRYPT = { log2N: 14, r: 8, p: 1 };

/** A unique, valid username. */
const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

/** The `data-code` values on a page (form errors). */
const codesOf = (html: string): string[] => [...html.matchAll(/data-code="([A-Z_]+)"/g)].map((m) => m[1]!);

describe('demo accounts over HTTP and WebSocket', () => {
  let demo: RunningDemo;
  const sockets: AgentSocket[] = [];
  const agent = (): Agent => new Agent(demo.url);
  async function open(a: Agent, path: string, headers?: Record<string, string>): Promise<AgentSocket> {
    const s = await a.socket(path, headers);
    sockets.push(s);
    return s;
  }

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }), {
      secretKey: 'test-secret-key-0123456789abcdefghijkl',
      accounts: { scrypt: FAST_SCRYPT, rateLimits: { loginPerUsernameIp: { limit: 3, windowMs: 60_000 }, loginPerIp: { limit: 1000, windowMs: 60_000 } } },
    });
  });

  after(async () => {
    for (const s of sockets) s.ws.terminate();
    await demo.close();
  });

  it('signs up and logs in; the forms bind their token to an HttpOnly, SameSite=Lax cookie, the log-in creates the session', async () => {
    const a = agent();
    const name = uniqueName('ann');
    const first = await a.get('/sign_up/');
    const csrfCookie = first.headers.getSetCookie().find((c) => c.startsWith('sb_csrf='));
    assert.ok(csrfCookie, 'the form page set the cookie its CSRF token is bound to');
    assert.match(csrfCookie, /HttpOnly/);
    assert.match(csrfCookie, /SameSite=Lax/);
    assert.ok(!first.headers.getSetCookie().some((c) => c.startsWith('sessionid=')), 'no session for showing a form');
    assert.ok(first.headers.getSetCookie().some((c) => c.startsWith('sb_guest=')), 'and the guest cookie beside it');
    const signUp = await a.signUp(name, PASSWORD);
    assert.equal(signUp.status, 303);
    assert.equal(signUp.headers.get('location'), `/log_in/?username=${name}`);
    const form = await a.get(`/log_in/?username=${name}`);
    assert.equal(form.headers.getSetCookie().length, 0, 'the cookie is reused, no new one');
    assert.match(await form.text(), new RegExp(`value="${name}"`));
    assert.equal(a.cookies.has('sessionid'), false);

    // A session id planted before the log-in (fixation) is not the one logged in.
    const planted = 'A'.repeat(43);
    a.cookies.set('sessionid', planted);
    const login = await a.logIn(name, PASSWORD);
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/users/');
    const session = a.cookies.get('sessionid')!;
    assert.notEqual(session, planted, 'a fresh session id at log-in');
    const page = await a.get('/users/');
    assert.equal(page.status, 200);
    assert.match(await page.text(), new RegExp(`<li data-username="${name}"`));
  });

  it('writes no session row for showing the forms to visitors without cookies (issue 10 item 4)', async () => {
    const count = async () => Number((await demo.database.db.selectFrom('sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    for (let i = 0; i < 100; i++) {
      for (const path of ['/log_in/', '/sign_up/']) {
        const res = await fetch(new URL(path, demo.url));
        assert.equal(res.status, 200);
        assert.match(await res.text(), /name="csrf_token" value="[A-Za-z0-9_-]{43}"/);
      }
    }
    assert.equal(await count(), before, '200 cookie-less form pages, no new session row');
    // A token from one visitor's cookie is not another's.
    const [x, y] = [agent(), agent()];
    const token = await x.token('/log_in/');
    await y.get('/log_in/');
    assert.equal((await y.post('/log_in/', { csrf_token: token, username: 'nobody', password: PASSWORD })).status, 403);
    assert.equal((await x.post('/log_in/', { csrf_token: token, username: 'nobody', password: PASSWORD })).status, 401, 'its own visitor passes the CSRF check');
  });

  it('shows sign-up errors on the form with their codes, the input escaped', async () => {
    const a = agent();
    const taken = uniqueName('taken');
    assert.equal((await a.signUp(taken, PASSWORD)).status, 303);
    const cases: Array<[Record<string, string>, string[]]> = [
      [{ username: '<img src=x onerror=alert(1)>', password1: PASSWORD, password2: PASSWORD }, ['SB_ERR_INVALID_USERNAME']],
      [{ username: 'guest-abc123', password1: PASSWORD, password2: PASSWORD }, ['SB_ERR_INVALID_USERNAME']],
      [{ username: uniqueName('ok'), password1: 'short', password2: 'short' }, ['SB_ERR_INVALID_PASSWORD']],
      [{ username: uniqueName('ok'), password1: PASSWORD, password2: `${PASSWORD}!` }, ['SB_ERR_PASSWORDS_DIFFER']],
      [{ username: taken.toUpperCase(), password1: PASSWORD, password2: PASSWORD }, ['SB_ERR_USERNAME_TAKEN']],
    ];
    for (const [fields, codes] of cases) {
      const res = await a.post('/sign_up/', { csrf_token: await a.token('/sign_up/'), ...fields });
      assert.equal(res.status, 400, JSON.stringify(fields));
      const html = await res.text();
      assert.deepEqual(codesOf(html), codes, JSON.stringify(fields));
      assert.ok(!html.includes('<img src=x'), 'the username is escaped');
    }
  });

  it('refuses every form post without the right CSRF token with 403, and changes nothing', async () => {
    const db = demo.database.db;
    const userRows = async () => (await db.selectFrom('users').select('username').execute()).map((r) => r.username).sort();
    const sessionRows = async () => (await db.selectFrom('sessions').select(['id_hash', 'data']).orderBy('id_hash').execute()).map((r) => `${r.id_hash}:${r.data}`);
    const loggedInRows = async () => (await db.selectFrom('logged_in_users').select('session_key_hash').execute()).length;
    // A logged-in agent: a refused log-out must leave its session alive.
    const owner = uniqueName('csrf');
    const a = agent();
    assert.equal((await a.signUp(owner, PASSWORD)).status, 303);
    assert.equal((await a.logIn(owner, PASSWORD)).status, 303);
    const newcomer = uniqueName('nobody');
    for (const path of ['/sign_up/', '/log_in/', '/log_out/']) {
      for (const token of [undefined, 'x'.repeat(43), await new Agent(demo.url).token('/log_in/')]) {
        const before = { users: await userRows(), sessions: await sessionRows(), loggedIn: await loggedInRows(), cookies: a.cookieHeader };
        const res = await a.post(path, { ...(token === undefined ? {} : { csrf_token: token }), username: path === '/sign_up/' ? newcomer : owner, password: PASSWORD, password1: PASSWORD, password2: PASSWORD });
        const what = `${path} with ${token === undefined ? 'no token' : 'a wrong token'}`;
        assert.equal(res.status, 403, what);
        assert.match(await res.text(), /SB_ERR_CSRF/);
        assert.equal(res.headers.getSetCookie().length, 0, `${what}: no cookie set or cleared`);
        assert.deepEqual({ users: await userRows(), sessions: await sessionRows(), loggedIn: await loggedInRows(), cookies: a.cookieHeader }, before, `${what}: no row and no cookie changed`);
      }
    }
    // Still logged in: the page shows the user, and the refused sign-up created no account to log in to.
    assert.match(await (await a.get('/users/')).text(), new RegExp(`data-username="${owner}"`));
    assert.equal((await agent().logIn(newcomer, PASSWORD)).status, 401, 'the refused sign-up made no account');
    // Without any session cookie at all, too.
    const bare = await new Agent(demo.url).post('/log_in/', { csrf_token: 'x'.repeat(43), username: owner, password: PASSWORD });
    assert.equal(bare.status, 403);
  });

  it('answers an unknown user and a wrong password with the same bytes, in about the same time', async (t) => {
    const a = agent();
    const name = uniqueName('bea');
    const attempt = async (): Promise<{ status: number; body: string; ms: number }> => {
      const csrf_token = await a.token('/log_in/');
      const started = performance.now();
      const res = await a.post('/log_in/', { csrf_token, username: name, password: 'not the password', next: '/users/' });
      const body = await res.text();
      return { status: res.status, body, ms: performance.now() - started };
    };
    const unknown = await attempt(); // before the account exists
    await demo.accounts.users.create(name, PASSWORD);
    const wrong = await attempt();
    assert.equal(unknown.status, 401);
    assert.equal(wrong.status, unknown.status);
    assert.equal(wrong.body, unknown.body, 'byte-identical (same session, so even the CSRF token is the same)');
    assert.deepEqual(codesOf(wrong.body), ['SB_ERR_LOGIN_FAILED']);
    assert.match(wrong.body, /Wrong username or password\./);

    // Timing, warm: medians of 5 alternating attempts (fresh names, so no rate limit interferes).
    const timed = async (username: string): Promise<number> => {
      const csrf_token = await a.token('/log_in/');
      const started = performance.now();
      await (await a.post('/log_in/', { csrf_token, username, password: 'not the password' })).text();
      return performance.now() - started;
    };
    const [unknownMs, wrongMs]: [number[], number[]] = [[], []];
    for (let i = 0; i < 5; i++) {
      const existing = uniqueName('tim');
      await demo.accounts.users.create(existing, PASSWORD);
      unknownMs.push(await timed(uniqueName('nobody')));
      wrongMs.push(await timed(existing));
    }
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[2]!;
    // Both pay for one scrypt; without the dummy hash "unknown" would be ~1 ms against ~40 ms.
    assert.ok(median(unknownMs) > median(wrongMs) / 3, `unknown user ${median(unknownMs).toFixed(1)} ms vs wrong password ${median(wrongMs).toFixed(1)} ms`);
    t.diagnostic(`log-in failure, median of 5: unknown user ${median(unknownMs).toFixed(1)} ms, wrong password ${median(wrongMs).toFixed(1)} ms (scrypt N=2^14 in tests)`);
  });

  it('answers 429 with Retry-After once a username has had its attempts', async () => {
    const a = agent();
    const name = uniqueName('cal');
    await demo.accounts.users.create(name, PASSWORD);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await a.post('/log_in/', { csrf_token: await a.token('/log_in/'), username: name, password: 'wrong password' });
      statuses.push(res.status);
      if (res.status === 429) {
        assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
        assert.deepEqual(codesOf(await res.text()), ['SB_ERR_TOO_MANY_ATTEMPTS']);
      }
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    // The right password is refused too from this address until the bucket refills.
    assert.equal((await a.logIn(name, PASSWORD)).status, 429);
  });

  it('refuses a WebSocket from a foreign Origin with 403 before the upgrade', async () => {
    const a = agent();
    const own = new URL(demo.url).origin;
    for (const [origin, expected] of [['https://evil.example', 403], ['null', 403], [own, 101], [`http://localhost:${demo.port}`, 101], [undefined, 101]] as const) {
      let status = 101;
      try {
        const s = await open(a, 'ws/chat/lobby/', origin === undefined ? {} : { origin });
        s.ws.close();
      } catch (err) {
        status = (err as { status?: number }).status ?? -1;
      }
      assert.equal(status, expected, `Origin ${origin ?? '(none)'}`);
    }
  });

  it('keeps its own pages and localhost allowed when ALLOWED_ORIGINS lists another origin; `null` listed admits Origin: null', async () => {
    const widened = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', ALLOWED_ORIGINS: 'https://tutorial.example,null' }), {
      secretKey: 'test-secret-key-0123456789abcdefghijkl',
    });
    try {
      assert.deepEqual(widened.allowedOrigins, ['https://tutorial.example', 'null']);
      const a = new Agent(widened.url);
      const own = new URL(widened.url).origin;
      const cases = [[own, 101], [`http://localhost:${widened.port}`, 101], ['https://tutorial.example', 101], ['null', 101], ['https://evil.example', 403], [undefined, 101]] as const;
      for (const [origin, expected] of cases) {
        let status = 101;
        try {
          const s = await a.socket('ws/chat/lobby/', origin === undefined ? {} : { origin });
          s.ws.close();
        } catch (err) {
          status = (err as { status?: number }).status ?? -1;
        }
        assert.equal(status, expected, `Origin ${origin ?? '(none)'}`);
      }
    } finally {
      await widened.close();
    }
  });

  it('tells /users/ pages who logs in and out (is_logged_in) and whose pages are open (active), once per change, and closes a logged-out session with 4401', async () => {
    const watcher = agent();
    const watcherName = uniqueName('wat');
    await demo.accounts.users.create(watcherName, PASSWORD);
    assert.equal((await watcher.logIn(watcherName, PASSWORD)).status, 303);
    const watch = await open(watcher, 'users/');
    const lines = (s: AgentSocket, name: string): unknown[] => s.messages.filter((m) => (m as { username: string }).username === name);
    await waitFor(() => lines(watch, watcherName).length > 0, { message: 'the snapshot' });

    const dee = agent();
    const deeName = uniqueName('dee');
    await demo.accounts.users.create(deeName, PASSWORD);
    assert.equal((await dee.logIn(deeName, PASSWORD)).status, 303);
    // Logged in with no page open: Online (the seed's meaning), not active.
    await waitFor(() => lines(watch, deeName).length === 1, { message: 'dee logged in' });
    assert.deepEqual(lines(watch, deeName), [{ username: deeName, is_logged_in: true, active: false }]);

    const tab1 = await open(dee, 'users/');
    await waitFor(() => lines(watch, deeName).length === 2, { message: 'dee active' });
    assert.deepEqual(lines(watch, deeName)[1], { username: deeName, is_logged_in: true, active: true });
    const tab2 = await open(dee, 'ws/chat/lobby/');
    tab2.ws.close();
    await tab2.closed;

    assert.equal((await dee.logOut()).status, 303);
    const closed = await tab1.closed;
    assert.equal(closed.code, 4401);
    // Everything sent to tab1 before its close arrived first: dee's own line came once.
    assert.deepEqual(lines(tab1, deeName), [{ username: deeName, is_logged_in: true, active: true }], 'the opening list and the own page opening: one line');
    assert.deepEqual(lines(tab1, watcherName).length, 1, 'the watcher once');
    await waitFor(() => JSON.stringify(lines(watch, deeName).at(-1)) === JSON.stringify({ username: deeName, is_logged_in: false, active: false }), { message: 'dee logged out and gone' });
    const afterLogOut = lines(watch, deeName).slice(2);
    assert.ok(afterLogOut.every((m) => (m as { is_logged_in: boolean }).is_logged_in === false), `a second tab changes nothing; then only logged-out lines: ${JSON.stringify(afterLogOut)}`);
    assert.equal(dee.cookies.has('sessionid'), false, 'the cookie is cleared');
    assert.equal(watch.ws.readyState, watch.ws.OPEN, 'the other user stays connected');
  });

  it('closes an anonymous /users/ socket with 4401', async () => {
    const s = await open(agent(), 'users/');
    assert.equal((await s.closed).code, 4401);
  });

  it('posts chat under the account name whatever username the client sends, and replays the last 50 on open', async () => {
    const a = agent();
    const name = uniqueName('eve');
    await demo.accounts.users.create(name, PASSWORD);
    await a.logIn(name, PASSWORD);
    const room = `hist-${randomBytes(3).toString('hex')}`;
    const writer = await open(a, `ws/chat/${room}/`);
    for (let i = 0; i < 55; i++) writer.ws.send(JSON.stringify({ message: `m${i}`, username: 'somebody-else' }));
    await waitFor(() => writer.messages.length === 55, { message: 'all 55 came back' });
    assert.ok(writer.messages.every((m) => (m as { username: string }).username === name), 'every message under the account name');

    const guest = await open(agent(), `ws/chat/${room}/`);
    await waitFor(() => guest.messages.length === 50, { message: 'the history' });
    // Stored messages carry their id (a page continues after its last one: `after=<id>`).
    const [first, last] = [guest.messages[0], guest.messages[49]] as Array<{ id: number }>;
    assert.deepEqual(first, { message: 'm5', username: name, id: first!.id });
    assert.deepEqual(last, { message: 'm54', username: name, id: last!.id });
    assert.equal(last!.id - first!.id, 49, 'consecutive ids, oldest first');
    writer.ws.send(JSON.stringify({ message: 'live' }));
    await waitFor(() => guest.messages.length === 51, { message: 'then live ones' });
    // Published with history: the seed fields plus the position (seed clients ignore it).
    const live = guest.messages[50] as { epoch?: unknown };
    assert.deepEqual(live, { message: 'live', username: name, id: last!.id + 1, epoch: live.epoch, offset: 56 });
    assert.equal(typeof live.epoch, 'string');
  });

  it('closes a guest in a members- room with 4401 and lets a member in', async () => {
    const guest = await open(agent(), 'ws/chat/members-club/');
    assert.deepEqual(await guest.closed, { code: 4401, reason: 'members only: log in to enter this room' });
    const page = await agent().get('/chat/members-club/');
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/log_in/?next=%2Fchat%2Fmembers-club%2F');

    const a = agent();
    const name = uniqueName('fay');
    await demo.accounts.users.create(name, PASSWORD);
    await a.logIn(name, PASSWORD);
    const member = await open(a, 'ws/chat/members-club/');
    member.ws.send(JSON.stringify({ message: 'members only' }));
    await waitFor(() => member.messages.length === 1, { message: 'the message came back' });
    const { epoch, offset, id, ...seedFields } = member.messages[0] as { epoch: unknown; offset: unknown; id: unknown };
    assert.deepEqual(seedFields, { message: 'members only', username: name });
    assert.equal(typeof id, 'number');
    assert.equal(typeof epoch, 'string');
    assert.equal(typeof offset, 'number');
  });

  it('redirects an anonymous /users/ visit to the log-in page and back', async () => {
    const res = await agent().get('/users/');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/log_in/?next=%2Fusers%2F');
    const html = await (await agent().get('/log_in/?next=//evil.example/')).text();
    assert.match(html, /name="next" value="\/users\/"/, 'an off-site next is replaced');
  });

  it('links sign up, log in, who is online and chat from the home page', async () => {
    const html = await (await agent().get('/')).text();
    for (const href of ['/sign_up/', '/log_in/', '/users/', '/chat/']) assert.match(html, new RegExp(`href="${href}"`), href);
  });
});

describe('demo error codes', () => {
  it('docs/errors.md lists every demo account error with its class', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/errors.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Demo error codes'));
    const rows = new Map([...section.matchAll(/^\| `(SB_ERR_[A-Z_]+)` \| (\w+) \|/gm)].map((m) => [m[1]!, m[2]!]));
    const errors: SwitchboardError[] = [
      new accountErrors.CsrfError('m'),
      new accountErrors.PasswordsDifferError(),
      new accountErrors.LoginFailedError(),
      new accountErrors.TooManyAttemptsError(1),
      new InvalidUsernameError('m'),
      new InvalidPasswordError('m'),
      new UsernameTakenError('x'),
      new MigrationFailedError('m', undefined, null),
    ];
    for (const err of errors) assert.equal(rows.get(err.code), err.constructor.name, `${err.code} in docs/errors.md`);
    assert.equal(rows.size, errors.length, 'the table lists codes the demo does not have');
  });
});

describe('accounts configuration', () => {
  it('refuses a short SECRET_KEY, a bad DATABASE_URL and a bad ALLOWED_ORIGINS, naming each', () => {
    for (const [env, variable] of [
      [{ SECRET_KEY: 'too-short' }, 'SECRET_KEY'],
      [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
      [{ ALLOWED_ORIGINS: 'https://example.com/path' }, 'ALLOWED_ORIGINS'],
    ] as const) {
      assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.variable === variable && err.message.startsWith(`${variable}: `));
    }
  });

  it('generates a SECRET_KEY once and keeps it in data/secret-key', async () => {
    const { resolveSecretKey } = await import('../accounts/secret-key.js');
    const dir = await mkdtemp(join(tmpdir(), 'sb-secret-'));
    try {
      const first = await resolveSecretKey({ env: {}, dataDir: dir });
      assert.equal(first.generated, true);
      assert.ok(first.key.length >= 32);
      const second = await resolveSecretKey({ env: {}, dataDir: dir });
      assert.deepEqual([second.key, second.generated], [first.key, false]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('switchboard createuser', () => {
  const cli = (args: string[], cwd: string, input?: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolvePromise) => {
      const child = execFile(process.execPath, [DEMO_CLI, 'createuser', ...args], { cwd, env: { ...process.env, DATABASE_URL: '' } }, (err, stdout, stderr) =>
        resolvePromise({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
      );
      child.stdin!.end(input ?? '');
    });

  it('creates an account (exit 0), refuses a taken name (1) and bad input (2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sb-createuser-'));
    try {
      const ok = await cli(['gus', '--password-stdin'], dir, `${PASSWORD}\n`);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^created user gus \(id 1\) in .*switchboard\.sqlite3\n$/);
      assert.equal((await cli(['GUS', '--password-stdin'], dir, `${PASSWORD}\n`)).code, 1);
      const short = await cli(['hal', '--password-stdin'], dir, 'short\n');
      assert.equal(short.code, 2);
      assert.match(short.stderr, /^error: password: passwords have at least 8 characters/);
      assert.equal((await cli(['bad name', '--password-stdin'], dir, `${PASSWORD}\n`)).code, 2);
      assert.equal((await cli(['ivy'], dir)).code, 2, 'no terminal to prompt on');
      assert.equal((await cli([], dir)).code, 2, 'missing argument');

      // The server logs the account in.
      const demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'data/switchboard.sqlite3')}` }), { secretKey: 's'.repeat(40) });
      try {
        assert.equal((await new Agent(demo.url).logIn('gus', PASSWORD)).status, 303);
      } finally {
        await demo.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

