/** WebsocketCommunicator surfaces what a consumer throws instead of hiding it behind a 1011. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { InMemoryChannelLayer, JsonWebsocketConsumer, WebsocketConsumer, type LayerMessage } from 'switchboard';
import { ConsumerFailedError, WebsocketCommunicator } from 'switchboard/testing';

class Thrower extends JsonWebsocketConsumer {
  override groups = ['throwers'];
  override receiveJson(content: unknown): void {
    const c = content as { reply?: string; boom?: string };
    if (c.reply !== undefined) this.sendJson({ reply: c.reply });
    if (c.boom !== undefined) throw new Error(c.boom);
  }
  async slowBoom(event: LayerMessage): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 10));
    throw new Error(String(event['why']));
  }
}

class ConnectThrower extends WebsocketConsumer {
  override async connect(): Promise<void> {
    await Promise.resolve();
    throw new Error('connect exploded');
  }
}

class DisconnectThrower extends WebsocketConsumer {
  override connect(): void {
    this.accept();
  }
  override disconnect(): void {
    throw new Error('disconnect exploded');
  }
}

/** Whether `err` is the communicator's wrapper around an error with `message`. */
function failedWith(message: string) {
  return (err: unknown): boolean => err instanceof ConsumerFailedError && err.closeCode === 1011 && err.cause instanceof Error && err.cause.message === message && err.message.includes(message);
}

/** A logger that keeps its lines, so the test output stays clean and the log can be checked. */
function recordingLogger(): { logger: ReturnType<typeof pino>; lines: Array<{ level: number; msg: string; err?: { stack: string } }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  return { logger: pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) }), lines };
}

describe('WebsocketCommunicator handler errors', () => {
  it('makes the next receiveJson() reject with the error, after the frames sent before it, then gives the 1011 close', async () => {
    const { logger, lines } = recordingLogger();
    const c = new WebsocketCommunicator(Thrower, '/ws/', { channelLayer: null, logger });
    await c.connect();
    await c.sendJson({ reply: 'first', boom: 'receive exploded' });
    assert.deepEqual(await c.receiveJson(), { reply: 'first' });
    await assert.rejects(c.receiveJson(), failedWith('receive exploded'));
    assert.equal((await c.receiveClose()).code, 1011);
    await c.disconnect();
    // Logged by the consumer, with its stack, once.
    const errors = lines.filter((l) => l.level >= 50);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.err!.stack, /Error: receive exploded\n\s+at Thrower\.receiveJson/);
  });

  it('rejects a receiveOutput() that is already waiting when a layer event handler throws', async () => {
    const layer = new InMemoryChannelLayer();
    const c = new WebsocketCommunicator(Thrower, '/ws/', { channelLayer: layer, logger: recordingLogger().logger });
    await c.connect();
    const waiting = c.receiveOutput({ timeoutMs: 2_000 });
    await layer.groupSend('throwers', { type: 'slow.boom', why: 'event exploded' });
    await assert.rejects(waiting, failedWith('event exploded'));
    assert.equal((await c.receiveOutput()).kind, 'close');
    await c.disconnect();
    await layer.close();
  });

  it('makes connect() reject when connect() throws', async () => {
    const c = new WebsocketCommunicator(ConnectThrower, '/ws/', { channelLayer: null, logger: recordingLogger().logger });
    await assert.rejects(c.connect(), failedWith('connect exploded'));
    await c.disconnect();
  });

  it('makes disconnect() reject when disconnect() throws', async () => {
    const c = new WebsocketCommunicator(DisconnectThrower, '/ws/', { channelLayer: null, logger: recordingLogger().logger });
    assert.equal((await c.connect()).accepted, true);
    await assert.rejects(c.disconnect(), failedWith('disconnect exploded'));
  });

  it('reports an error nobody read at disconnect() rather than losing it', async () => {
    const c = new WebsocketCommunicator(Thrower, '/ws/', { channelLayer: null, logger: recordingLogger().logger });
    await c.connect();
    await c.sendJson({ boom: 'unread' });
    await assert.rejects(c.disconnect(), failedWith('unread'));
  });

  it('makes receiveNothing() reject too', async () => {
    const c = new WebsocketCommunicator(Thrower, '/ws/', { channelLayer: null, logger: recordingLogger().logger });
    await c.connect();
    await c.sendJson({ boom: 'quiet' });
    await assert.rejects(c.receiveNothing(), failedWith('quiet'));
    await c.disconnect();
  });

  it('does not treat a close the framework decides (1003 for a binary frame) as a failure', async () => {
    const c = new WebsocketCommunicator(Thrower, '/ws/', { channelLayer: null, logger: recordingLogger().logger });
    await c.connect();
    await c.sendBytes(new Uint8Array([1]));
    assert.equal((await c.receiveClose()).code, 1003);
    await c.disconnect();
  });
});
