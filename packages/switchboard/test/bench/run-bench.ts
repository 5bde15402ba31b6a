/**
 * Runs a compiled benchmark script (dist/bench/*.js) in a child Node process for the benchmarks'
 * smoke tests, with extra environment variables; resolves with its exit code and its stdout and
 * stderr interleaved.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** Runs `dist/bench/<name>.js` with `env` added to this process's environment. */
export async function runBench(name: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const script = fileURLToPath(new URL(`../../bench/${name}.js`, import.meta.url));
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out };
}
