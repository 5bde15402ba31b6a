/**
 * What every demo page shares, over HTTP (no browser): the layout's nav says who the visitor is
 * (guest: "Log in / Sign up"; logged in: the username and "Log out") on every page, the system
 * pages included; the browser client SDK is served by the app (ETag, source map) and every page
 * script is an ES module that imports `SwitchboardSocket` from it; `/one/` says the word stream's
 * configured timing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { CLIENT_SDK_URL, describeInterval } from '../systems-http.js';
import { Agent } from './accounts-agent.js';

const PASSWORD = 'correct horse battery';
/** Pages a visitor can open, each with the layout. */
const PAGES = ['/', '/chat/', '/chat/lobby/', '/one/', '/two/', '/game/', '/game/lobby/', '/nowhere/'];
/** Page scripts and the page that loads each. */
const SCRIPTS: ReadonlyArray<[script: string, page: string]> = [
  ['chat.js', '/chat/lobby/'],
  ['one.js', '/one/'],
  ['two.js', '/two/'],
  ['game.js', '/game/lobby/'],
  ['users.js', '/users/'],
];

/** The `<nav class="account">` of a page, whitespace collapsed, tags kept. */
function nav(html: string): string {
  const match = /<nav class="account" aria-label="Account">([^]*?)<\/nav>/.exec(html);
  assert.ok(match, 'the page has the layout nav');
  return match[1]!.replace(/\s+/g, ' ').trim();
}

describe('demo pages: layout nav, client SDK, page scripts', () => {
  let demo: RunningDemo;

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }), {
      secretKey: 'test-secret-key-0123456789abcdefghijkl',
      accounts: { scrypt: { log2N: 10, r: 8, p: 1 } },
      wordStream: { intervalMs: 250, count: 7 },
    });
  });

  after(async () => {
    await demo.close();
  });

  it('shows a guest "Log in / Sign up" on every page, and a logged-in user their name and "Log out"', async () => {
    const guest = new Agent(demo.url);
    // The account forms too: their own `username` field once blanked the layout's name.
    for (const path of [...PAGES, '/log_in/', '/sign_up/', '/log_in/?username=someone']) {
      const text = nav(await (await guest.get(path)).text());
      assert.match(text, /you are <strong>guest-[a-z0-9]+<\/strong><\/span> <a id="nav-log-in" href="\/log_in\/">Log in<\/a> <a id="nav-sign-up" class="button small" href="\/sign_up\/">Sign up<\/a>/, `${path}: ${text}`);
      assert.doesNotMatch(text, /Log out|>Account</, path);
      assert.doesNotMatch(text, /·/, `${path}: no separators left dangling`);
    }

    const user = new Agent(demo.url);
    assert.equal((await user.signUp('nav-alice', PASSWORD)).status, 303);
    assert.equal((await user.logIn('nav-alice', PASSWORD)).status, 303);
    for (const path of [...PAGES, '/users/']) {
      const text = nav(await (await user.get(path)).text());
      assert.match(text, /you are <strong>nav-alice<\/strong><\/span> <a id="nav-log-out" href="\/log_out\/">Log out<\/a>/, `${path}: ${text}`);
      assert.doesNotMatch(text, /nav-log-in|nav-sign-up/, path);
    }
  });

  it('serves the client SDK bundle and its source map, revalidated by ETag', async () => {
    const res = await fetch(new URL(CLIENT_SDK_URL, demo.url));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const body = await res.text();
    assert.match(body, /export\s*\{[^}]*SwitchboardSocket/, 'an ES module exporting SwitchboardSocket');
    assert.match(body, /sourceMappingURL=switchboard-client\.js\.map/);
    const etag = res.headers.get('etag');
    assert.ok(etag);
    assert.equal((await fetch(new URL(CLIENT_SDK_URL, demo.url), { headers: { 'if-none-match': etag } })).status, 304);

    const map = await fetch(new URL(`${CLIENT_SDK_URL}.map`, demo.url));
    assert.equal(map.status, 200);
    assert.match(map.headers.get('content-type') ?? '', /^application\/json/);
    const sources = ((await map.json()) as { sources: string[] }).sources;
    assert.ok(sources.some((s) => s.endsWith('client/socket.ts')), sources.join(', '));
  });

  it('loads every page script as an ES module on the SDK', async () => {
    const user = new Agent(demo.url);
    assert.equal((await user.signUp('nav-bob', PASSWORD)).status, 303);
    assert.equal((await user.logIn('nav-bob', PASSWORD)).status, 303);
    for (const [script, page] of SCRIPTS) {
      const html = await (await user.get(page)).text();
      assert.ok(html.includes(`<script type="module" src="/static/${script}"></script>`), `${page} loads ${script} as a module`);
      const js = await (await fetch(new URL(`/static/${script}`, demo.url))).text();
      assert.ok(js.includes(`import { SwitchboardSocket } from '${CLIENT_SDK_URL}';`), `${script} imports the SDK`);
      assert.doesNotMatch(js, /new WebSocket\(/, `${script} opens no WebSocket of its own`);
    }
  });

  it('says the configured word stream timing on /one/', async () => {
    const html = await (await fetch(new URL('/one/', demo.url))).text();
    assert.match(html, /every 250 ms \(7 in all\)/);
    assert.match(html, /data-every="250 ms" data-total="7"/);
    assert.deepEqual([2000, 1000, 200, 1500].map(describeInterval), ['2 seconds', 'second', '200 ms', '1500 ms']);
  });
});
