/**
 * Logging: pino, pretty-printed in a terminal when `pino-pretty` is installed (an optional peer
 * dependency) and JSON lines otherwise (pino's own advice: keep JSON in production, prettify only
 * for people).
 *
 * {@link Logger} is the one logger type of the framework: the subset of pino's API it calls, so
 * a pino logger, Fastify's `app.log` or any compatible logger can be passed wherever it is asked.
 */
import { createRequire } from 'node:module';
import { pino } from 'pino';

/** One log call: `(fields, message)` or `(message)`, as pino's. */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/**
 * What Switchboard logs through: pino's level methods and `child`. A pino `Logger` and Fastify's
 * `FastifyBaseLogger` (`app.log`) both satisfy it.
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** pino level: `trace` | `debug` | `info` | `warn` | `error` | `fatal` | `silent`. Default `info`. */
  level?: string;
  /**
   * Pretty output (one line per event, through `pino-pretty`). Default: when stdout is a TTY and
   * `pino-pretty` is installed. `true` without `pino-pretty` installed falls back to JSON.
   */
  pretty?: boolean;
  /** Logger name (appears as `name` in JSON). Default `'switchboard'`. */
  name?: string;
}

/** The levels {@link createLogger} accepts. */
export const LOG_LEVELS: readonly string[] = Object.freeze(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

type PrettyFactory = (options: Record<string, unknown>) => NodeJS.WritableStream;

/** `pino-pretty`'s stream factory when it is installed (an optional peer dependency), else `undefined`. */
function loadPretty(): PrettyFactory | undefined {
  try {
    const loaded = createRequire(import.meta.url)('pino-pretty') as PrettyFactory | { default: PrettyFactory };
    return typeof loaded === 'function' ? loaded : loaded.default;
  } catch {
    return undefined;
  }
}

/** `msg`, then the error's stack (if the event has one) indented under it. */
function messageWithStack(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey] ?? '');
  const err = log['err'] as { stack?: unknown; message?: unknown } | undefined;
  const detail = typeof err?.stack === 'string' ? err.stack : typeof err?.message === 'string' ? err.message : undefined;
  return detail === undefined ? message : `${message}\n${detail.replace(/^/gm, '    ')}`;
}

/**
 * Creates a process logger.
 *
 * In a terminal each event is one line, as Daphne prints (`[12:00:01] INFO: HTTP GET /chat/ 200
 * [0.01, 127.0.0.1:50603]`), with an error's stack on the lines below it; JSON lines otherwise.
 * pino-pretty runs as a stream in this thread with `hideObject` and a `messageFormat` function
 * that adds the stack back (a function cannot cross into a transport's worker thread, and
 * pino-pretty 13 ends no line with `singleLine` plus `hideObject`).
 * @throws RangeError for an unknown level (see {@link LOG_LEVELS}).
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new RangeError(`unknown log level ${JSON.stringify(level)}; use one of ${LOG_LEVELS.join(', ')}`);
  const base = { level, name: options.name ?? 'switchboard' };
  const prettyFactory = (options.pretty ?? Boolean(process.stdout.isTTY)) ? loadPretty() : undefined;
  if (prettyFactory === undefined) return pino(base);
  return pino(
    base,
    prettyFactory({ colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name', hideObject: true, messageFormat: messageWithStack, sync: true }),
  );
}

/**
 * The logger a {@link SwitchboardServer} uses when given none: warnings and errors only (a handler
 * that throws shows its stack once; access logs, at `info`, stay quiet), JSON on stderr's peer
 * stdout or pretty in a terminal. Created once per process.
 */
export function defaultLogger(): Logger {
  shared ??= createLogger({ level: 'warn' });
  return shared;
}
let shared: Logger | undefined;

/** A logger that drops everything (benchmarks; tests that assert on logs pass their own). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
