/**
 * `npm start`: runs the demo (`node dist/demo/server.js`).
 *
 * Configuration comes from the environment (see `demo/config.ts` and the README); a bad value
 * prints `error: <VARIABLE>: <what to do>` and exits 1 before anything listens. SIGINT/SIGTERM
 * shut down gracefully (sockets closed with 1001, consumers' `disconnect()` awaited, then Fastify
 * and the channel layer closed) and exit 0; a second signal exits at once with 1.
 */
import { ConfigError, createLogger } from 'switchboard';
import { startDemo } from './app.js';
import { loadConfig, type DemoConfig } from './config.js';

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

let config: DemoConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

const logger = createLogger({ level: config.logLevel });

let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  demo = await startDemo(config, { logger });
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') fail(`PORT: ${config.host}:${config.port} is already in use; stop the other process or set PORT to a free port (PORT=0 picks one)`);
  if (code === 'EACCES') fail(`PORT: not allowed to listen on ${config.host}:${config.port}; use a port above 1023`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') fail(`HOST: ${config.host} is not an address of this machine; use HOST=127.0.0.1 or HOST=0.0.0.0`);
  throw err;
}

process.stdout.write(`Switchboard demo on ${demo.url}\n`);
if (demo.apiKey.generated && demo.apiKey.source.kind === 'file') {
  process.stdout.write(`Publish API key (generated, stored in ${demo.apiKey.source.path}; set SWITCHBOARD_API_KEY to choose one): ${demo.apiKey.key}\n`);
}

let stopping = false;
function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    process.stderr.write(`${signal} again: exiting without waiting for connections to close\n`);
    process.exit(1);
  }
  stopping = true;
  logger.info(`${signal}: shutting down (closing connections with 1001); send ${signal} again to force`);
  demo.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
