/**
 * The IPC shared by the benchmarks and their child processes: `ask` (one command, one reply),
 * `startChild` (a Node child process on its own CPU core, by `taskset`, where the machine has it)
 * and `serve` (the child's side: a command loop that answers `{ok}` or `{error}`).
 *
 * Pinning: the server under test runs alone on core 0 (`taskset -c 0`), everything that loads it
 * (receivers, senders, the Redis publisher, the runner itself) on core 1, as an independent load
 * generator would. Without `taskset`, or with fewer than 2 cores, or with `BENCH_PIN=0`, children
 * run unpinned; {@link pinning} says which, and the runner prints it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/** A reply from a child: `ok` names it; the rest are its figures. */
export type Reply = { ok?: string; error?: string } & Record<string, unknown>;

/** Sends `msg` to the child and resolves with its reply `{ok}`; rejects on the child's `{error}` or its exit. */
export function ask<R = Reply>(child: ChildProcess, msg: object, ok: string): Promise<R & { ms?: number }> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: Reply): void => {
      if (m.error) {
        cleanup();
        reject(new Error(m.error));
      } else if (m.ok === ok) {
        cleanup();
        resolve(m as R & { ms?: number });
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`child exited (${code}) before answering ${JSON.stringify(msg)}`));
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send(msg);
  });
}

/** Waits for the child's first `{ok}` message (sent unasked, e.g. `ready`). */
export function whenReady<R = Reply>(child: ChildProcess, ok = 'ready'): Promise<R> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Reply): void => {
      if (m.error) reject(new Error(m.error));
      else if (m.ok === ok) resolve(m as R);
      else return;
      child.off('message', onMessage);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready`)));
  });
}

const wantPin = process.env.BENCH_PIN !== '0';
let tasksetWorks: boolean | undefined;
/** Whether children get pinned (checked once, in the runner only: children never start children). */
const hasTaskset = (): boolean =>
  (tasksetWorks ??= wantPin && cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0);

/** How children are placed: `pinned` (server on core 0, load on core 1) or why not. */
export const pinning = (): string =>
  hasTaskset()
    ? 'server pinned to core 0 (taskset -c 0), load generator and runner to core 1'
    : `UNPINNED (${wantPin ? 'no taskset or fewer than 2 cores' : 'BENCH_PIN=0'}): server and load share the cores`;

/** Pins this process (the runner) to the load generator's core, where pinning is on. */
export function pinSelf(): void {
  if (hasTaskset()) spawnSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
}

/**
 * Starts `dist/bench/<script>` (a URL next to this file) as a Node child with an IPC channel, on
 * `core` where pinning is on. `args` go to the script's argv; `execArgv` to Node.
 */
export function startChild(script: string, core: 0 | 1, args: readonly string[] = [], execArgv: readonly string[] = []): ChildProcess {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const node = [...execArgv, file, ...args];
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
  return hasTaskset() ? spawn('taskset', ['-c', String(core), process.execPath, ...node], { stdio }) : spawn(process.execPath, node, { stdio });
}

/** Asks the child to exit and waits until it has (killing it after `ms`). */
export async function stopChild(child: ChildProcess, ms = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ cmd: 'exit' });
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

/** A child's command handler: resolves with its reply (`{ok, ...}`). */
export type Handler = (msg: { cmd: string } & Record<string, unknown>) => Promise<Reply> | Reply;

/** The child's side: answers each command with `handle`'s reply, or `{error}` when it throws. */
export function serve(handle: Handler): void {
  process.on('message', (msg: { cmd: string } & Record<string, unknown>) => {
    Promise.resolve()
      .then(() => handle(msg))
      .then(
        (reply) => process.send!(reply),
        (err: unknown) => process.send!({ error: `${msg.cmd}: ${err instanceof Error ? err.stack ?? err.message : String(err)}` }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}
