/**
 * A fault during the handshake (e.g. the session store's database is down) answers a plain 500
 * with a request id; the detail (`relation "sessions" does not exist`, file paths) goes to the
 * log under the same id, never to the client (issue: 500 responses leaked internals). And the
 * scope an upgrade request gets: its path decoded, or a malformed escape refused with 400.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import type { ResolvedConsumer, Scope, WebsocketApplication } from 'switchboard';
import { startTestServer } from 'switchboard/testing';
import { handshakeStatus } from '../helpers.js';

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

describe('the scope of an upgrade request', () => {
  it('decodes an escaped path, keeps the raw one, and refuses a malformed escape with 400 before routing', async () => {
    const seen: Scope[] = [];
    const recording: WebsocketApplication = {
      resolve(scope: Scope): null {
        seen.push(scope);
        return null; // 404: only the scope matters here
      },
    };
    const server = await startTestServer(recording);
    const status = (path: string): Promise<number> => handshakeStatus(`${server.url}${path}`, { 'user-agent': 'scope-test/1' });
    try {
      assert.equal(await status('/ws/caf%C3%A9/?x=1'), 404);
      assert.equal(await status('/ws/plain/'), 404);
      assert.equal(await status('/ws/bad%E0%A4%A/'), 400);
      assert.deepEqual(
        seen.map((s) => [s.path, s.rawPath, s.queryString, s.headers['user-agent']]),
        [
          ['/ws/café/', '/ws/caf%C3%A9/', 'x=1', 'scope-test/1'],
          ['/ws/plain/', '/ws/plain/', '', 'scope-test/1'],
        ],
        'the malformed path never reached routing',
      );
      assert.equal(seen[1]!.client?.host, '127.0.0.1');
      assert.equal(server.server.stats.connectionsOpen, 0);
    } finally {
      await server.close();
    }
  });
});
