/**
 * Benchmark load generator, run as a child process: opens N WebSocket clients to a URL and counts
 * the messages they receive. Controlled over IPC: {cmd:'connect', url, n} → {ok:'connected'};
 * {cmd:'expect', total} → {ok:'received', ms} when `total` messages arrived across all clients;
 * {cmd:'close'} → closes every client → {ok:'closed'}.
 */
import { WebSocket } from 'ws';

let clients: WebSocket[] = [];
let received = 0;
let expected = Infinity;
let started = 0;

function check(): void {
  if (received >= expected) {
    expected = Infinity;
    process.send!({ ok: 'received', ms: performance.now() - started, received });
  }
}

process.on('message', async (msg: { cmd: string; url?: string; n?: number; total?: number }) => {
  if (msg.cmd === 'connect') {
    const opened: Promise<void>[] = [];
    for (let i = 0; i < msg.n!; i++) {
      const ws = new WebSocket(msg.url!, { perMessageDeflate: false });
      ws.on('message', () => {
        received++;
        if (received >= expected) check();
      });
      ws.on('error', (err) => process.send!({ error: String(err) }));
      opened.push(new Promise((resolve) => ws.once('open', () => resolve())));
      clients.push(ws);
      if (i % 100 === 99) await Promise.all(opened.slice(-100));
    }
    await Promise.all(opened);
    process.send!({ ok: 'connected' });
  } else if (msg.cmd === 'expect') {
    received = 0;
    started = performance.now();
    expected = msg.total!;
    process.send!({ ok: 'armed' });
  } else if (msg.cmd === 'close') {
    await Promise.all(
      clients.map((ws) => new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      })),
    );
    clients = [];
    process.send!({ ok: 'closed' });
  } else if (msg.cmd === 'exit') {
    process.exit(0);
  }
});
