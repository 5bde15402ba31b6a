#!/usr/bin/env node
/**
 * The demo's command, `switchboard-demo` (its package.json `bin`): `serve` (what `npm start`
 * runs), `send` (seed 002's backend push, short form), `createuser`, `simulate-sensor`. The demo's
 * worker runs on the framework's own command: `switchboard worker --app dist/workers/index.js chat-archive`.
 *
 * Exit codes, every subcommand: 0 done; 1 failed at run time (server or Redis unreachable, port in
 * use); 2 usage error (unknown option, missing argument, bad `--data`, bad names).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runCommandLine } from 'switchboard';
import { createCreateUserCommand } from './createuser.js';
import { createSendCommand } from './send.js';
import { createServeCommand } from './serve.js';
import { createSimulateSensorCommand } from './simulate-sensor.js';

/** The demo's version, from the package.json two levels above `dist/cli/`. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const program = new Command('switchboard-demo')
  .description('The Switchboard demo: the six systems of the seed tutorials')
  .version(packageVersion(), '-V, --version');
for (const command of [createServeCommand(), createSendCommand(), createSimulateSensorCommand(), createCreateUserCommand()]) program.addCommand(command);

await runCommandLine(program);
