/**
 * The demo chat with history (in-memory store, SQLite in memory), through real sockets: a page
 * that reconnects with `since` gets the messages it missed instead of the stored ones; one whose
 * gap cannot be filled is told `recovered: false` and gets the stored messages as on a fresh open.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HISTORY_FRAME_TYPE } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { startDemo, type RunningDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { chatFrames } from './chat-frames.js';
import { guestCookie } from './guest-cookie.js';
import { connectClient, type TestClient } from '@switchboard/test-support';

const frames = chatFrames;
const texts = (c: TestClient): Array<string | undefined> => frames(c).map((f) => (f.type === HISTORY_FRAME_TYPE ? `history:${f.recovered}:${f.missed}` : f.message));

describe('demo chat recovery after reconnect', () => {
  let demo: RunningDemo;
  const clients: TestClient[] = [];
  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }));
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await demo.close();
  });

  /** Opens `path` as the same guest (cookie), so usernames are predictable. */
  async function open(path: string): Promise<TestClient> {
    const client = await connectClient(demo.url.replace(/^http/, 'ws') + path, { headers: { cookie: guestCookie('guest-recover1', demo.guests) } });
    clients.push(client);
    return client;
  }

  it('replays what a page missed, once, instead of the stored messages', async () => {
    const poster = await open('ws/chat/recover/');
    poster.ws.send(JSON.stringify({ message: 'stored before' }));
    await waitFor(() => poster.messages.length === 1, { message: 'first message relayed' });

    const page = await open('ws/chat/recover/?since=');
    await waitFor(() => page.messages.length === 2, { message: 'position frame and the stored message' });
    const [position, stored] = frames(page);
    assert.deepEqual(position, { type: HISTORY_FRAME_TYPE, epoch: position!.epoch, offset: 1 });
    assert.equal(stored!.message, 'stored before');
    poster.ws.send(JSON.stringify({ message: 'seen live' }));
    await waitFor(() => page.messages.length === 3, { message: 'live message' });
    const live = frames(page)[2]!;
    assert.deepEqual(live, { message: 'seen live', username: 'guest-recover1', id: 2, epoch: position!.epoch, offset: 2 });
    page.ws.close();
    await page.closed;

    for (const text of ['missed 1', 'missed 2', 'missed 3']) poster.ws.send(JSON.stringify({ message: text }));
    await waitFor(() => poster.messages.length === 5, { message: 'poster saw its messages' });
    const back = await open(`ws/chat/recover/?since=${live.epoch}:${live.offset}`);
    await waitFor(() => back.messages.length === 4, { message: 'missed messages and the recovery frame' });
    poster.ws.send(JSON.stringify({ message: 'after' }));
    await waitFor(() => back.messages.length === 5, { message: 'live after recovery' });
    assert.deepEqual(texts(back), ['missed 1', 'missed 2', 'missed 3', 'history:true:3', 'after']);
    assert.deepEqual(frames(back).map((f) => f.offset), [3, 4, 5, 5, 6]);
  });

  it('answers recovered: false and sends the stored messages when the position cannot recover', async () => {
    const poster = await open('ws/chat/lost/');
    poster.ws.send(JSON.stringify({ message: 'kept in the database' }));
    await waitFor(() => poster.messages.length === 1, { message: 'message relayed' });
    const page = await open('ws/chat/lost/?since=an-old-epoch:7');
    await waitFor(() => page.messages.length === 2, { message: 'recovery frame and the stored message' });
    assert.deepEqual(texts(page), ['history:false:0', 'kept in the database']);
  });
});
