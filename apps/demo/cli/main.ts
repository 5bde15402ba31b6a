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
import { Command, CommanderError } from 'commander';
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

/**
 * Commander's own usage errors exit 1 by default; ours exit 2, as most Unix tools do for bad usage.
 * Help and version (exit code 0) and the subcommands' own `error()` calls keep their codes.
 */
function exitCodeOf(err: CommanderError): number {
  if (err.exitCode === 0) return 0;
  return err.code.startsWith('commander.') ? 2 : err.exitCode;
}

const program = new Command('switchboard-demo')
  .description('The Switchboard demo: the six systems of the seed tutorials')
  .version(packageVersion(), '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .showSuggestionAfterError();

for (const command of [createServeCommand(), createSendCommand(), createSimulateSensorCommand(), createCreateUserCommand()]) {
  program.addCommand(command.showHelpAfterError('(run with --help for usage)'));
}
for (const command of [program, ...program.commands]) {
  command.exitOverride((err) => {
    process.exit(exitCodeOf(err));
  });
}

await program.parseAsync(process.argv);
