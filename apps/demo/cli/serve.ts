/**
 * `switchboard-demo serve`: runs the demo app (what `npm start` runs). Flags mirror the environment
 * variables of `config.ts` and override them; the configuration is validated by the demo's
 * `loadConfig`, so a bad value stops the process before anything listens, with a message that
 * names the flag or variable. SIGINT/SIGTERM drain (sockets closed with 1001, consumers'
 * `disconnect()` awaited, then Fastify and the channel layer closed) and exit 0; a second signal
 * exits at once with 1.
 */
import { Command } from 'commander';

/** Flag (commander attribute name) → the environment variable it overrides. */
export const SERVE_FLAGS = [
  { flag: '--port <port>', attribute: 'port', variable: 'PORT', help: 'TCP port, 0 picks a free one (default 8000)' },
  { flag: '--host <host>', attribute: 'host', variable: 'HOST', help: 'interface to listen on (default 127.0.0.1)' },
  { flag: '--channel-layer-url <url>', attribute: 'channelLayerUrl', variable: 'CHANNEL_LAYER_URL', help: 'redis://host:port/db to share groups across processes (default: in-memory)' },
  { flag: '--log-level <level>', attribute: 'logLevel', variable: 'LOG_LEVEL', help: 'trace, debug, info, warn, error, fatal or silent (default info)' },
  { flag: '--max-payload-bytes <bytes>', attribute: 'maxPayloadBytes', variable: 'MAX_PAYLOAD_BYTES', help: 'largest frame a client may send (default 1048576)' },
  { flag: '--heartbeat-interval-ms <ms>', attribute: 'heartbeatIntervalMs', variable: 'HEARTBEAT_INTERVAL_MS', help: 'WebSocket ping interval, 0 disables (default 30000)' },
  { flag: '--max-send-queue-bytes <bytes>', attribute: 'maxSendQueueBytes', variable: 'MAX_SEND_QUEUE_BYTES', help: 'bytes queued for a slow client before it is closed with 1013 (default 4194304)' },
  { flag: '--database-url <url>', attribute: 'databaseUrl', variable: 'DATABASE_URL', help: 'postgres://… or sqlite:<file> (default: sqlite file under ./data/)' },
  { flag: '--allowed-origins <list>', attribute: 'allowedOrigins', variable: 'ALLOWED_ORIGINS', help: 'comma-separated origins a WebSocket may come from (default: this server\'s own host and port)' },
] as const;
// SECRET_KEY has no flag on purpose: a command line is visible to every user of the machine (ps).

/** The environment `loadConfig` reads: `env` with the given flags laid over it. */
export function serveEnvironment(options: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = { ...env };
  for (const { attribute, variable } of SERVE_FLAGS) {
    const value = options[attribute];
    if (typeof value === 'string') merged[variable] = value;
  }
  return merged;
}

/** The `serve` subcommand. */
export function createServeCommand(): Command {
  const command = new Command('serve').description('start the demo server (the six seed systems); flags override the environment variables');
  for (const { flag, help, variable } of SERVE_FLAGS) command.option(flag, `${help} [$${variable}]`);
  return command.action(async (options: Record<string, unknown>) => {
    // Loaded only for `serve`: `send` must not pay for Fastify, templates and the database.
    const { runDemoServer } = await import('../run-server.js');
    await runDemoServer(serveEnvironment(options, process.env), {
      // Say `--port` rather than `PORT` when the value came from the flag.
      describe: (variable, detail) => {
        const row = SERVE_FLAGS.find((f) => f.variable === variable);
        const name = row !== undefined && typeof options[row.attribute] === 'string' ? row.flag.split(' ')[0]! : variable;
        return `${name}: ${detail}`;
      },
    });
  });
}
