/**
 * Shared compression (the `sharedCompression` server option, RFC 7692 with no context takeover):
 * one compressed frame per group event, written to every member that negotiated
 * permessage-deflate; the plain frame to the others; small server windows honoured; compressed
 * client frames inflated only up to `maxPayloadBytes` (1009 for a decompression bomb).
 * Real sockets: `ws` clients with and without the extension, and raw TCP clients that read RSV1
 * on the wire and send hand-made compressed frames.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { CloseCode, InMemoryChannelLayer, JsonWebsocketConsumer, ProtocolTypeRouter, SwitchboardServer, URLRouter, WebsocketConsumer, path, silentLogger, type LayerMessage, type ReceivedFrame } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { chromiumSkip, launchChromium, type Browser } from '@switchboard/test-support';
import { startTestServer, type TestServer } from '../helpers.js';
import { rawConnect, serverFrames, type RawClient, type WireFrame } from './raw-socket.js';

class RoomConsumer extends JsonWebsocketConsumer {
  override groups = ['room'];
  roomMessage(event: LayerMessage): void {
    this.sendJson(event.payload);
  }
}

/** Echoes text with `send` (the one-off path); `bye` sends a large message, then closes with 4000. */
class TextEcho extends WebsocketConsumer {
  override receive({ text }: ReceivedFrame): void {
    if (text === undefined) return;
    if (text === 'bye') {
      this.send(LONG_TEXT);
      this.close(4000, 'bye');
      return;
    }
    this.send(text);
  }
}

const router = new URLRouter([path('ws/room/', RoomConsumer), path('ws/echo/', TextEcho)]);

/** About 1 KB of chat JSON: compressible, as a group event is. */
function chatPayload(n: number): { n: number; messages: Array<{ user: string; text: string }> } {
  return { n, messages: Array.from({ length: 12 }, (_, i) => ({ user: `user${i}`, text: `hello everyone, this is message ${i} of ${n}` })) };
}
const LONG_TEXT = 'the quick brown fox jumps over the lazy dog; '.repeat(40);

/** A `ws` client recording its text messages; `deflate` offers permessage-deflate (ws's default). */
async function wsClient(url: string, perMessageDeflate: boolean | { serverMaxWindowBits: number }): Promise<{ ws: WebSocket; messages: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(url, { perMessageDeflate });
  const messages: string[] = [];
  ws.on('message', (data) => messages.push(String(data)));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed };
}



/**
 * Inflates one message (RFC 7692 §7.2.2, the trailer appended) with a `windowBits` window, strictly:
 * output leaves in 64-byte chunks, so a reference further back than the window fails ("invalid
 * distance too far back") instead of reaching into a large output buffer.
 */
function inflateStrict(payload: Buffer, windowBits: number): string {
  return inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { windowBits, chunkSize: 64, finishFlush: constants.Z_SYNC_FLUSH }).toString();
}

/** The text of a data frame: inflated when RSV1 is set. */
function textOf(frame: WireFrame, windowBits = 15): string {
  return frame.rsv1 ? inflateStrict(frame.payload, windowBits) : frame.payload.toString();
}

/** A raw WebSocket whose handshake offers `extensions` (or none); resolves with the 101's headers. */
async function rawDeflateClient(port: number, urlPath: string, extensions: string | undefined): Promise<{ client: RawClient; response: string }> {
  const client = await rawConnect(port, { allowHalfOpen: true });
  client.socket.write(
    `GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
      (extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
      '\r\n',
  );
  await waitFor(() => client.received().includes('\r\n\r\n'), { timeoutMs: 5_000, message: 'the handshake answer' });
  const response = client.received().subarray(0, client.received().indexOf('\r\n\r\n')).toString();
  assert.match(response, /^HTTP\/1\.1 101/);
  return { client, response };
}

/** A masked (zero key) client frame of any length, `rsv1` for a compressed message. */
function clientFrame(opcode: number, payload: Buffer, rsv1: boolean): Buffer {
  const first = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  let header: Buffer;
  if (payload.length < 126) header = Buffer.from([first, 0x80 | payload.length]);
  else if (payload.length < 65536) header = Buffer.from([first, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

/** `text` deflated as one message (RFC 7692 §7.2.1: sync flush, trailer removed). */
function deflated(data: Buffer): Buffer {
  const out = deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

describe('sharedCompression option', () => {
  const app = new ProtocolTypeRouter({ websocket: router });
  const bad: unknown[] = [{ threshold: -1 }, { threshold: 1.5 }, { threshold: '256' }, { level: 10 }, { level: -2 }, { level: 0.5 }, { windowBits: 9 }, 'yes', 1, null, []];
  for (const value of bad) {
    it(`refuses ${JSON.stringify(value)} with a RangeError naming the option`, () => {
      assert.throws(() => new SwitchboardServer(app, { sharedCompression: value as boolean, logger: silentLogger() }), (err: unknown) => err instanceof RangeError && /sharedCompression/.test(err.message));
    });
  }
  it('accepts true, false, {} and { threshold: 0, level: 9 }', () => {
    for (const value of [true, false, {}, { threshold: 0, level: 9 }, { level: -1 }]) {
      const server = new SwitchboardServer(app, { sharedCompression: value, logger: silentLogger() });
      assert.equal(server.sharedDeflate === null, value === false);
    }
  });
});

describe('SwitchboardServer with sharedCompression', () => {
  let t: TestServer;
  let port: number;
  before(async () => {
    t = await startTestServer(router, { sharedCompression: true, maxPayloadBytes: 65_536, closeTimeoutMs: 300, logger: silentLogger() });
    port = Number(new URL(t.url).port);
  });
  after(() => t.close());

  async function roomSize(n: number): Promise<void> {
    await waitFor(async () => (await t.layer.groupSize('room')) === n, { timeoutMs: 20_000, message: `${n} members in the room` });
  }

  it('sends one group event compressed to clients that negotiated it and plain to the others', async () => {
    const compressed = await wsClient(`${t.url}/ws/room/`, true);
    const plain = await wsClient(`${t.url}/ws/room/`, false);
    const rawDeflate = await rawDeflateClient(port, '/ws/room/', 'permessage-deflate; client_max_window_bits');
    const rawPlain = await rawDeflateClient(port, '/ws/room/', undefined);
    assert.equal(compressed.ws.extensions, 'permessage-deflate');
    assert.equal(plain.ws.extensions, '');
    assert.match(rawDeflate.response, /sec-websocket-extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover/i);
    assert.doesNotMatch(rawPlain.response, /sec-websocket-extensions/i);
    await roomSize(4);

    const before = t.server.stats.messagesCompressed ?? 0;
    const payload = chatPayload(1);
    const text = JSON.stringify(payload);
    await t.layer.groupSend('room', { type: 'room.message', payload });
    await waitFor(() => compressed.messages.length === 1 && plain.messages.length === 1 && serverFrames(rawDeflate.client).length === 1 && serverFrames(rawPlain.client).length === 1);
    assert.equal(compressed.messages[0], text);
    assert.equal(plain.messages[0], text);
    const [onDeflate] = serverFrames(rawDeflate.client);
    const [onPlain] = serverFrames(rawPlain.client);
    assert.ok(onDeflate!.rsv1, 'RSV1 set on the wire for the client that negotiated permessage-deflate');
    assert.ok(onDeflate!.payload.length < Buffer.byteLength(text) / 2, `compressed to ${onDeflate!.payload.length} of ${Buffer.byteLength(text)} bytes`);
    assert.equal(textOf(onDeflate!), text);
    assert.equal(onPlain!.rsv1, false);
    assert.equal(onPlain!.payload.toString(), text);
    assert.equal((t.server.stats.messagesCompressed ?? 0) - before, 1, 'one compression for the broadcast');

    // Under the threshold (256 bytes): plain for everyone, nothing compressed.
    await t.layer.groupSend('room', { type: 'room.message', payload: { short: 'hi' } });
    await waitFor(() => serverFrames(rawDeflate.client).length === 2 && compressed.messages.length === 2);
    assert.equal(serverFrames(rawDeflate.client)[1]!.rsv1, false);
    assert.equal(serverFrames(rawDeflate.client)[1]!.payload.toString(), '{"short":"hi"}');
    assert.equal((t.server.stats.messagesCompressed ?? 0) - before, 1);

    for (const c of [compressed, plain]) c.ws.close();
    await Promise.all([compressed.closed, plain.closed]);
    rawDeflate.client.socket.destroy();
    rawPlain.client.socket.destroy();
    await roomSize(0);
  });

  it('compresses a group event once for 1,000 members, all of them decoding it', { timeout: 120_000 }, async () => {
    const clients: Array<Awaited<ReturnType<typeof wsClient>>> = [];
    for (let i = 0; i < 1000; i += 50) {
      clients.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => wsClient(`${t.url}/ws/room/`, (i + j) % 10 !== 0)))));
    }
    await roomSize(1000);
    const before = t.server.stats.messagesCompressed ?? 0;
    const texts: string[] = [];
    for (let n = 0; n < 3; n++) {
      const payload = chatPayload(n);
      texts.push(JSON.stringify(payload));
      await t.layer.groupSend('room', { type: 'room.message', payload });
    }
    await waitFor(() => clients.every((c) => c.messages.length === 3), { timeoutMs: 60_000, message: 'every member got the 3 events' });
    for (const c of clients) assert.deepEqual(c.messages, texts);
    assert.equal((t.server.stats.messagesCompressed ?? 0) - before, 3, 'one compression per event for 900 compressing members');
    for (const c of clients) c.ws.close();
    await Promise.all(clients.map((c) => c.closed));
    await roomSize(0);
  });

  it('honours a smaller server_max_window_bits offered by the client (RFC 7692 §7.1.2.1)', async () => {
    // A 1,500-byte random block repeated: the second copy refers 1,500 bytes back, past a
    // 512-byte window, so a frame compressed with the full window would not decode.
    const block = randomBytes(1125).toString('base64');
    const payload = { data: block + block };
    const text = JSON.stringify(payload);
    const full = deflated(Buffer.from(text));
    assert.throws(() => inflateStrict(full, 9), /too far back/);
    assert.equal(inflateStrict(full, 15), text);

    const small = await rawDeflateClient(port, '/ws/room/', 'permessage-deflate; server_max_window_bits=9');
    const small2 = await rawDeflateClient(port, '/ws/room/', 'permessage-deflate; server_max_window_bits=9');
    const wsSmall = await wsClient(`${t.url}/ws/room/`, { serverMaxWindowBits: 9 });
    const normal = await wsClient(`${t.url}/ws/room/`, true);
    assert.match(small.response, /server_max_window_bits=9/);
    await roomSize(4);
    const before = t.server.stats.messagesCompressed ?? 0;
    await t.layer.groupSend('room', { type: 'room.message', payload });
    await waitFor(() => serverFrames(small.client).length === 1 && serverFrames(small2.client).length === 1 && wsSmall.messages.length === 1 && normal.messages.length === 1);
    for (const raw of [small, small2]) {
      const [f] = serverFrames(raw.client);
      assert.ok(f!.rsv1);
      assert.equal(textOf(f!, 9), text);
    }
    assert.equal(wsSmall.messages[0], text);
    assert.equal(normal.messages[0], text);
    assert.equal((t.server.stats.messagesCompressed ?? 0) - before, 2, 'once for the full window, once for 9 bits');

    // A short message (≤ 512 bytes) never refers past the small window: the shared frame serves all.
    const shortPayload = { text: 'abcdefgh'.repeat(40) };
    await t.layer.groupSend('room', { type: 'room.message', payload: shortPayload });
    await waitFor(() => serverFrames(small.client).length === 2 && normal.messages.length === 2);
    assert.equal(textOf(serverFrames(small.client)[1]!, 9), JSON.stringify(shortPayload));
    assert.equal((t.server.stats.messagesCompressed ?? 0) - before, 3);

    for (const c of [wsSmall, normal]) c.ws.close();
    await Promise.all([wsSmall.closed, normal.closed]);
    small.client.socket.destroy();
    small2.client.socket.destroy();
    await roomSize(0);
  });

  it('compresses one-off sends above the threshold; ws pong and close frames keep their order with ours', async () => {
    const echo = await wsClient(`${t.url}/ws/echo/`, true);
    const before = t.server.stats.messagesCompressed ?? 0;
    echo.ws.send(LONG_TEXT, { compress: true }); // inflated by ws on the server
    echo.ws.send('short');
    // Near maxPayloadBytes (64 KiB): inflated in 1 KiB chunks (INFLATE_CHUNK_BYTES), still whole.
    const large = randomBytes(24_000).toString('hex');
    echo.ws.send(large, { compress: true });
    await waitFor(() => echo.messages.length === 3);
    assert.deepEqual(echo.messages, [LONG_TEXT, 'short', large]);
    assert.equal((t.server.stats.messagesCompressed ?? 0) - before, 2, 'the short one not compressed');
    echo.ws.close();
    await echo.closed;

    const raw = await rawDeflateClient(port, '/ws/echo/', 'permessage-deflate');
    raw.client.socket.write(Buffer.concat([clientFrame(0x9, Buffer.from('p1'), false), clientFrame(0x1, Buffer.from('bye'), false)]));
    await waitFor(() => serverFrames(raw.client).length === 3, { message: 'the pong, the message and the close frame' });
    const [pong, message, close] = serverFrames(raw.client);
    assert.equal(pong!.opcode, 0xa);
    assert.equal(pong!.rsv1, false);
    assert.equal(pong!.payload.toString(), 'p1');
    assert.equal(message!.opcode, 0x1);
    assert.ok(message!.rsv1);
    assert.equal(textOf(message!), LONG_TEXT);
    assert.equal(close!.opcode, 0x8);
    assert.equal(close!.rsv1, false, 'control frames are never compressed');
    assert.equal(close!.payload.readUInt16BE(0), 4000);
    raw.client.socket.destroy();
  });

  it('closes a decompression bomb with 1009 while the other members keep receiving', async () => {
    const bystander = await wsClient(`${t.url}/ws/room/`, true);
    const bomber = await rawDeflateClient(port, '/ws/room/', 'permessage-deflate');
    await roomSize(2);
    // 10 MiB of zeros deflate to about 10 KB; maxPayloadBytes is 64 KiB here.
    const bomb = deflated(Buffer.alloc(10 * 1024 * 1024, 0x20));
    assert.ok(bomb.length < 65_536);
    bomber.client.socket.write(clientFrame(0x1, bomb, true));
    await waitFor(() => serverFrames(bomber.client).some((f) => f.opcode === 0x8), { timeoutMs: 5_000, message: 'a close frame' });
    const close = serverFrames(bomber.client).find((f) => f.opcode === 0x8);
    assert.equal(close!.payload.readUInt16BE(0), CloseCode.MESSAGE_TOO_BIG);
    await roomSize(1);

    await t.layer.groupSend('room', { type: 'room.message', payload: chatPayload(7) });
    await waitFor(() => bystander.messages.length === 1);
    assert.equal(bystander.messages[0], JSON.stringify(chatPayload(7)));
    bomber.client.socket.destroy();
    bystander.ws.close();
    await bystander.closed;
  });
});

describe('sharedCompression with a browser', { skip: chromiumSkip }, () => {
  let server: SwitchboardServer;
  let port: number;
  let browser: Browser;
  const layer = new InMemoryChannelLayer();
  before(async () => {
    const http = (_req: unknown, res: { writeHead(s: number, h: Record<string, string>): { end(b: string): void } }): void => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>compression</title>');
    server = new SwitchboardServer(new ProtocolTypeRouter({ http, websocket: router }), { port: 0, channelLayer: layer, sharedCompression: true, logger: silentLogger() });
    port = (await server.listen()).port;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('Chromium negotiates permessage-deflate and decodes the shared compressed frame', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const extensions = await page.evaluate(`new Promise((resolve, reject) => {
      const ws = new WebSocket('ws://127.0.0.1:${port}/ws/room/');
      globalThis.received = [];
      ws.onmessage = (e) => globalThis.received.push(e.data);
      ws.onopen = () => resolve(ws.extensions);
      ws.onerror = () => reject(new Error('websocket error'));
    })`);
    assert.match(String(extensions), /permessage-deflate/);
    await waitFor(async () => (await layer.groupSize('room')) === 1);
    const before = server.stats.messagesCompressed ?? 0;
    const payload = chatPayload(3);
    await layer.groupSend('room', { type: 'room.message', payload });
    await waitFor(async () => ((await page.evaluate('globalThis.received.length')) as number) === 1, { message: 'the page got the event' });
    assert.equal(await page.evaluate('globalThis.received[0]'), JSON.stringify(payload));
    assert.equal((server.stats.messagesCompressed ?? 0) - before, 1);
    await page.context().close();
  });
});
