/** Every scenario server by name (bench/server-host.ts starts one of them per child process). */
import { socketIoScenarios } from './socketio.js';
import { switchboardScenarios } from './switchboard.js';
import type { StartServer } from './types.js';
import { wsScenarios } from './ws-loops.js';

export const scenarios: Record<string, StartServer> = { ...wsScenarios, ...socketIoScenarios, ...switchboardScenarios };
export type { Hosted, Protocol, ScenarioOptions, StartServer } from './types.js';
