/**
 * `switchboard serve <module>`: serves the user's app (Daphne's `daphne module:application`).
 * The module exports what {@link loadApp} accepts; flags override its options. SIGINT/SIGTERM
 * drain (sockets closed with 1001, consumers' `disconnect()` awaited, then the layer closed) and
 * exit 0; a second signal exits at once with 1.
 *
 * Exit codes: 0 stopped by a signal; 1 failed at run time (port in use, Redis unreachable, the
 * module threw); 2 usage error (no such module, nothing usable exported, bad flag value).
 */
import { Command, InvalidArgumentError } from 'commander';
import { closeOnSignals } from './close-on-signals.js';
import { ConfigError } from '../errors.js';
import type { ChannelLayer } from '../layers/channel-layer.js';
import { getChannelLayer } from '../layers/get-channel-layer.js';
import { createLogger, type Logger } from '../logging.js';
import { SwitchboardServer, type ServerOptions } from '../transport/server.js';
import { CliError, loadApp } from './load-app.js';

/** Flags of `serve`, as commander parses them. */
export interface ServeFlags {
  port?: number;
  host?: string;
  channelLayerUrl?: string;
  logLevel?: string;
  allowedOrigins?: string;
}

function port(value: string): number {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('--port must be a whole number from 0 to 65535 (0 picks a free port).');
  return Number(value);
}

/** Runs `serve`; resolves once listening. @throws {@link CliError}. */
export async function runServe(spec: string, flags: ServeFlags, env: NodeJS.ProcessEnv): Promise<{ server: SwitchboardServer; close(): Promise<void> }> {
  let logger: Logger;
  try {
    logger = createLogger({ level: (flags.logLevel ?? env['LOG_LEVEL'] ?? 'info').trim().toLowerCase() });
  } catch (err) {
    throw new CliError(`--log-level / LOG_LEVEL: ${(err as Error).message}`, 2);
  }
  const { router, options } = await loadApp(spec);
  const merged: ServerOptions = { logger, ...options };
  if (flags.port !== undefined) merged.port = flags.port;
  else if (env['PORT'] !== undefined && env['PORT'] !== '') merged.port = port(env['PORT']);
  if (flags.host !== undefined) merged.host = flags.host;
  else if (env['HOST']) merged.host = env['HOST'];
  if (flags.allowedOrigins !== undefined) merged.allowedOrigins = flags.allowedOrigins.split(',').map((s) => s.trim()).filter(Boolean);
  let ownLayer: ChannelLayer | undefined;
  if (merged.channelLayer === undefined || flags.channelLayerUrl !== undefined) {
    try {
      ownLayer = await getChannelLayer({ url: flags.channelLayerUrl ?? env['CHANNEL_LAYER_URL'], variable: flags.channelLayerUrl !== undefined ? '--channel-layer-url' : 'CHANNEL_LAYER_URL' });
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, err.message.includes('npm install') ? 2 : 1);
      throw err;
    }
    merged.channelLayer = ownLayer;
  }
  let server: SwitchboardServer;
  try {
    server = new SwitchboardServer(router, merged);
  } catch (err) {
    await ownLayer?.close();
    if (err instanceof RangeError || err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  let address;
  try {
    address = await server.listen();
  } catch (err) {
    await ownLayer?.close();
    const code = (err as NodeJS.ErrnoException).code;
    const where = `${merged.host ?? '127.0.0.1'}:${merged.port ?? 8000}`;
    if (code === 'EADDRINUSE') throw new CliError(`${where} is already in use; stop the other process or pick another --port (0 picks a free one)`, 1);
    if (code === 'EACCES') throw new CliError(`not allowed to listen on ${where}; use a port above 1023`, 1);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CliError(`${merged.host} is not an address of this machine; use 127.0.0.1 or 0.0.0.0`, 1);
    throw err;
  }
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  process.stdout.write(`Switchboard serving ${spec} on http://${host}:${address.port}/\n`);
  return {
    server,
    async close() {
      await server.close();
      await ownLayer?.close();
    },
  };
}

/** The `serve` subcommand. */
export function createServeCommand(): Command {
  return new Command('serve')
    .description('serve your app: a module exporting a ProtocolTypeRouter, a URLRouter, a consumer class, or { application, ...serverOptions }')
    .argument('<module>', 'your app module, e.g. ./dist/app.js, or ./dist/app.js:exportName')
    .option('--port <port>', 'TCP port, 0 picks a free one (default $PORT, else the module\'s, else 8000)', port)
    .option('--host <host>', 'interface to listen on (default $HOST, else 127.0.0.1)')
    .option('--channel-layer-url <url>', 'redis://host:port/db to share groups across processes (default $CHANNEL_LAYER_URL, else the module\'s layer, else in-memory)')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (default $LOG_LEVEL, else info)')
    .option('--allowed-origins <list>', 'comma-separated origins that may open WebSockets besides this server\'s own host; * turns the check off')
    .action(async (spec: string, flags: ServeFlags) => {
      let running;
      try {
        running = await runServe(spec, flags, process.env);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        process.stderr.write(`error: ${err.message}\n`);
        process.exitCode = err.exitCode;
        return;
      }
      closeOnSignals(running, running.server.logger);
    });
}
