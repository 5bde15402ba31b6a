/**
 * The `switchboard` command as a user runs it: a child process in a temporary project whose
 * `node_modules/switchboard` links to this package, so an app module there imports
 * `switchboard` like any installed app (and gets the same module instances as the CLI).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** This package's root (the compiled test lives in dist/test/cli/). */
export const PACKAGE_ROOT = resolve(import.meta.dirname, '../../..');
/** The compiled `switchboard` command. */
export const CLI = join(PACKAGE_ROOT, 'dist/src/cli/main.js');

/** A temporary project outside the repository. */
export interface TempProject {
  dir: string;
  /** Writes `name` (e.g. `app.mjs`) into the project. */
  write(name: string, text: string): void;
  remove(): void;
}

export function tempProject(): TempProject {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules', 'switchboard'), 'dir');
  return {
    dir,
    write: (name, text) => writeFileSync(join(dir, name), text),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A running `switchboard` process whose output is collected. */
export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process exits. */
  exited: Promise<number | null>;
}

/** Starts `switchboard <args>` in `cwd` with `env` added to a clean environment. */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): CliRun {
  return runNode([CLI, ...args], cwd, env);
}

/** Starts `node <args>` (a script of the project, say) in `cwd` with `env` added to a clean environment. */
export function runNode(args: string[], cwd: string, env: Record<string, string> = {}): CliRun {
  const base = { ...process.env };
  for (const name of ['CHANNEL_LAYER_URL', 'PORT', 'HOST', 'LOG_LEVEL', 'SWITCHBOARD_PUBLISH_TOKEN']) delete base[name];
  const child = spawn(process.execPath, args, { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Kills `run` if it still runs (tests' `finally`). */
export async function stopCli(run: CliRun): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await run.exited;
}
