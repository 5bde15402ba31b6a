/**
 * Idle memory per connection: `PROFILE_CLIENTS` (5,000) idle WebSocket connections to a bare `ws`
 * server (argv[2] `bare`) or to a Switchboard `JsonWebsocketConsumer` in one group
 * (`switchboard`), clients in a native child process. Prints RSS and V8 heap per connection
 * (after a full GC, the difference between before and after connecting) and, with
 * `SNAPSHOT=1`, what the heap gained per connection by object kind (two heap snapshots,
 * diffed by node type and constructor name: count and bytes per connection).
 *
 * Run with `node --expose-gc dist/bench/profile/idle-memory.js switchboard`.
 */
import { writeHeapSnapshot } from 'node:v8';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { JsonWebsocketConsumer, type LayerMessage } from 'switchboard';
import { ask, startReceivers, tell } from './ipc.js';
import { bareServer, switchboardServer } from './servers.js';

const mode = process.argv[2] ?? 'switchboard';
const CLIENTS = Number(process.env.PROFILE_CLIENTS ?? 5000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

class LobbyConsumer extends JsonWebsocketConsumer {
  override groups = ['lobby'];
  chatMessage(e: LayerMessage): void {
    this.sendJson(e.payload);
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    gc!();
  }
}

interface Kind { count: number; bytes: number }

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Highest node id of the previous snapshot: nodes above it are new (for RETAINERS). */
let lastMaxId = 0;

/**
 * Self sizes and counts by `type:name` of a heap snapshot (the snapshot format of V8's DevTools).
 * With `RETAINERS=<type:name>` (e.g. `closure:`), also prints who holds the new nodes of that kind.
 */
function heapByKind(): Map<string, Kind> {
  const file = writeHeapSnapshot(`/tmp/idle-memory.${process.pid}.${Date.now()}.heapsnapshot`);
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  rmSync(file);
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const idAt = fields.indexOf('id');
  const out = new Map<string, Kind>();
  const keyOf = (i: number): string => {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const name = type === 'object' || type === 'closure' || type === 'native' ? snapshot.strings[snapshot.nodes[i + nameAt]!]! : '';
    return `${type}:${name.slice(0, 60)}`;
  };
  let maxId = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const key = keyOf(i);
    const kind = out.get(key) ?? { count: 0, bytes: 0 };
    kind.count++;
    kind.bytes += snapshot.nodes[i + sizeAt]!;
    out.set(key, kind);
    // Embedder (native, synthetic) nodes have ids of their own range: only V8 objects count.
    if (!key.startsWith('native') && !key.startsWith('synthetic')) maxId = Math.max(maxId, snapshot.nodes[i + idAt]!);
  }
  const wanted = process.env.RETAINERS;
  if (wanted !== undefined && lastMaxId > 0) {
    const edgeWidth = snapshot.snapshot.meta.edge_fields.length;
    const edgeTypes = snapshot.snapshot.meta.edge_types[0];
    const countAt = fields.indexOf('edge_count');
    const holders = new Map<string, { count: number; bytes: number }>();
    let fresh = 0;
    for (let i = 0; i < snapshot.nodes.length; i += width) if (keyOf(i) === wanted && snapshot.nodes[i + idAt]! > lastMaxId) fresh++;
    console.log(`new ${wanted}: ${fresh} (ids above ${lastMaxId})`);
    let e = 0;
    for (let i = 0; i < snapshot.nodes.length; i += width) {
      for (let k = 0; k < snapshot.nodes[i + countAt]!; k++, e += edgeWidth) {
        const to = snapshot.edges[e + 2]!;
        if (keyOf(to) !== wanted || snapshot.nodes[to + idAt]! <= lastMaxId) continue;
        const edgeType = edgeTypes[snapshot.edges[e]!]!;
        const edgeName = edgeType === 'element' || edgeType === 'hidden' ? String(snapshot.edges[e + 1]) : snapshot.strings[snapshot.edges[e + 1]!]!;
        const holder = `${keyOf(i)} --${edgeType}:${edgeName.slice(0, 40)}-->`;
        const held = holders.get(holder) ?? { count: 0, bytes: 0 };
        held.count++;
        held.bytes += snapshot.nodes[to + sizeAt]!;
        holders.set(holder, held);
      }
    }
    console.log(`retainers of new ${wanted}: ${holders.size} kinds`);
    for (const [holder, { count, bytes }] of [...holders].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25)) {
      console.log(`  held ${String(count).padStart(6)}× ${String(bytes).padStart(9)} B  ${holder} ${wanted}`);
    }
  }
  lastMaxId = maxId;
  return out;
}

async function main(): Promise<void> {
  const child = startReceivers();
  const url = mode === 'bare' ? (await bareServer()).url : (await switchboardServer(LobbyConsumer, { heartbeat: true })).url;
  // Warm the code paths with a few connections first (compiled code is not per connection).
  await ask(child, { cmd: 'open', url, count: 50 }, 'open');
  await settle();
  // The first snapshot's counts wait in a file: a Map of them held meanwhile would be in the
  // second snapshot (thousands of kinds, a hash table of 100+ KB) and counted as connections' heap.
  const beforeFile = `/tmp/idle-memory.${process.pid}.before.json`;
  if (process.env.SNAPSHOT === '1') writeFileSync(beforeFile, JSON.stringify([...heapByKind()]));
  await settle();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const heapTotal0 = process.memoryUsage().heapTotal;
  const external0 = process.memoryUsage().external + process.memoryUsage().arrayBuffers;
  await ask(child, { cmd: 'open', url, count: CLIENTS }, 'open');
  await settle();
  const m = process.memoryUsage();
  const perConnection = (bytes: number): number => Math.round(bytes / CLIENTS);
  console.log(
    JSON.stringify({ mode, connections: CLIENTS, rssPerConnection: perConnection(m.rss - rss0), heapPerConnection: perConnection(m.heapUsed - heap0), heapTotalPerConnection: perConnection(m.heapTotal - heapTotal0), externalPerConnection: perConnection(m.external + m.arrayBuffers - external0) }),
  );
  if (process.env.SNAPSHOT === '1') {
    const after = heapByKind();
    const before = new Map(JSON.parse(readFileSync(beforeFile, 'utf8')) as Array<[string, Kind]>);
    rmSync(beforeFile);
    const rows: Array<[string, number, number]> = [];
    for (const [key, kind] of after) {
      const was = before.get(key) ?? { count: 0, bytes: 0 };
      const bytes = (kind.bytes - was.bytes) / CLIENTS;
      if (Math.abs(bytes) >= 8) rows.push([key, (kind.count - was.count) / CLIENTS, bytes]);
    }
    rows.sort((a, b) => b[2] - a[2]);
    for (const [key, count, bytes] of rows.slice(0, 40)) console.log(`${bytes.toFixed(0).padStart(6)} B  ${count.toFixed(2).padStart(6)} objects  ${key}`);
  }
  tell(child, { cmd: 'exit' });
  process.exit(0);
}

void main();
