/**
 * Every scenario server by name, loaded on demand: a server process imports only its own
 * scenario's module (bench/server-host.ts starts one scenario per process), so a `ws` loop's
 * process never loads Socket.IO or Switchboard.
 */
import type { StartServer } from './types.js';

const modules: Array<[prefix: RegExp, load: () => Promise<Record<string, StartServer>>]> = [
  [/^(bare|framed)/, async () => (await import('./ws-loops.js')).wsScenarios],
  [/^socketio/, async () => (await import('./socketio.js')).socketIoScenarios],
  [/^sb-/, async () => (await import('./switchboard.js')).switchboardScenarios],
];

/** The scenario `name`'s server; throws a RangeError for an unknown name. */
export async function loadScenario(name: string): Promise<StartServer> {
  const entry = modules.find(([prefix]) => prefix.test(name));
  const start = entry && (await entry[1]())[name];
  if (!start) throw new RangeError(`unknown scenario ${name}`);
  return start;
}

export type { Hosted, Protocol, ScenarioOptions, StartServer } from './types.js';
