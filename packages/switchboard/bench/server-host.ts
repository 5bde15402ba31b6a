/**
 * A scenario's server in a process of its own (started fresh per scenario and run, pinned to
 * core 0 by the runner): `node server-host.js <scenario> <options JSON>`, run with
 * `--expose-gc`. Announces `{ok:'ready', port, path, protocol}`, then answers over IPC:
 *
 * - `{cmd:'cpu'}` → `{ok:'cpu', us}`: this process's own CPU time so far (user + system, µs,
 *   `process.cpuUsage()`); the runner takes the difference over its measured window.
 * - `{cmd:'broadcast', count, rate, first}` → `{ok:'sent', ms}`: sends broadcasts (bench/drive.ts).
 * - `{cmd:'memory'}` → `{ok:'memory', rss, heap}` after two full collections (bytes).
 * - `{cmd:'open'}` → `{ok:'open', n}`: connections the server holds open.
 * - `{cmd:'exit'}`: closes the server and exits.
 */
import { drive } from './drive.js';
import { serve } from './ipc.js';
import { loadScenario, type ScenarioOptions } from './scenarios/index.js';

const [name, json] = process.argv.slice(2);
if (name === undefined || json === undefined) throw new Error('usage: server-host.js <scenario> <options JSON>');
const hosted = await (await loadScenario(name))(JSON.parse(json) as ScenarioOptions);

const collect = async (): Promise<void> => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let k = 0; k < 2; k++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
};

serve(async (msg) => {
  switch (msg.cmd) {
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      return { ok: 'cpu', us: user + system };
    }
    case 'broadcast': {
      const { broadcast } = hosted;
      if (!broadcast) throw new Error(`${name} does not broadcast itself`);
      return { ok: 'sent', ms: await drive(broadcast, Number(msg.count), Number(msg.rate), Number(msg.first ?? 0)) };
    }
    case 'memory': {
      await collect();
      const m = process.memoryUsage();
      return { ok: 'memory', rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers };
    }
    case 'open':
      return { ok: 'open', n: hosted.open() };
    case 'exit':
      await hosted.close();
      process.exit(0);
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
});
process.send!({ ok: 'ready', port: hosted.port, path: hosted.path, protocol: hosted.protocol });
