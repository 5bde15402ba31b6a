/**
 * Runs a `commander` program the way the `switchboard` command runs: usage help after an error,
 * and the exit codes of its header (0 done, help or version; 1 failed at run time; 2 usage
 * error). For apps that ship their own command next to it (the demo's `switchboard-demo`).
 */
import type { Command, CommanderError } from 'commander';

/**
 * Commander's own usage errors exit 1 by default; ours exit 2, as most Unix tools do for bad usage.
 * Help and version (exit code 0) and the subcommands' own `error()` calls keep their codes.
 */
function exitCodeOf(err: CommanderError): number {
  if (err.exitCode === 0) return 0;
  return err.code.startsWith('commander.') ? 2 : err.exitCode;
}

/**
 * Parses `argv` with `program` and runs the chosen subcommand. `program` and each of its
 * subcommands print their usage after an error and exit 2 for a usage error (unknown option or
 * command, missing argument), 0 after `--help` or `--version`, and with their own code when an
 * action calls `command.error(message, { exitCode })`.
 * @param argv - default `process.argv` (node and script first, as commander expects).
 * @returns once the action finished; what it throws or rejects with, as is.
 */
export async function runCommandLine(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  program.showSuggestionAfterError();
  for (const command of [program, ...program.commands]) {
    command.showHelpAfterError('(run with --help for usage)');
    command.exitOverride((err) => {
      process.exit(exitCodeOf(err));
    });
  }
  await program.parseAsync([...argv]);
}
