/**
 * A client written against the seeds' own wire protocol, run against the demo on a real socket:
 * it connects to `ws/chat/<room>/`, sends `{"message", "username"}` and reads `{"message", "username"}`
 * (seed 001's room.html). It must work unchanged; only the username is the server's.
 * Also the demo's HTTP pages, which set the guest cookie the chat reads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from 'switchboard/testing';
import { WebSocket } from 'ws';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { guestCookie } from './guest-cookie.js';

/** The seed's chat client, as plain as the seed's page script. */
class SeedChatClient {
  readonly received: Array<{ message: string; username: string }> = [];
  readonly socket: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers });
    this.socket.on('message', (data) => {
      const parsed = JSON.parse(data.toString()) as { message: string; username: string };
      this.received.push({ message: parsed.message, username: parsed.username });
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  send(message: string, username: string): void {
    this.socket.send(JSON.stringify({ message, username }));
  }
}

describe('demo with a seed-protocol client', () => {
  let demo: RunningDemo;
  let wsBase: string;
  const clients: SeedChatClient[] = [];

  function client(path: string, headers?: Record<string, string>): SeedChatClient {
    const c = new SeedChatClient(`${wsBase}${path}`, headers);
    clients.push(c);
    return c;
  }

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }));
    wsBase = demo.url.replace(/^http/, 'ws');
  });

  after(async () => {
    for (const c of clients) c.socket.terminate();
    await demo.close();
  });

  it('relays a seed client message to the room with the server-assigned username', async () => {
    const alice = client('ws/chat/lobby/');
    const bob = client('ws/chat/lobby/');
    const stranger = client('ws/chat/other/');
    await Promise.all([alice.opened, bob.opened, stranger.opened]);

    alice.send('hello from the seed client', 'alice');
    await waitFor(() => alice.received.length === 1 && bob.received.length === 1, { message: 'both lobby clients got the message' });
    const [got] = alice.received;
    assert.equal(got!.message, 'hello from the seed client');
    assert.match(got!.username, /^guest-[a-z0-9]{4,12}$/);
    assert.notEqual(got!.username, 'alice');
    assert.deepEqual(bob.received, alice.received);

    bob.send('hi alice', 'alice'); // pretending to be alice does not work
    await waitFor(() => alice.received.length === 2, { message: 'alice got bob\'s reply' });
    assert.equal(alice.received[1]!.message, 'hi alice');
    assert.notEqual(alice.received[1]!.username, got!.username);
    assert.equal(stranger.received.length, 0);
  });

  it('uses the guest name from the sb_guest cookie', async () => {
    const c = client('ws/chat/cookies/', { cookie: guestCookie('guest-cookie1', demo.guests) });
    await c.opened;
    c.send('named', 'ignored');
    await waitFor(() => c.received.length === 1, { message: 'the message came back' });
    assert.deepEqual(c.received, [{ message: 'named', username: 'guest-cookie1' }]);
  });

  it('serves seed 002 single room at ws/chat/ with {"message"} only', async () => {
    const c = client('ws/chat/');
    await c.opened;
    c.socket.send(JSON.stringify({ message: 'single room' }));
    await waitFor(() => c.received.length === 1, { message: 'the message came back' });
    assert.equal(c.received[0]!.message, 'single room');
  });

  it('refuses an invalid room name with HTTP 403 and an unknown path with 404', async () => {
    for (const [path, status] of [['ws/chat/no%20spaces/', 403], ['ws/nowhere/', 404]] as const) {
      const socket = new WebSocket(`${wsBase}${path}`);
      const got = await new Promise<number>((resolve) => {
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? -1));
        socket.once('open', () => resolve(101));
        socket.once('error', () => undefined);
      });
      socket.terminate();
      assert.equal(got, status, path);
    }
  });
});

describe('demo HTTP pages', () => {
  let demo: RunningDemo;

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }));
  });

  after(async () => {
    await demo.close();
  });

  it('links the chat from the home page and sets an HttpOnly, SameSite=Lax guest cookie', async () => {
    const res = await fetch(demo.url);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<a href="\/chat\/">Chat rooms<\/a>/);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^sb_guest=guest-[a-z0-9]{4,12}\.[A-Za-z0-9_-]{22};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  });

  it('keeps a correctly signed guest cookie and replaces a malformed, unsigned or forged one', async () => {
    const kept = await fetch(`${demo.url}chat/`, { headers: { cookie: guestCookie('guest-keepme', demo.guests) } });
    assert.equal(kept.headers.get('set-cookie'), null);
    assert.match(await kept.text(), /you are <strong>guest-keepme<\/strong>/);
    const forged = ['admin', 'guest-keepme', `guest-keepme.${'A'.repeat(22)}`, guestCookie('guest-keepme').slice('sb_guest='.length)];
    for (const value of forged) {
      const replaced = await fetch(`${demo.url}chat/`, { headers: { cookie: `sb_guest=${value}` } });
      assert.match(replaced.headers.get('set-cookie') ?? '', /^sb_guest=guest-/, value);
      assert.doesNotMatch(await replaced.text(), /you are <strong>guest-keepme<\/strong>/, `${value} is not honoured`);
    }
  });

  it('renders a room page with the seed element ids', async () => {
    const res = await fetch(`${demo.url}chat/lobby/`);
    assert.equal(res.status, 200);
    const html = await res.text();
    for (const id of ['chat-log', 'chat-message-input', 'chat-message-submit', 'room-name']) assert.match(html, new RegExp(`id="${id}"`));
    assert.match(html, /<script id="room-name" type="application\/json">"lobby"<\/script>/);
    assert.match(html, /<script type="module" src="\/static\/chat.js"><\/script>/);
  });

  it('answers an invalid room name with a 400 page that explains the rule, escaped', async () => {
    const res = await fetch(`${demo.url}chat/${encodeURIComponent('<b>x</b>')}/`);
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /not a valid room name/);
    assert.ok(!html.includes('<b>x</b>'), 'the room name is escaped');
    assert.match(html, /&lt;b&gt;x&lt;\/b&gt;/);
  });

  it('redirects the room form to the room page, and refuses a bad name on the form', async () => {
    const ok = await fetch(`${demo.url}chat/?room=lobby`, { redirect: 'manual' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/chat/lobby/');
    const bad = await fetch(`${demo.url}chat/?room=a+b`, { redirect: 'manual' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /&quot;a b&quot; is not a valid room name/);
    const noSlash = await fetch(`${demo.url}chat/lobby`, { redirect: 'manual' });
    assert.equal(noSlash.status, 301);
    assert.equal(noSlash.headers.get('location'), '/chat/lobby/');
  });

  it('serves rooms with Unicode names, as the seeds\' \\w does', async () => {
    const path = `/chat/${encodeURIComponent('房间1')}/`;
    const res = await fetch(new URL(path, demo.url));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<script id="room-name" type="application\/json">"房间1"<\/script>/);
    const form = await fetch(`${demo.url}chat/?room=${encodeURIComponent('房间1')}`, { redirect: 'manual' });
    assert.equal(form.status, 303);
    assert.equal(form.headers.get('location'), path);
    const game = await fetch(`${demo.url}game/?room=${encodeURIComponent('骰子')}`, { redirect: 'manual' });
    assert.equal(game.headers.get('location'), `/game/${encodeURIComponent('骰子')}/`);
    assert.equal((await fetch(new URL(game.headers.get('location')!, demo.url))).status, 200);
  });

  it('serves the page script from /static/ and 404s elsewhere', async () => {
    const js = await fetch(`${demo.url}static/chat.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.match(await js.text(), /textarea|log\.value/);
    const missing = await fetch(`${demo.url}nowhere/`);
    assert.equal(missing.status, 404);
  });
});
