/**
 * Where the server decides to end a connection it sends a close frame with a code from
 * docs/close-codes.md, then cuts a peer that does not answer after `closeTimeoutMs` (issue 10,
 * item 9): protocol errors (1002, 1007, 1008 by ws), a ping flood (4429), a peer stalled in the
 * middle of a frame (4408). Hand-made frames on raw sockets, so nothing answers for the client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, JsonWebsocketConsumer, URLRouter, path, silentLogger } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { connectClient, startTestServer, type TestServer } from '../helpers.js';
import { clientFrame, closeCodeReceived, rawWebsocket, type RawClient } from './raw-socket.js';

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_PING = 0x9;
const RSV2 = 0x20;

class Echo extends JsonWebsocketConsumer {
  static closeCodes: number[] = [];
  override receiveJson(content: unknown): void {
    this.sendJson({ echo: content });
  }
  override disconnect(code: number): void {
    Echo.closeCodes.push(code);
  }
}

const router = new URLRouter([path('ws/', Echo)]);

/**
 * Waits for the server's close frame, then for the server to cut the socket of a client that
 * never answers it: `connectionsOpen` drops (the server's side of the socket closed).
 */
async function closedBy(t: TestServer, client: RawClient): Promise<number | undefined> {
  const open = t.server.stats.connectionsOpen;
  await waitFor(() => closeCodeReceived(client) !== undefined, { timeoutMs: 5_000, message: 'a close frame' });
  // closeTimeoutMs is 300 ms here; ws alone would wait 30 s for the peer's close frame.
  await waitFor(() => t.server.stats.connectionsOpen === open - 1, { timeoutMs: 5_000, message: 'the server cut the socket' });
  client.socket.destroy();
  return closeCodeReceived(client);
}

describe('SwitchboardServer close codes on protocol errors', () => {
  let t: TestServer;
  let port: number;
  before(async () => {
    t = await startTestServer(router, { closeTimeoutMs: 300, logger: silentLogger() });
    port = Number(new URL(t.url).port);
  });
  after(() => t.close());

  const frames: Array<[string, Buffer, number]> = [
    ['a reserved bit set', clientFrame(OP_TEXT, Buffer.from('"x"'), { extraBits: RSV2 }), CloseCode.PROTOCOL_ERROR],
    ['an unmasked client frame', clientFrame(OP_TEXT, Buffer.from('"x"'), { masked: false }), CloseCode.PROTOCOL_ERROR],
    ['an unknown opcode', clientFrame(0x3, Buffer.alloc(0)), CloseCode.PROTOCOL_ERROR],
    ['a fragmented ping', Buffer.from([OP_PING, 0x80, 0, 0, 0, 0]), CloseCode.PROTOCOL_ERROR],
    ['a continuation without a first fragment', clientFrame(OP_CONTINUATION, Buffer.from('x')), CloseCode.PROTOCOL_ERROR],
    ['text that is not UTF-8', clientFrame(OP_TEXT, Buffer.from([0xc3, 0x28])), CloseCode.INVALID_PAYLOAD],
  ];
  for (const [what, frame, code] of frames) {
    it(`closes with ${code} on ${what}, then cuts the silent peer after closeTimeoutMs`, async () => {
      const client = await rawWebsocket(port);
      client.socket.write(frame);
      assert.equal(await closedBy(t, client), code);
    });
  }

  it('closes with 1008 on a message in more fragments than ws allows (16,384)', async () => {
    const client = await rawWebsocket(port);
    const first = Buffer.from([OP_TEXT, 0x80, 0, 0, 0, 0]); // FIN clear: more fragments follow
    const more = Buffer.from([OP_CONTINUATION, 0x80, 0, 0, 0, 0]);
    client.socket.write(Buffer.concat([first, ...Array<Buffer>(16_400).fill(more)]));
    assert.equal(await closedBy(t, client), CloseCode.POLICY_VIOLATION);
  });

  it('leaves other connections alone', async () => {
    const bystander = await connectClient(`${t.url}/ws/`);
    const bad = await rawWebsocket(port);
    bad.socket.write(clientFrame(OP_TEXT, Buffer.from('"x"'), { masked: false }));
    assert.equal(await closedBy(t, bad), CloseCode.PROTOCOL_ERROR);
    bystander.ws.send('"still here"');
    await waitFor(() => bystander.messages.length === 1);
    bystander.ws.close();
  });
});

describe('SwitchboardServer ping flood', () => {
  it('answers a burst of pings within the limit and closes a flood of more than 60 with 4429', async () => {
    const t = await startTestServer(router, { closeTimeoutMs: 300, logger: silentLogger() });
    const port = Number(new URL(t.url).port);
    try {
      const fine = await rawWebsocket(port);
      fine.socket.write(Buffer.concat(Array<Buffer>(30).fill(clientFrame(OP_PING, Buffer.from('p')))));
      const pongs = (): number => fine.received().subarray(fine.received().indexOf('\r\n\r\n') + 4).filter((byte, i, all) => byte === 0x8a && all[i + 1] === 1 && all[i + 2] === 0x70).length;
      await waitFor(() => pongs() === 30, { message: '30 pongs' });
      assert.equal(closeCodeReceived(fine), undefined);

      const flood = await rawWebsocket(port);
      flood.socket.write(Buffer.concat(Array<Buffer>(500).fill(clientFrame(OP_PING, Buffer.alloc(0)))));
      assert.equal(await closedBy(t, flood), CloseCode.RATE_LIMITED);
      fine.socket.destroy();
    } finally {
      await t.close();
    }
  });
});

describe('SwitchboardServer heartbeat on a stalled frame', () => {
  it('closes a peer stalled in the middle of a frame with 4408 instead of cutting it silently', async () => {
    const t = await startTestServer(router, { heartbeatIntervalMs: 100, closeTimeoutMs: 300, logger: silentLogger() });
    const port = Number(new URL(t.url).port);
    try {
      const client = await rawWebsocket(port);
      // A masked text frame announcing 100 bytes, of which 10 come: ws waits for the rest, and no
      // pong can be read behind it.
      client.socket.write(Buffer.concat([Buffer.from([0x80 | OP_TEXT, 0x80 | 100]), Buffer.alloc(4), Buffer.alloc(10, 0x61)]));
      assert.equal(await closedBy(t, client), CloseCode.TIMEOUT);
      assert.equal(t.server.stats.deadPeersDropped, 1);
    } finally {
      await t.close();
    }
  });
});
