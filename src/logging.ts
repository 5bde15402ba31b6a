/**
 * Logging: pino, pretty-printed in a terminal and JSON lines otherwise (pino's own advice:
 * keep JSON in production, prettify only for people).
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** pino level: `trace` | `debug` | `info` | `warn` | `error` | `fatal` | `silent`. Default `info`. */
  level?: string;
  /** Pretty output; default: when stdout is a TTY. */
  pretty?: boolean;
  /** Logger name (appears as `name` in JSON). */
  name?: string;
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/**
 * Creates the process logger.
 * @throws RangeError for an unknown level.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LEVELS.has(level)) throw new RangeError(`unknown log level ${JSON.stringify(level)}; use one of ${[...LEVELS].join(', ')}`);
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  return pino({
    level,
    name: options.name ?? 'switchboard',
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name' } } }
      : {}),
  });
}

/** A logger that drops everything (tests, in-process communicators). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
