/**
 * `switchboard serve`: runs the demo app (what `npm start` runs). Flags mirror the environment
 * variables of `demo/config.ts` and override them; the configuration is validated by the demo's
 * `loadConfig`, so a bad value stops the process before anything listens, with a message that
 * names the flag or variable. SIGINT/SIGTERM drain (sockets closed with 1001, consumers'
 * `disconnect()` awaited, then Fastify and the channel layer closed) and exit 0; a second signal
 * exits at once with 1.
 */
import { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { createLogger } from '../logging.js';

/** Flag (commander attribute name) → the environment variable it overrides. */
export const SERVE_FLAGS = [
  { flag: '--port <port>', attribute: 'port', variable: 'PORT', help: 'TCP port, 0 picks a free one (default 8000)' },
  { flag: '--host <host>', attribute: 'host', variable: 'HOST', help: 'interface to listen on (default 127.0.0.1)' },
  { flag: '--channel-layer-url <url>', attribute: 'channelLayerUrl', variable: 'CHANNEL_LAYER_URL', help: 'redis://host:port/db to share groups across processes (default: in-memory)' },
  { flag: '--log-level <level>', attribute: 'logLevel', variable: 'LOG_LEVEL', help: 'trace, debug, info, warn, error, fatal or silent (default info)' },
  { flag: '--max-payload-bytes <bytes>', attribute: 'maxPayloadBytes', variable: 'MAX_PAYLOAD_BYTES', help: 'largest frame a client may send (default 1048576)' },
  { flag: '--heartbeat-interval-ms <ms>', attribute: 'heartbeatIntervalMs', variable: 'HEARTBEAT_INTERVAL_MS', help: 'WebSocket ping interval, 0 disables (default 30000)' },
  { flag: '--max-send-queue-bytes <bytes>', attribute: 'maxSendQueueBytes', variable: 'MAX_SEND_QUEUE_BYTES', help: 'bytes queued for a slow client before it is closed with 1013 (default 4194304)' },
] as const;

/** The environment `loadConfig` reads: `env` with the given flags laid over it. */
export function serveEnvironment(options: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = { ...env };
  for (const { attribute, variable } of SERVE_FLAGS) {
    const value = options[attribute];
    if (typeof value === 'string') merged[variable] = value;
  }
  return merged;
}

/** `PORT: …` → `--port / PORT: …` when the flag set the value. */
function describeConfigError(err: ConfigError, options: Readonly<Record<string, unknown>>): string {
  const row = SERVE_FLAGS.find((f) => f.variable === err.variable);
  if (row === undefined || typeof options[row.attribute] !== 'string') return err.message;
  const prefix = `${err.variable}: `;
  const detail = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  return `${row.flag.split(' ')[0]}: ${detail}`;
}

/** A resolved publish API key, when the running demo exposes one (`RunningDemo.apiKey`). */
function generatedKey(demo: object): { key: string; where: string } | undefined {
  if (!('apiKey' in demo)) return undefined;
  const apiKey = demo.apiKey as { key?: unknown; generated?: unknown; source?: { path?: unknown } } | undefined;
  if (apiKey?.generated !== true || typeof apiKey.key !== 'string') return undefined;
  return { key: apiKey.key, where: typeof apiKey.source?.path === 'string' ? apiKey.source.path : 'data/api-key' };
}

/** The `serve` subcommand. */
export function createServeCommand(): Command {
  const command = new Command('serve').description('start the demo server (the six seed systems); flags override the environment variables');
  for (const { flag, help, variable } of SERVE_FLAGS) command.option(flag, `${help} [$${variable}]`);
  return command.action(async (options: Record<string, unknown>) => {
    const fail = (message: string): void => {
      process.stderr.write(`error: ${message}\n`);
      process.exitCode = 1;
    };
    // Loaded only for `serve`: `send` and `worker` must not pay for Fastify, templates and the demo.
    const [{ loadConfig }, { startDemo }] = await Promise.all([import('../../demo/config.js'), import('../../demo/app.js')]);
    let config;
    try {
      config = loadConfig(serveEnvironment(options, process.env));
    } catch (err) {
      if (err instanceof ConfigError) return fail(describeConfigError(err, options));
      throw err;
    }
    const logger = createLogger({ level: config.logLevel });
    let demo: Awaited<ReturnType<typeof startDemo>>;
    try {
      demo = await startDemo(config, { logger });
    } catch (err) {
      if (err instanceof ConfigError) return fail(describeConfigError(err, options));
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') return fail(`--port / PORT: ${config.host}:${config.port} is already in use; stop the other process or pick a free port (--port 0 picks one)`);
      if (code === 'EACCES') return fail(`--port / PORT: not allowed to listen on ${config.host}:${config.port}; use a port above 1023`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return fail(`--host / HOST: ${config.host} is not an address of this machine; use 127.0.0.1 or 0.0.0.0`);
      throw err;
    }
    process.stdout.write(`Switchboard demo on ${demo.url}\n`);
    const key = generatedKey(demo);
    if (key !== undefined) {
      process.stdout.write(`Publish API key (generated now, shown once; stored in ${key.where}): ${key.key}\n`);
    }

    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
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
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
