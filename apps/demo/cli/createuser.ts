/**
 * `switchboard-demo createuser <username>`: adds a demo account from a shell (Django's
 * `createsuperuser`, without the "super"), in the database `DATABASE_URL` names (default: the
 * SQLite file `./data/switchboard.sqlite3`, the server's default; migrations run first).
 *
 * The password comes from standard input with `--password-stdin` (one line; for scripts), else
 * from a prompt on the terminal, typed twice, not echoed. It is never a flag: flags end up in the
 * shell history and in `ps`.
 *
 * Exit codes: 0 created; 1 failed at run time (database unreachable, username taken);
 * 2 usage error (username or password breaking the rules, passwords differing, no terminal to
 * prompt on).
 */
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { ConfigError, SwitchboardError } from 'switchboard';

/** A failure with the exit code it maps to. */
export class CreateUserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'CreateUserError';
  }
}

/** Reads all of standard input; the password is its first line (a trailing CR/LF is dropped). */
async function readStdinPassword(): Promise<string> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += chunk as string;
  return text.split(/\r?\n/)[0] ?? '';
}

/** Asks for the password on the terminal without echoing it. @throws CreateUserError (2) without a terminal. */
async function promptPassword(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CreateUserError('standard input is not a terminal; pipe the password with --password-stdin', 2);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo the prompt, not the keys (readline has no "hidden" mode; muting its writes is the usual way).
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  let muted = false;
  output._writeToOutput = (s: string) => {
    if (!muted) process.stderr.write(s);
  };
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    process.stderr.write('\n');
    rl.close();
  }
}

/** Options of {@link runCreateUser}. */
export interface CreateUserOptions {
  /** Read the password from standard input instead of prompting. */
  passwordStdin?: boolean;
  /** `DATABASE_URL`; default the environment's. */
  databaseUrl?: string;
}

/**
 * Creates the account and returns the line to print.
 * @throws {@link CreateUserError} with the exit code.
 */
export async function runCreateUser(username: string, options: CreateUserOptions): Promise<string> {
  // The demo's database code, loaded only for this command.
  const [{ openDatabase }, users] = await Promise.all([import('../db/database.js'), import('../db/users.js')]);
  try {
    users.validateUsername(username);
  } catch (err) {
    throw new CreateUserError(`<username>: ${(err as Error).message}`, 2);
  }
  let password: string;
  if (options.passwordStdin) {
    password = await readStdinPassword();
  } else {
    password = await promptPassword(`Password for ${username}: `);
    if ((await promptPassword('Password (again): ')) !== password) throw new CreateUserError('the two passwords differ; nothing was created', 2);
  }
  try {
    users.validatePassword(password, username);
  } catch (err) {
    throw new CreateUserError(`password: ${(err as Error).message}`, 2);
  }
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(options.databaseUrl ?? process.env['DATABASE_URL']);
  } catch (err) {
    // A bad URL is usage; an unreachable server is run time. Both are ConfigErrors from openDatabase.
    const usage = err instanceof ConfigError && !/cannot (connect|open)/.test(err.message);
    throw new CreateUserError((err as Error).message, usage ? 2 : 1);
  }
  try {
    const user = await new users.UserRepository(database.db).create(username, password);
    return `created user ${user.username} (id ${user.id}) in ${database.description}`;
  } catch (err) {
    if (err instanceof users.UsernameTakenError) throw new CreateUserError(err.message, 1);
    if (err instanceof SwitchboardError) throw new CreateUserError(err.message, 2);
    throw new CreateUserError(`could not create the user: ${(err as Error).message}`, 1);
  } finally {
    await database.close();
  }
}

/** The `createuser` subcommand. */
export function createCreateUserCommand(): Command {
  return new Command('createuser')
    .description('create a demo account in $DATABASE_URL (default the SQLite file ./data/switchboard.sqlite3)')
    .argument('<username>', '1 to 32 letters, digits, _ . -')
    .option('--password-stdin', 'read the password from standard input (first line) instead of prompting')
    .option('--database-url <url>', 'the database (overrides $DATABASE_URL)')
    .action(async (username: string, options: { passwordStdin?: boolean; databaseUrl?: string }) => {
      try {
        process.stdout.write(`${await runCreateUser(username, options)}\n`);
      } catch (err) {
        if (!(err instanceof CreateUserError)) throw err;
        process.stderr.write(`error: ${err.message}\n`);
        process.exitCode = err.exitCode;
      }
    });
}
