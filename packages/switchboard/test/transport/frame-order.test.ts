/**
 * The frames a connection gets within a tick are held and leave in one write at the end of the
 * tick (src/transport/frame-writer.ts). Held frames must keep their place relative to what `ws`
 * writes by itself: a close frame (ours, the answer to the peer's close, the one after a protocol
 * error) comes after every data frame sent before it, a pong after the replies before the ping,
 * and nothing follows a close frame. Raw sockets, so every byte the server sends is seen in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JsonWebsocketConsumer, URLRouter, path, silentLogger } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { startTestServer, type TestServer } from '../helpers.js';
import { clientFrame, rawWebsocket, serverFrames, type RawClient, type WireFrame } from './raw-socket.js';

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

class Replies extends JsonWebsocketConsumer {
  override receiveJson(content: unknown): void {
    const { say, close, burst } = content as { say?: string; close?: number; burst?: number };
    if (say !== undefined) this.sendJson({ said: say });
    for (let i = 0; i < (burst ?? 0); i++) this.sendJson({ n: i });
    if (close !== undefined) {
      this.sendJson({ last: true });
      this.close(close);
    }
  }
}



const text = (json: unknown): Buffer => clientFrame(OP_TEXT, Buffer.from(JSON.stringify(json)));
const describeFrames = (frames: WireFrame[]): string[] =>
  frames.map((f) => (f.opcode === OP_TEXT ? f.payload.toString() : f.opcode === OP_CLOSE ? `close ${f.payload.length >= 2 ? f.payload.readUInt16BE(0) : ''}` : f.opcode === OP_PONG ? `pong ${f.payload.toString()}` : `op ${f.opcode}`));

describe('frames held for a tick keep their order with ws control frames', () => {
  let t: TestServer;
  let port: number;
  before(async () => {
    t = await startTestServer(new URLRouter([path('ws/', Replies)]), { closeTimeoutMs: 300, logger: silentLogger() });
    port = Number(new URL(t.url).port);
  });
  after(() => t.close());

  async function exchange(bytes: Buffer, until: (frames: WireFrame[]) => boolean): Promise<string[]> {
    const client = await rawWebsocket(port);
    client.socket.write(bytes);
    await waitFor(() => until(serverFrames(client)), { timeoutMs: 5_000, message: 'the frames' });
    // Anything sent after what we waited for would show up now.
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.socket.destroy();
    return describeFrames(serverFrames(client));
  }
  const closed = (frames: WireFrame[]): boolean => frames.some((f) => f.opcode === OP_CLOSE);

  it("puts the consumer's close frame after the frames it sent before close()", async () => {
    assert.deepEqual(await exchange(text({ say: 'a', close: 4000 }), closed), ['{"said":"a"}', '{"last":true}', 'close 4000']);
  });

  it("answers the peer's close after the reply to a message in the same TCP chunk", async () => {
    const bytes = Buffer.concat([text({ say: 'before close' }), clientFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]))]);
    assert.deepEqual(await exchange(bytes, closed), ['{"said":"before close"}', 'close 1000']);
  });

  it('sends the pong after the reply to the message before the ping', async () => {
    const bytes = Buffer.concat([text({ say: 'first' }), clientFrame(OP_PING, Buffer.from('p1')), text({ say: 'second' })]);
    const frames = await exchange(bytes, (f) => f.length >= 3);
    assert.deepEqual(frames, ['{"said":"first"}', 'pong p1', '{"said":"second"}']);
  });

  it('sends the reply, then the 1002 close, for a message followed by a protocol error in one chunk', async () => {
    const bytes = Buffer.concat([text({ say: 'ok' }), clientFrame(OP_TEXT, Buffer.from('"x"'), { masked: false })]);
    assert.deepEqual(await exchange(bytes, closed), ['{"said":"ok"}', 'close 1002']);
  });

  it('delivers a burst sent within one tick whole and in order', async () => {
    const frames = await exchange(text({ burst: 500 }), (f) => f.length >= 500);
    assert.deepEqual(frames, Array.from({ length: 500 }, (_, n) => JSON.stringify({ n })));
  });
});
