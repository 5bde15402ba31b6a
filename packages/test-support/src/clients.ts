/** Real-socket test clients: a `ws` client that records what it receives, and the status of a refused handshake. */
import { once } from 'node:events';
import { WebSocket } from 'ws';

/** A client that records what it receives. */
export interface TestClient {
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Connects; resolves once open, rejects with the HTTP status on a refused handshake. */
export async function connectClient(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<TestClient> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
  const messages: string[] = [];
  ws.on('message', (data) => messages.push(data.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`handshake refused: HTTP ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.once('error', reject);
  });
  return { ws, messages, closed };
}

/** The HTTP status of a refused handshake (or 101 when it was accepted, then closes). */
export async function handshakeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    const c = await connectClient(url, { headers });
    c.ws.close();
    await once(c.ws, 'close');
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}
