/**
 * The presence feature across two server processes on Redis: state then diffs by key, several
 * tabs of one user counted once, a SIGKILLed process's keys leaving within TTL + sweep, and the
 * same order of changes seen on both processes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { InMemoryPresenceStore, JsonWebsocketConsumer, presence, URLRouter, path, silentLogger } from 'switchboard';
import { SwitchboardSocket, type PresenceChange } from 'switchboard/client';
import { startTestServer, waitFor } from 'switchboard/testing';
import { redisAvailable, REDIS_URL, stopProcess } from '@switchboard/test-support';

const SERVER = fileURLToPath(new URL('./presence-server.js', import.meta.url));

interface Client {
  socket: SwitchboardSocket;
  changes: PresenceChange[];
}

function client(base: string, user: string): Client {
  const socket = new SwitchboardSocket(`${base}/ws/room/?user=${user}`, { WebSocketImpl: WebSocket, recover: false, maxAttempts: 3, minDelayMs: 50 });
  const changes: PresenceChange[] = [];
  socket.on('presence', (c) => changes.push(c));
  return { socket, changes };
}

const keys = (c: Client): string[] => [...c.socket.presence.keys()].sort();

async function startServer(prefix: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, REDIS_URL, PRESENCE_PREFIX: prefix }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await waitFor(() => /port (\d+)/.exec(out)?.[1], { timeoutMs: 15_000, message: 'presence server listening' });
  return { child, url: `ws://127.0.0.1:${port}` };
}

describe('presence feature (one process, in memory)', () => {
  it('sends the state on join, then joins and leaves by key; several tabs count once', async () => {
    const store = new InMemoryPresenceStore();
    class Room extends JsonWebsocketConsumer {
      override features = [presence({ store, group: 'lobby', key: (s) => new URLSearchParams(s.queryString).get('user') })];
    }
    const srv = await startTestServer(new URLRouter([path('ws/room/', Room)]), { logger: silentLogger() });
    const clients: Client[] = [];
    try {
      const watcher = client(srv.url, 'watcher');
      clients.push(watcher);
      await waitFor(() => keys(watcher).includes('watcher'));
      const tabs = [client(srv.url, 'ada'), client(srv.url, 'ada'), client(srv.url, 'ada')];
      clients.push(...tabs);
      await waitFor(() => tabs.every((t) => keys(t).join() === 'ada,watcher'), { message: 'every tab sees both' });
      assert.equal(watcher.socket.presence.get('ada')?.connections, 3, 'three tabs, one key');
      assert.deepEqual(watcher.changes.filter((c) => c.joins.includes('ada')).length, 1, 'ada joined once');
      tabs[0]!.socket.close();
      tabs[1]!.socket.close();
      await waitFor(async () => (await store.list('lobby')).find((e) => e.key === 'ada')?.connections === 1);
      assert.equal(watcher.changes.some((c) => c.leaves.includes('ada')), false, 'still one tab open: no leave');
      tabs[2]!.socket.close();
      await waitFor(() => !keys(watcher).includes('ada'), { message: 'ada left' });
      assert.deepEqual(watcher.changes.filter((c) => c.leaves.includes('ada')).length, 1);
    } finally {
      for (const c of clients) c.socket.close();
      await srv.close();
      await store.close();
    }
  });
});

describe('presence feature (two processes, Redis)', { skip: redisAvailable() ? false : 'Redis not reachable (set REQUIRE_SERVICES=1 to fail instead)' }, () => {
  const prefix = `sb:test:presence:${randomBytes(4).toString('hex')}:`;
  let a: { child: ChildProcess; url: string };
  let b: { child: ChildProcess; url: string };
  before(async () => {
    [a, b] = await Promise.all([startServer(prefix), startServer(prefix)]);
  });
  after(async () => {
    for (const p of [a, b]) if (p) await stopProcess(p.child, 'SIGKILL');
  });

  it('counts three tabs on two processes once, keeps the same order on both, and lets a killed process\'s keys leave', async () => {
    const onA = client(a.url, 'watcher-a');
    const onB = client(b.url, 'watcher-b');
    const clients = [onA, onB];
    try {
      await waitFor(() => keys(onA).join() === 'watcher-a,watcher-b' && keys(onB).join() === 'watcher-a,watcher-b', { timeoutMs: 5_000, message: 'the watchers see each other' });
      // ada: two tabs on A, one on B.
      const ada = [client(a.url, 'ada'), client(a.url, 'ada'), client(b.url, 'ada')];
      clients.push(...ada);
      await waitFor(() => onA.socket.presence.get('ada')?.connections === 3 || keys(onB).includes('ada'), { timeoutMs: 5_000 });
      await waitFor(() => keys(onA).includes('ada') && keys(onB).includes('ada'), { timeoutMs: 5_000, message: 'both see ada' });
      // grace joins on B then leaves.
      const grace = client(b.url, 'grace');
      clients.push(grace);
      await waitFor(() => keys(onA).includes('grace') && keys(onB).includes('grace'), { timeoutMs: 5_000, message: 'both see grace' });
      grace.socket.close();
      await waitFor(() => !keys(onA).includes('grace') && !keys(onB).includes('grace'), { timeoutMs: 5_000, message: 'grace left on both' });
      for (const w of [onA, onB]) {
        assert.equal(w.changes.filter((c) => c.joins.includes('ada')).length, 1, 'ada joined once, whatever her tabs');
        const graceEvents = w.changes.flatMap((c) => [...c.joins.filter((k) => k === 'grace').map(() => 'join'), ...c.leaves.filter((k) => k === 'grace').map(() => 'leave')]);
        assert.deepEqual(graceEvents, ['join', 'leave'], 'in order on each process');
      }

      // Kill B: its connections are never removed; its keys leave A within TTL (1.5 s) + sweep (0.2 s).
      const killedAt = Date.now();
      await stopProcess(b.child, 'SIGKILL');
      await waitFor(() => !keys(onA).includes('watcher-b'), { timeoutMs: 5_000, intervalMs: 20, message: "B's watcher left A's list" });
      const tookMs = Date.now() - killedAt;
      assert.ok(keys(onA).includes('ada'), 'ada still has two tabs on A');
      assert.equal(onA.socket.presence.get('ada')?.connections, 2);
      // Stated bound: ttlMs + sweepIntervalMs + one refresh; waitFor's 5 s is the test's own limit.
      assert.ok(tookMs >= 1_000, `left after ${tookMs} ms, not before the entries could expire`);
    } finally {
      for (const c of clients) c.socket.close();
    }
  });
});
