/**
 * Part 4 of `npm run bench:reliability` (issue 10 item 1): `members` members of group `burst`
 * each send `messages` messages at once to a consumer whose own frames take `delayMs` before
 * `groupSendWithHistory` (a database insert). The room's events pile up behind each member's own
 * frames, past the layer's capacity (100); every member must still receive every message, once,
 * in each sender's order.
 */
import { WebSocket } from 'ws';
import type { BenchApp } from './app.js';
import { closeClient, count, openClient, settle, type PartResult } from './util.js';

interface Member {
  readonly name: string;
  readonly ws: WebSocket;
  /** `from:n` of every message received, in arrival order. */
  readonly got: string[];
  closedWith?: number;
}

/** Whether `got` holds each of `total` messages once and each sender's in the order sent. */
function exact(got: readonly string[], total: number): boolean {
  if (new Set(got).size !== got.length || got.length !== total) return false;
  const last = new Map<string, number>();
  for (const key of got) {
    const [from, n] = key.split(':') as [string, string];
    if (Number(n) <= (last.get(from) ?? -1)) return false;
    last.set(from, Number(n));
  }
  return true;
}

/** Runs part 4. */
export async function burst(app: BenchApp, members: number, messages: number, delayMs: number): Promise<PartResult> {
  const total = members * messages;
  const room: Member[] = [];
  for (let i = 0; i < members; i++) {
    const member: Member = { name: `m${i}`, ws: await openClient(`${app.base}ws/burst/`), got: [] };
    member.ws.on('message', (data: Buffer) => {
      const { from, n } = JSON.parse(data.toString()) as { from: string; n: number };
      member.got.push(`${from}:${n}`);
    });
    member.ws.once('close', (code: number) => (member.closedWith = code));
    room.push(member);
  }
  await settle(async () => (await app.layer.groupSize('burst')) === members, 5_000);
  const started = performance.now();
  for (const member of room) {
    for (let n = 0; n < messages; n++) member.ws.send(JSON.stringify({ from: member.name, n }));
  }
  const all = await settle(() => room.every((m) => m.got.length >= total || m.closedWith !== undefined), 10_000 + (messages * delayMs * 3));
  const seconds = (performance.now() - started) / 1000;
  // A little longer, so a duplicate after the last expected message is seen too.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const counts = room.map((m) => m.got.length);
  const closed = room.filter((m) => m.closedWith !== undefined).map((m) => `${m.name} closed ${m.closedWith}`);
  const everyoneExact = all && room.every((m) => m.closedWith === undefined && exact(m.got, total));
  console.log(`burst: ${members} members × ${messages} messages at once, ${delayMs} ms per own frame, ${seconds.toFixed(1)} s; received per member: ${counts.join(' ')} of ${total}${closed.length ? `; ${closed.join(', ')}` : ''}`);
  await Promise.all(room.map((m) => closeClient(m.ws)));
  const lost = counts.reduce((sum, c) => sum + Math.max(0, total - c), 0);
  return {
    part: 'burst (busy senders)',
    figure: `${Math.min(...counts)}–${Math.max(...counts)} of ${count(total)} per member; ${count(lost)} lost`,
    expected: `${count(total)} each, once, in order`,
    ok: everyoneExact,
  };
}
