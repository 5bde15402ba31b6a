/**
 * Nothing lost for members that are sending themselves: ten chat members each paste 30 lines at
 * once (within the rate limit); every member receives all 300, on PostgreSQL (slow inserts) with
 * the Redis layer and with the in-memory layer. Before the consumer's event backlog was separated
 * from its own frames' pace, a sender got 41 of 100 here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { waitFor } from 'switchboard/testing';
import { connectClient, postgresAvailable, redisAvailable, REDIS_URL, tempPostgresDatabase, type TestClient } from '@switchboard/test-support';
import { startDemo } from '../app.js';
import { loadConfig } from '../config.js';
import { chatFrames } from './chat-frames.js';

const MEMBERS = 10;
const LINES = 30;

const setups: Array<[string, string | undefined, () => string | false]> = [
  ['PostgreSQL, Redis layer', REDIS_URL, () => (!postgresAvailable() ? 'PostgreSQL unreachable' : !redisAvailable() ? 'Redis unreachable' : false)],
  ['PostgreSQL, in-memory layer', undefined, () => (!postgresAvailable() ? 'PostgreSQL unreachable' : false)],
];

for (const [name, layerUrl, skip] of setups) {
  describe(`chat burst: ${name}`, () => {
    it(`delivers all ${MEMBERS * LINES} messages to each of ${MEMBERS} members that send ${LINES} each at once`, { timeout: 60_000 }, async (t) => {
      const why = skip();
      if (why) return t.skip(why);
      const database = await tempPostgresDatabase('sbburst');
      const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url };
      if (layerUrl !== undefined) env['CHANNEL_LAYER_URL'] = layerUrl;
      const demo = await startDemo(loadConfig(env), { redisPrefix: `sb:test:burst:${randomBytes(4).toString('hex')}:` });
      const room = `burst-${randomBytes(4).toString('hex')}`;
      const members: TestClient[] = [];
      try {
        for (let m = 0; m < MEMBERS; m++) members.push(await connectClient(`${demo.url.replace(/^http/, 'ws')}ws/chat/${room}/`));
        for (const [m, member] of members.entries()) {
          for (let i = 0; i < LINES; i++) member.ws.send(JSON.stringify({ message: `m${m} line ${i}` }));
        }
        await waitFor(() => members.every((c) => c.messages.length >= MEMBERS * LINES), { timeoutMs: 45_000, intervalMs: 50, message: 'every member got every message' });
        for (const [m, member] of members.entries()) {
          const got = chatFrames(member).map((f) => f.message);
          assert.equal(new Set(got).size, MEMBERS * LINES, `member ${m}: every message exactly once`);
          // FIFO per sender: each member's own lines arrive in the order they were sent.
          for (let s = 0; s < MEMBERS; s++) {
            const fromS = got.filter((text) => text?.startsWith(`m${s} `));
            assert.deepEqual(fromS, Array.from({ length: LINES }, (_, i) => `m${s} line ${i}`), `member ${m} sees m${s}'s lines in order`);
          }
        }
        // Nothing closed: no one was judged too slow.
        for (const member of members) assert.equal(member.ws.readyState, member.ws.OPEN);
      } finally {
        for (const c of members) c.ws.terminate();
        await demo.close();
        await database.drop();
      }
    });
  });
}
