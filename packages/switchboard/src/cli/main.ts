#!/usr/bin/env node
/**
 * The `switchboard` command (package.json `bin`): `serve <module>`, `worker --app <module>`, `send`.
 * It runs the user's app, never the demo (the demo has its own command, `switchboard-demo`).
 *
 * Exit codes, every subcommand: 0 done; 1 failed at run time (server or Redis unreachable, port in
 * use); 2 usage error (unknown option, missing argument, bad `--data`, bad names).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runCommandLine } from './command-line.js';
import { createSendCommand } from './send.js';
import { createServeCommand } from './serve.js';
import { createWorkerCommand } from './worker.js';

/** The package version, from the package.json two levels above `dist/src/cli/`. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const program = new Command('switchboard')
  .description('Switchboard: real-time WebSocket framework in the spirit of Django Channels')
  .version(packageVersion(), '-V, --version');
for (const command of [createServeCommand(), createSendCommand(), createWorkerCommand()]) program.addCommand(command);

await runCommandLine(program);
