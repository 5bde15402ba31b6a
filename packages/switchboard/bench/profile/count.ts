/**
 * Instructions per delivery with callgrind: runs a harness of bench/profile/ twice under
 * `valgrind --tool=callgrind` (receivers stay native), once with MESSAGES=0 and once with
 * MESSAGES=N, and prints (Ir(N) − Ir(0)) / (N × deliveries per message). Start-up, connection
 * set-up and the JIT warm-up (WARMUP messages in both runs) cancel out.
 *
 * Usage: node dist/bench/profile/count.js <harness> <mode> [N]
 *   harness `fanout` (modes framed, idiom, natural; 1,000 deliveries per message) or `rooms`
 *   (modes bare, switchboard; each client's message reaches its room of 10: 10 deliveries).
 * Env: PROFILE_CLIENTS, WARMUP, and KEEP=1 to keep the callgrind output files in /tmp.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [harness = 'fanout', mode = 'idiom', n = '100'] = process.argv.slice(2);
const N = Number(n);
const clients = Number(process.env.PROFILE_CLIENTS ?? 1000);
const script = fileURLToPath(new URL(`./${harness}.js`, import.meta.url));
/** Deliveries per unit of MESSAGES: fan-out sends one broadcast to every client; rooms has every client send one message to its 10 room members. */
const deliveriesPerMessage = harness === 'rooms' ? clients * Number(process.env.ROOM_SIZE ?? 10) : clients;

function instructions(messages: number): number {
  const out = `/tmp/callgrind.${harness}.${mode}.${messages}.${process.pid}`;
  execFileSync('valgrind', ['--tool=callgrind', '--trace-children=no', `--callgrind-out-file=${out}`, process.execPath, script, mode], {
    env: { ...process.env, MESSAGES: String(messages) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const summary = /^summary: (\d+)/m.exec(readFileSync(out, 'utf8'));
  if (process.env.KEEP !== '1') rmSync(out);
  if (!summary) throw new Error(`no summary in ${out}`);
  return Number(summary[1]);
}

const base = instructions(0);
const measured = instructions(N);
const perDelivery = (measured - base) / (N * deliveriesPerMessage);
console.log(JSON.stringify({ harness, mode, messages: N, deliveries: N * deliveriesPerMessage, baseIr: base, measuredIr: measured, irPerDelivery: Math.round(perDelivery) }));
