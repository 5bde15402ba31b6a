/**
 * Instructions per delivery with callgrind: runs a harness of bench/profile/ under
 * `valgrind --tool=callgrind` (receivers stay native, `--trace-children=no`), zeroes the counters
 * once the harness is warm (`callgrind_control --zero`, after WARMUP messages), dumps them once
 * its MESSAGES are delivered (`callgrind_control --dump`) and prints dumped Ir / deliveries.
 * Start-up, connection set-up and the JIT warm-up are outside the count; V8 runs
 * `--single-threaded` so background compiler and GC threads do not blur it.
 *
 * Usage: node dist/bench/profile/count.js <harness> <mode> [MESSAGES]
 *   harness `fanout` (modes framed, idiom, natural; one message = one delivery per client) or
 *   `rooms` (modes bare, switchboard; one message per client, delivered to its room of ROOM_SIZE).
 * Env: PROFILE_CLIENTS, WARMUP, ROOM_SIZE, KEEP=1 to keep the callgrind files in /tmp.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [harness = 'fanout', mode = 'idiom', n = '100'] = process.argv.slice(2);
const MESSAGES = Number(n);
const clients = Number(process.env.PROFILE_CLIENTS ?? 1000);
const script = fileURLToPath(new URL(`./${harness}.js`, import.meta.url));
const deliveries = MESSAGES * (harness === 'rooms' ? clients * Number(process.env.ROOM_SIZE ?? 10) : clients);

const dir = mkdtempSync('/tmp/callgrind-count-');
const out = join(dir, 'callgrind.out');
const child = spawn('valgrind', ['--tool=callgrind', '--trace-children=no', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', script, mode], {
  env: { ...process.env, MESSAGES: String(MESSAGES), PROFILE_SYNC_DIR: dir },
  stdio: ['ignore', 'ignore', 'pipe'],
});
let stderr = '';
child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

async function reached(name: string): Promise<void> {
  while (!existsSync(join(dir, name))) {
    if (child.exitCode !== null) throw new Error(`harness exited before ${name}:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

await reached('warm');
execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
writeFileSync(join(dir, 'warm.ok'), '');
await reached('done');
execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
writeFileSync(join(dir, 'done.ok'), '');
await exited;
const dumps = readdirSync(dir).filter((f) => f.startsWith('callgrind.out.') && !f.endsWith('.ok'));
if (dumps.length === 0) throw new Error(`no callgrind dump in ${dir}:\n${stderr}`);
const summary = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, dumps.sort()[0]!), 'utf8'));
if (process.env.KEEP !== '1') rmSync(dir, { recursive: true });
if (!summary) throw new Error('no totals in the dump');
const ir = Number(summary[1]);
console.log(JSON.stringify({ harness, mode, messages: MESSAGES, deliveries, ir, irPerDelivery: Math.round(ir / deliveries) }));
