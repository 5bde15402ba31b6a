/**
 * `switchboard worker --app <module> <channel...>`: serves named channels with the app's worker
 * consumers (Channels' `runworker`): the module exports a `ChannelNameRouter` (default export,
 * `module:name`, or `{ application, worker }`). Needs a layer other processes share (Redis): the server's consumers
 * `send` to the channel, the worker `receive`s from it.
 *
 * Exit codes: 0 stopped by SIGINT/SIGTERM; 1 the layer failed (Redis unreachable, closed under
 * the worker); 2 bad arguments (unknown channel, no cross-process layer configured).
 */
import { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { getChannelLayer } from '../layers/get-channel-layer.js';
import { createLogger } from '../logging.js';
import { runWorker } from '../worker/run-worker.js';
import { CliError, loadApp } from './load-app.js';

/** Why a worker needs Redis, for the error when it is not configured. */
export const WORKER_NEEDS_REDIS =
  'a worker needs a channel layer shared with the server: set CHANNEL_LAYER_URL=redis://127.0.0.1:6379/0 (the same as the server\'s) or pass --channel-layer-url. ' +
  'The in-memory layer lives inside one process, so a worker in another process would never see a message sent to its channel.';

/** The `worker` subcommand. */
export function createWorkerCommand(): Command {
  return new Command('worker')
    .description('serve named channels (e.g. thumbnails) with your app\'s worker consumers; needs CHANNEL_LAYER_URL=redis://…')
    .requiredOption('--app <module>', 'your app module exporting a ChannelNameRouter (default export, module:name, or { application, worker })')
    .argument('<channel...>', 'channels to serve, e.g. thumbnails')
    .option('--channel-layer-url <url>', 'the layer shared with the server (overrides $CHANNEL_LAYER_URL)')
    .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent [$LOG_LEVEL]')
    .action(async (channels: string[], options: { app: string; channelLayerUrl?: string; logLevel?: string }) => {
      const fail = (message: string, exitCode: 1 | 2): void => {
        process.stderr.write(`error: ${message}\n`);
        process.exitCode = exitCode;
      };
      const url = (options.channelLayerUrl ?? process.env['CHANNEL_LAYER_URL'] ?? '').trim();
      if (url === '' || url === 'memory://') return fail(WORKER_NEEDS_REDIS, 2);

      let logger;
      try {
        logger = createLogger({ level: (options.logLevel ?? process.env['LOG_LEVEL'] ?? 'info').trim().toLowerCase() });
      } catch (err) {
        return fail(`--log-level / LOG_LEVEL: ${(err as Error).message}`, 2);
      }

      let router;
      try {
        router = (await loadApp(options.app)).worker;
      } catch (err) {
        if (err instanceof CliError) return fail(err.message, err.exitCode);
        throw err;
      }
      if (router === undefined) return fail(`${options.app} exports no ChannelNameRouter; export one (or { application, worker }) to serve worker channels`, 2);
      const unknown = channels.filter((c) => !router.has(c));
      if (unknown.length > 0) {
        return fail(`no worker consumer for ${unknown.map((c) => JSON.stringify(c)).join(', ')}; this app serves ${router.channels.join(', ')}`, 2);
      }

      let layer;
      try {
        layer = await getChannelLayer({ url, variable: options.channelLayerUrl !== undefined ? '--channel-layer-url' : 'CHANNEL_LAYER_URL' });
      } catch (err) {
        if (err instanceof ConfigError) return fail(err.message, 1);
        throw err;
      }
      if (!layer.capabilities.crossProcess) {
        await layer.close();
        return fail(WORKER_NEEDS_REDIS, 2);
      }

      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        if (controller.signal.aborted) {
          process.stderr.write(`${signal} again: exiting without waiting for handlers to finish\n`);
          process.exit(1);
        }
        logger.info(`${signal}: stopping once the running handlers finish; send ${signal} again to force`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await runWorker({ layer, router, channels, logger, signal: controller.signal });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await layer.close();
      }
      if (!controller.signal.aborted) return fail('the channel layer closed under the worker', 1);
    });
}
