/** ChatConsumer driven in-process through the demo's real WebSocket application (cookies + routes). */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { InMemoryChannelLayer } from 'switchboard';
import { WebsocketCommunicator } from 'switchboard/testing';
import { CHAT_RATE_LIMIT, GUEST_NAME_PATTERN, MAX_MESSAGE_CHARS, SINGLE_ROOM_GROUP } from '../consumers/chat.js';
import { createWebsocketApplication } from '../routing.js';
import { guestCookie } from './guest-cookie.js';

interface ChatFrame {
  message: string;
  username: string;
}

interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
}

describe('ChatConsumer', () => {
  const layer = new InMemoryChannelLayer();
  const app = createWebsocketApplication();
  const open: WebsocketCommunicator[] = [];

  /** Connects to `path` as the guest in `cookie` (a raw Cookie header), asserting the handshake is accepted. */
  async function join(path: string, cookie?: string): Promise<WebsocketCommunicator> {
    const c = new WebsocketCommunicator(app, path, { channelLayer: layer, headers: cookie === undefined ? {} : { cookie } });
    open.push(c);
    const result = await c.connect();
    assert.equal(result.accepted, true, `${path} was refused: ${JSON.stringify(result)}`);
    return c;
  }

  after(async () => {
    await Promise.all(open.map((c) => c.disconnect()));
    await layer.close();
  });

  it('delivers a message to everyone in the room, sender included, with the sender guest name', async () => {
    const alice = await join('/ws/chat/lobby/', guestCookie('guest-alice1'));
    const bob = await join('/ws/chat/lobby/', `theme=dark; ${guestCookie('guest-bob222')}`);
    await alice.sendJson({ message: 'hello' });
    assert.deepEqual(await alice.receiveJson<ChatFrame>(), { message: 'hello', username: 'guest-alice1' });
    assert.deepEqual(await bob.receiveJson<ChatFrame>(), { message: 'hello', username: 'guest-alice1' });
    await bob.sendJson({ message: 'hi alice' });
    assert.deepEqual(await alice.receiveJson<ChatFrame>(), { message: 'hi alice', username: 'guest-bob222' });
    assert.deepEqual(await bob.receiveJson<ChatFrame>(), { message: 'hi alice', username: 'guest-bob222' });
  });

  it('stops a flood at CHAT_RATE_LIMIT: the room gets the first 100, the flooder an error frame, then 4429', async () => {
    const flooder = await join('/ws/chat/flood/', guestCookie('guest-flood1'));
    const reader = await join('/ws/chat/flood/', guestCookie('guest-read11'));
    const total = CHAT_RATE_LIMIT.limit + 10; // the 10th refused frame in a row closes
    for (let i = 0; i < total; i++) await flooder.sendJson({ message: `m${i}` });
    const seen: string[] = [];
    for (let i = 0; i < CHAT_RATE_LIMIT.limit; i++) seen.push((await reader.receiveJson<ChatFrame>()).message);
    assert.deepEqual(seen, Array.from({ length: CHAT_RATE_LIMIT.limit }, (_, i) => `m${i}`));
    assert.equal(await reader.receiveNothing(), true, 'nothing past the limit reached the room');
    const frames: Array<{ type?: string; code?: string }> = [];
    for (;;) {
      const output = await flooder.receiveOutput();
      if (output.kind === 'close') {
        assert.equal(output.code, 4429);
        break;
      }
      assert.equal(output.kind, 'text');
      if (output.kind === 'text') frames.push(JSON.parse(output.text) as { type?: string; code?: string });
    }
    assert.deepEqual(frames.filter((f) => f.type === 'error').map((f) => f.code), ['SB_ERR_RATE_LIMITED', 'SB_ERR_RATE_LIMITED']);
  });

  it('keeps rooms apart', async () => {
    const inRoom = await join('/ws/chat/room-a/', guestCookie('guest-aaaa'));
    const elsewhere = await join('/ws/chat/room-b/', guestCookie('guest-bbbb'));
    await inRoom.sendJson({ message: 'only room-a' });
    assert.deepEqual(await inRoom.receiveJson<ChatFrame>(), { message: 'only room-a', username: 'guest-aaaa' });
    assert.equal(await elsewhere.receiveNothing(), true);
  });

  it('ignores a username sent by the client', async () => {
    const c = await join('/ws/chat/spoof/', guestCookie('guest-honest'));
    await c.sendJson({ message: 'I am the admin', username: 'admin' });
    assert.deepEqual(await c.receiveJson<ChatFrame>(), { message: 'I am the admin', username: 'guest-honest' });
  });

  it('does not post under a guest name taken from a room: the cookie needs its signature', async () => {
    const owner = await join('/ws/chat/taken/', guestCookie('guest-owner1'));
    for (const value of ['guest-owner1', `guest-owner1.${'A'.repeat(22)}`, `${guestCookie('guest-owner1').slice('sb_guest='.length)}x`]) {
      const thief = await join('/ws/chat/taken/', `sb_guest=${value}`);
      await thief.sendJson({ message: 'it is me' });
      const seen = await owner.receiveJson<ChatFrame>();
      assert.equal(seen.message, 'it is me');
      assert.match(seen.username, GUEST_NAME_PATTERN);
      assert.notEqual(seen.username, 'guest-owner1', `cookie ${value}`);
      await thief.receiveJson();
      await thief.disconnect();
    }
  });

  it('gives a connection without a well-formed guest cookie a fresh guest name', async () => {
    const none = await join('/ws/chat/guests/');
    const forged = await join('/ws/chat/guests/', 'sb_guest=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    await none.sendJson({ message: 'one' });
    const first = await none.receiveJson<ChatFrame>();
    assert.match(first.username, GUEST_NAME_PATTERN);
    await forged.receiveJson(); // "one", relayed to the room
    await forged.sendJson({ message: 'two' });
    await none.receiveJson();
    const second = await forged.receiveJson<ChatFrame>();
    assert.match(second.username, GUEST_NAME_PATTERN);
    assert.notEqual(second.username, first.username);
  });

  it('answers invalid JSON with an error frame and closes with 4400 on the fifth bad frame', async () => {
    const c = await join('/ws/chat/bad-json/', guestCookie('guest-sloppy'));
    for (let i = 1; i <= 4; i++) {
      await c.sendText('{not json');
      const frame = await c.receiveJson<ErrorFrame>();
      assert.equal(frame.type, 'error');
      assert.equal(frame.code, 'SB_ERR_INVALID_JSON');
    }
    await c.sendText('{still not json');
    assert.equal((await c.receiveClose()).code, 4400);
  });

  it('answers a message without "message" with SB_ERR_BAD_REQUEST and keeps the connection', async () => {
    const c = await join('/ws/chat/bad-request/', guestCookie('guest-vague'));
    await c.sendJson({ text: 'wrong field' });
    const frame = await c.receiveJson<ErrorFrame>();
    assert.equal(frame.type, 'error');
    assert.equal(frame.code, 'SB_ERR_BAD_REQUEST');
    assert.match(frame.message, /"message" must be a string/);
    await c.sendJson({ message: 'now right' });
    assert.deepEqual(await c.receiveJson<ChatFrame>(), { message: 'now right', username: 'guest-vague' });
  });

  it('refuses empty, non-string and over-long messages, and takes one at the limit', async () => {
    const bad: unknown[] = [{ message: '' }, { message: '   ' }, { message: 42 }, ['message'], 'message', { message: 'x'.repeat(MAX_MESSAGE_CHARS + 1) }];
    for (const content of bad) {
      const c = await join('/ws/chat/limits/');
      await c.sendJson(content);
      const frame = await c.receiveJson<ErrorFrame>();
      assert.equal(frame.code, 'SB_ERR_BAD_REQUEST', `for ${JSON.stringify(content).slice(0, 40)}`);
    }
    const c = await join('/ws/chat/limits/', guestCookie('guest-limits'));
    const longest = '\u{1F600}'.repeat(MAX_MESSAGE_CHARS); // 2000 characters, 4000 UTF-16 code units
    await c.sendJson({ message: longest });
    assert.deepEqual(await c.receiveJson<ChatFrame>(), { message: longest, username: 'guest-limits' });
  });

  it('refuses a name that is not a room name before accepting (HTTP 403)', async () => {
    const tooManyBytes = encodeURIComponent('房'.repeat(24)); // 72 bytes of UTF-8
    for (const path of ['/ws/chat/bad%20room/', '/ws/chat/%3Cimg%3E/', `/ws/chat/${'a'.repeat(65)}/`, '/ws/chat/bad.room/', `/ws/chat/${tooManyBytes}/`]) {
      const c = new WebsocketCommunicator(app, path, { channelLayer: layer });
      const result = await c.connect();
      assert.equal(result.accepted, false, path);
      assert.equal(result.closeCode, 4403, path);
      assert.equal(result.status, 403, path);
      await c.disconnect();
    }
    const longest = new WebsocketCommunicator(app, `/ws/chat/${'a'.repeat(64)}/`, { channelLayer: layer });
    open.push(longest);
    assert.equal((await longest.connect()).accepted, true);
  });

  it('chats in rooms with Unicode names, one room per NFC name, apart from other rooms', async () => {
    const a = await join(`/ws/chat/${encodeURIComponent('房间1')}/`);
    const b = await join(`/ws/chat/${encodeURIComponent('房间1')}/`);
    const other = await join(`/ws/chat/${encodeURIComponent('房间2')}/`);
    await a.sendJson({ message: '你好' });
    assert.equal((await b.receiveJson<ChatFrame>()).message, '你好');
    assert.equal((await a.receiveJson<ChatFrame>()).message, '你好');
    // "café" typed decomposed (e + U+0301) is the composed room.
    const composed = await join(`/ws/chat/${encodeURIComponent('caf\u00e9')}/`);
    const decomposed = await join(`/ws/chat/${encodeURIComponent('cafe\u0301')}/`);
    await decomposed.sendJson({ message: 'bonjour' });
    assert.equal((await composed.receiveJson<ChatFrame>()).message, 'bonjour');
    await decomposed.receiveJson();
    assert.equal(await other.receiveNothing(), true, "房间2 got nothing");
  });

  it('closes a guest with 4401 in a members-only room, whatever the case of its name', async () => {
    for (const room of ['members-club', 'Members-club', 'MEMBERS-x']) {
      const c = new WebsocketCommunicator(app, `/ws/chat/${room}/`, { channelLayer: layer });
      assert.equal((await c.connect()).accepted, true);
      assert.equal((await c.receiveClose()).code, 4401, room);
    }
  });

  it('answers 404 for a path outside the chat routes', async () => {
    const c = new WebsocketCommunicator(app, '/ws/chat/lobby/extra/', { channelLayer: layer });
    assert.deepEqual(await c.connect(), { accepted: false, status: 404 });
  });

  it('serves seed 002 single room at ws/chat/, in group chat_chat_room', async () => {
    const a = await join('/ws/chat/', guestCookie('guest-single'));
    const b = await join('/ws/chat/');
    const viaRoomPage = await join('/ws/chat/chat_room/');
    await a.sendJson({ message: 'single room' });
    for (const c of [a, b, viaRoomPage]) {
      assert.deepEqual(await c.receiveJson<ChatFrame>(), { message: 'single room', username: 'guest-single' });
    }
    // Seed 002's backend push: a flat event sent to the group from outside any connection.
    await layer.groupSend(SINGLE_ROOM_GROUP, { type: 'chat_message', message: 'from the backend' });
    for (const c of [a, b, viaRoomPage]) {
      assert.deepEqual(await c.receiveJson<ChatFrame>(), { message: 'from the backend', username: 'server' });
    }
  });

  it('forwards the event payload object itself, so a broadcast is encoded once', async () => {
    const a = await join('/ws/chat/encode-once/');
    const b = await join('/ws/chat/encode-once/');
    const seen: unknown[] = [];
    for (const c of [a, b]) {
      const consumer = c.consumer as unknown as { sendJson(content: unknown): void };
      const original = consumer.sendJson.bind(consumer);
      consumer.sendJson = (content: unknown) => {
        seen.push(content);
        original(content);
      };
    }
    await a.sendJson({ message: 'once' });
    await a.receiveJson();
    await b.receiveJson();
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1], 'both members got the same object');
  });
});
