/**
 * Runs the demo as a process: what `npm start` (`node dist/demo/server.js`) and
 * `switchboard serve` both do.
 *
 * Configuration comes from `env` (see `demo/config.ts` and the README); a bad value prints
 * `error: <VARIABLE>: <what to do>` and sets exit code 1 before anything listens. SIGINT/SIGTERM
 * shut down gracefully (sockets closed with 1001, consumers' `disconnect()` awaited, then
 * Fastify, the channel layer and the database closed) and exit 0; a second signal exits at once
 * with 1.
 */
import { closeOnSignals, ConfigError, createLogger } from 'switchboard';
import { startDemo } from './app.js';
import { loadConfig } from './config.js';

/** Options of {@link runDemoServer}. */
export interface RunDemoServerOptions {
  /**
   * Names the setting in an error message; `switchboard serve` uses it to say `--port` when the
   * value came from a flag. `variable` is the environment variable (`PORT`), `detail` the rest.
   * Default: `${variable}: ${detail}`.
   */
  describe?: (variable: string, detail: string) => string;
}

/** `PORT: …` → (variable, detail). */
function split(err: ConfigError): [string, string] {
  const prefix = `${err.variable}: `;
  return [err.variable, err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message];
}

/**
 * Starts the demo from `env` and keeps it running until SIGINT/SIGTERM.
 * Resolves once it listens (or failed: then `process.exitCode` is 1 and the reason is on stderr).
 */
export async function runDemoServer(env: Readonly<Record<string, string | undefined>>, options: RunDemoServerOptions = {}): Promise<void> {
  const describe = options.describe ?? ((variable, detail) => `${variable}: ${detail}`);
  const fail = (message: string): void => {
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = 1;
  };
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return fail(describe(...split(err)));
    throw err;
  }
  // One line per request and WebSocket event in a terminal, JSON lines otherwise (logger.ts).
  const logger = createLogger({ level: config.logLevel });
  let demo: Awaited<ReturnType<typeof startDemo>>;
  try {
    demo = await startDemo(config, { logger });
  } catch (err) {
    if (err instanceof ConfigError) return fail(describe(...split(err)));
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${config.host}:${config.port}`;
    if (code === 'EADDRINUSE') return fail(describe('PORT', `${where} is already in use; stop the other process or pick a free port (0 picks one)`));
    if (code === 'EACCES') return fail(describe('PORT', `not allowed to listen on ${where}; use a port above 1023`));
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return fail(describe('HOST', `${config.host} is not an address of this machine; use 127.0.0.1 or 0.0.0.0`));
    throw err;
  }

  process.stdout.write(`Switchboard demo on ${demo.url}\n`);
  if (demo.apiKey.generated && demo.apiKey.source.kind === 'file') {
    process.stdout.write(`Publish API key (generated, stored in ${demo.apiKey.source.path}; set SWITCHBOARD_API_KEY to choose one): ${demo.apiKey.key}\n`);
  }

  closeOnSignals(demo, logger);
}
