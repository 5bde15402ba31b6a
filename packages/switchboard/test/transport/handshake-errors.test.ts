/**
 * A fault during the handshake (e.g. the session store's database is down) answers a plain 500
 * with a request id; the detail (`relation "sessions" does not exist`, file paths) goes to the
 * log under the same id, never to the client (issue: 500 responses leaked internals).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import type { ResolvedConsumer, Scope, WebsocketApplication } from 'switchboard';
import { startTestServer } from 'switchboard/testing';

/** Middleware whose store fails as a database does. */
const failingSessions: WebsocketApplication = {
  resolve(_scope: Scope): ResolvedConsumer {
    throw new Error('relation "sessions" does not exist (/srv/app/node_modules/pg/lib/client.js)');
  },
};

describe('handshake faults', () => {
  it('answers 500 with a request id and no detail, and logs the detail under that id', async () => {
    const lines: Array<{ msg?: string; requestId?: string; err?: { message?: string } }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const server = await startTestServer(failingSessions, { logger });
    try {
      const { status, header, body } = await new Promise<{ status: number; header: string | undefined; body: string }>((resolve, reject) => {
        const ws = new WebSocket(`${server.url}/ws/`);
        ws.on('unexpected-response', (_req, res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, header: res.headers['x-request-id'] as string | undefined, body: text }));
        });
        ws.on('open', () => reject(new Error('the handshake was accepted')));
        ws.on('error', () => undefined);
      });
      assert.equal(status, 500);
      assert.match(header ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(body, `Internal Server Error (request id ${header})`);
      assert.doesNotMatch(body, /relation|sessions|node_modules/);
      const logged = lines.find((l) => l.requestId === header);
      assert.ok(logged, 'the log line carries the same request id');
      assert.match(logged.err?.message ?? '', /relation "sessions" does not exist/);
      assert.equal(server.server.stats.connectionsOpen, 0, 'no connection left behind');
    } finally {
      await server.close();
    }
  });
});
