/**
 * The demo process's logger: in a terminal, one line per event, as Daphne prints
 * (`[12:00:01] INFO: HTTP GET /chat/ 200 [0.01, 127.0.0.1:50603]`), with an error's stack on the
 * lines below it; JSON lines otherwise (pino's advice: JSON for machines, prettify for people).
 *
 * Why not the framework's `createLogger` as is: its terminal format is pino-pretty with
 * `singleLine` and `hideObject`, and pino-pretty 13 ends no line with that pair (every event runs
 * into the next) and `hideObject` drops `err` with the rest of the fields. Here pino-pretty runs
 * as a stream in this thread, `hideObject` alone, and a `messageFormat` function (which cannot
 * cross into a transport's worker thread) adds the stack back.
 */
import { pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from 'switchboard';
import type { LogLevel } from './config.js';

/** Options of {@link createDemoLogger}. */
export interface DemoLoggerOptions {
  /** pino level. */
  level: LogLevel;
  /** One line per event for people. Default: when stdout is a terminal. */
  pretty?: boolean;
}

/** `msg`, then the error's stack (if the event has one) indented under it. */
function messageWithStack(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey] ?? '');
  const err = log['err'] as { stack?: unknown; message?: unknown } | undefined;
  const detail = typeof err?.stack === 'string' ? err.stack : typeof err?.message === 'string' ? err.message : undefined;
  return detail === undefined ? message : `${message}\n${detail.replace(/^/gm, '    ')}`;
}

/** Creates the logger `npm start` uses (see the module comment). */
export function createDemoLogger(options: DemoLoggerOptions): Logger {
  const prettyOutput = options.pretty ?? Boolean(process.stdout.isTTY);
  const base = { level: options.level, name: 'switchboard' };
  if (!prettyOutput) return pino(base);
  return pino(
    base,
    pretty({
      colorize: Boolean(process.stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,name',
      hideObject: true,
      messageFormat: messageWithStack,
      sync: true,
    }),
  );
}
