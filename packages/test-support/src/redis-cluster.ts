/**
 * A private Redis Cluster for tests: `masters` redis-server processes with `--cluster-enabled
 * yes` on free ports (each also needs its cluster bus port, port + 10000), joined with
 * `redis-cli --cluster create ... --cluster-yes`, no replicas, no persistence. Stop it with
 * `stop()`, which kills every process by PID and removes its working directory. Needs
 * `redis-server` and `redis-cli` (Redis 7+ for sharded pub/sub) on PATH.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, reachable, stopProcess } from './redis-server.js';

/** A running cluster. */
export interface RedisCluster {
  /** The start-up nodes, as `RedisChannelLayer({cluster: {nodes}})` takes them. */
  readonly nodes: Array<{ host: string; port: number }>;
  /** The redis-server processes, one per master. */
  readonly processes: readonly ChildProcess[];
  /** Kills every process by PID (SIGKILL) and removes the working directory. */
  stop(): Promise<void>;
}

/** The cluster bus of a node listens on its port + 10000 (Redis Cluster specification). */
const BUS_PORT_OFFSET = 10_000;

/** Whether `port` can be listened on right now. */
async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  server.on('error', () => {});
  server.listen(port, '127.0.0.1');
  const [result] = await Promise.race([once(server, 'listening').then(() => [true]), once(server, 'error').then(() => [false])]);
  if (result) {
    server.close();
    await once(server, 'close');
  }
  return result as boolean;
}

/** A free port whose bus port (+10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port + BUS_PORT_OFFSET > 65_535 || taken.has(port) || taken.has(port + BUS_PORT_OFFSET)) continue;
    if (await isFree(port + BUS_PORT_OFFSET)) return port;
  }
  throw new Error('no free port pair (port, port + 10000) for a cluster node after 50 attempts');
}

/** Runs a command to completion; rejects with its output when it exits non-zero. */
async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`);
}

/** Polls every node until `CLUSTER INFO` says `cluster_state:ok` (all slots served), within 20 s. */
async function waitForClusterOk(ports: number[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const port of ports) {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    try {
      await client.connect();
      while (!String(await client.cluster('INFO')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`cluster node ${port} not ok within 20 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      client.disconnect();
    }
  }
}

/**
 * Starts a cluster of `masters` nodes (default 3) and waits until every slot is served.
 * @throws Error when a node does not start or `redis-cli --cluster create` fails (the processes
 *   started so far are stopped first).
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-cluster-'));
  const processes: ChildProcess[] = [];
  const ports: number[] = [];
  // If the test process exits without calling stop() (a crash, a cancelled file), do not leave
  // the servers running: kill them by PID on the way out.
  const onExit = (): void => {
    for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', onExit);
    for (const child of processes) await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < masters; i++) {
      const port = await freeClusterPort(taken);
      taken.add(port).add(port + BUS_PORT_OFFSET);
      ports.push(port);
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '5000', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
        { stdio: 'ignore' },
      );
      child.on('error', () => {});
      processes.push(child);
    }
    const deadline = Date.now() + 10_000;
    for (const port of ports) {
      while (!(await reachable(`redis://127.0.0.1:${port}`))) {
        if (Date.now() > deadline) throw new Error(`cluster node on port ${port} did not answer within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(ports);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), processes, stop };
}
