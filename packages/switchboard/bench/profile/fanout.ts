/**
 * Deterministic fan-out for `valgrind --tool=callgrind` (run through bench/profile/count.ts):
 * one server process, `PROFILE_CLIENTS` (1,000) receivers in a native child process, `WARMUP`
 * broadcasts then `MESSAGES` broadcasts, 10 per event-loop turn, each waited for until every
 * receiver has it. count.ts runs it with MESSAGES=0 and MESSAGES=N and divides the difference in
 * instructions by N × clients: the server's instructions per delivery.
 *
 * Modes (argv[2]): `framed` (bare ws, framed once and corked per tick: the reference), `idiom`
 * (`chatMessage(e) { this.sendJson(e.payload) }`), `natural`
 * (`this.sendJson({ message: e.message, username: e.username })`).
 */
import { JsonWebsocketConsumer, type LayerMessage } from 'switchboard';
import { measured } from './checkpoint.js';
import { ask, startReceivers } from './ipc.js';
import { bareServer, frameText, switchboardServer, writeFramedCorked } from './servers.js';

const mode = process.argv[2] ?? 'idiom';
const CLIENTS = Number(process.env.PROFILE_CLIENTS ?? 1000);
const WARMUP = Number(process.env.WARMUP ?? 100);
const MESSAGES = Number(process.env.MESSAGES ?? 100);
const BATCH = 10;
const text = 'x'.repeat(64);

class IdiomConsumer extends JsonWebsocketConsumer {
  override groups = ['room'];
  chatMessage(e: LayerMessage): void {
    this.sendJson(e.payload);
  }
}

class NaturalConsumer extends JsonWebsocketConsumer {
  override groups = ['room'];
  chatMessage(e: LayerMessage): void {
    this.sendJson({ message: e.message, username: e.username });
  }
}

async function main(): Promise<void> {
  const child = startReceivers();
  let broadcast: (i: number) => unknown;
  if (mode === 'framed') {
    const bare = await bareServer();
    await ask(child, { cmd: 'open', url: bare.url, count: CLIENTS }, 'open');
    broadcast = (i) => writeFramedCorked(bare.wss.clients, frameText(JSON.stringify({ message: text, username: 'bench', n: i })));
  } else {
    const { layer, url } = await switchboardServer(mode === 'natural' ? NaturalConsumer : IdiomConsumer);
    await ask(child, { cmd: 'open', url, count: CLIENTS }, 'open');
    broadcast =
      mode === 'natural'
        ? (i) => layer.groupSend('room', { type: 'chat.message', message: text, username: `bench${i}` })
        : (i) => layer.groupSend('room', { type: 'chat.message', payload: { message: text, username: 'bench', n: i } });
  }
  const run = async (count: number): Promise<void> => {
    if (count === 0) return;
    await ask(child, { cmd: 'expect', total: count * CLIENTS }, 'armed');
    const done = ask(child, { cmd: 'noop' }, 'received');
    for (let i = 0; i < count; i += BATCH) {
      // Not awaited one by one: an await between broadcasts would uncork every socket in between.
      const sends: unknown[] = [];
      for (let j = i; j < Math.min(count, i + BATCH); j++) sends.push(broadcast(j));
      await Promise.all(sends);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await done;
  };
  await measured(child, run, WARMUP, MESSAGES);
}

void main();
