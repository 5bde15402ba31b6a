/**
 * A user's project in a temporary directory outside the repository, for the outsider test: run
 * npm, tsc and node in it with an environment that says nothing of the repository, start its
 * servers, and measure what `npm install` put in its node_modules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { waitFor } from 'switchboard/testing';

/**
 * The environment of our own process minus what would tie a child to the repository or to this
 * test run: `npm test` exports npm_config_local_prefix, npm_package_*, INIT_CWD (an `npm install`
 * in the project would then act on the repository), and the app's settings (PORT, HOST,
 * CHANNEL_LAYER_URL, LOG_LEVEL) that `switchboard serve` reads.
 */
export function outsiderEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) || ['INIT_CWD', 'NODE_OPTIONS', 'NODE_PATH', 'PORT', 'HOST', 'CHANNEL_LAYER_URL', 'LOG_LEVEL', 'ALLOWED_ORIGINS'].includes(name)) continue;
    env[name] = value;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

/** What a finished command printed. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in `cwd`; resolves when it exits, whatever its exit code. */
export async function run(command: string, args: readonly string[], cwd: string, timeoutMs = 300_000): Promise<CommandResult> {
  const child = spawn(command, args, { cwd, env: outsiderEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Runs `command` and throws with its output unless it exits 0. */
export async function runOk(command: string, args: readonly string[], cwd: string): Promise<CommandResult> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** A server process of the project, and what it has printed so far. */
export interface ProjectServer {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/`, as the process printed it. */
  url: string;
  /** `ws://127.0.0.1:<port>`: append the path. */
  wsUrl: string;
  /** Its stdout so far. */
  stdout(): string;
  /** Its stdout and stderr so far. */
  output(): string;
  /** SIGTERM to its process group (npx runs the bin in a child), then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `command` in its own process group and waits until it prints a line matching `ready`,
 * whose first group is the server's `http://` URL.
 */
export async function startServer(command: string, args: readonly string[], cwd: string, ready: RegExp): Promise<ProjectServer> {
  const child = spawn(command, args, { cwd, env: outsiderEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  let url: string;
  try {
    const printed = waitFor(() => ready.exec(stdout)?.[1], { timeoutMs: 30_000, message: `${command} ${args.join(' ')} printed ${ready}` });
    printed.catch(() => {}); // when the process exits first
    url = await Promise.race([printed, exited.then(() => Promise.reject(new Error(`${command} ${args.join(' ')} exited with ${child.exitCode ?? child.signalCode}`)))]);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
  return { child, url, wsUrl: url.replace(/^http/, 'ws').replace(/\/$/, ''), stdout: () => stdout, output: () => `${stdout}${stderr}`, stop };
}

/** The packages npm installed in `project` (from node_modules/.package-lock.json), by name. */
export async function installedPackages(project: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(project, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, { link?: boolean }> };
  return Object.keys(lock.packages)
    .filter((key) => key.startsWith('node_modules/'))
    .map((key) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
}

/** Bytes of every file under `dir` (symbolic links counted as themselves, not followed). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(path);
    else total += (await lstat(path)).size;
  }
  return total;
}

/** The nearest ancestor of `dir` (itself excluded) holding a node_modules or package.json, if any. */
export function enclosingProject(dir: string): string | undefined {
  for (let d = dirname(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules')) || existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return undefined;
  }
}
