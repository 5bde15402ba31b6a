/**
 * The client side of the profile harnesses (bench/profile/): a child process that opens
 * `count` WebSocket connections and reports over IPC. Runs natively while the server process
 * runs under callgrind (`--trace-children=no`), so only the server's instructions are counted.
 *
 * Messages from the parent: `{cmd: 'open', url, count, rooms?}` opens the connections (client i
 * goes to `${url}${i % rooms}` when `rooms` is given) and answers `{ok: 'open'}`;
 * `{cmd: 'expect', total}` answers `{ok: 'received'}` once `total` more frames arrived;
 * `{cmd: 'send', perClient, text}` makes every client send `perClient` text frames, 10 per turn.
 */
import { WebSocket } from 'ws';

type Command =
  | { cmd: 'open'; url: string; count: number; rooms?: number }
  | { cmd: 'expect'; total: number }
  | { cmd: 'send'; perClient: number; text: string }
  | { cmd: 'exit' };

const sockets: WebSocket[] = [];
let received = 0;
let target = Infinity;

function onMessage(): void {
  received++;
  if (received === target) {
    target = Infinity;
    process.send!({ ok: 'received' });
  }
}

async function open(url: string, count: number, rooms: number | undefined): Promise<void> {
  const batch = 100;
  for (let i = 0; i < count; i += batch) {
    const opening: Array<Promise<void>> = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const ws = new WebSocket(rooms === undefined ? url : `${url}${j % rooms}`, { perMessageDeflate: false });
      ws.on('message', onMessage);
      sockets.push(ws);
      opening.push(new Promise((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); }));
    }
    await Promise.all(opening);
  }
}

async function send(perClient: number, text: string): Promise<void> {
  for (let k = 0; k < perClient; k++) {
    for (const ws of sockets) ws.send(text);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

process.on('message', (message: Command) => {
  switch (message.cmd) {
    case 'open':
      open(message.url, message.count, message.rooms).then(() => process.send!({ ok: 'open' }), (err: unknown) => { console.error(err); process.exit(1); });
      break;
    case 'expect':
      received = 0;
      target = message.total;
      process.send!({ ok: 'armed' });
      break;
    case 'send':
      void send(message.perClient, message.text);
      break;
    case 'exit':
      for (const ws of sockets) ws.terminate();
      process.exit(0);
  }
});
