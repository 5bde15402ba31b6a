/**
 * `runWorker`: serves named channels with their {@link ChannelConsumer}s (Channels'
 * `manage.py runworker <channel>...`). What the CLI's `switchboard worker` runs.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../logging.js';
import { ConfigError, LayerClosedError } from '../errors.js';
import type { ChannelLayer, LayerMessage } from '../layers/channel-layer.js';
import { silentLogger } from '../logging.js';
import type { ChannelNameRouter } from './channel-name-router.js';
import { kDispatch } from './consumer.js';

/** Options of {@link runWorker}. */
export interface RunWorkerOptions {
  /** The layer to receive from. Across processes this must be a cross-process layer (Redis). */
  layer: ChannelLayer;
  /** Channel name → consumer class. */
  router: ChannelNameRouter;
  /** Channels to serve; each must be in `router`. Default: every channel of the router. */
  channels?: readonly string[];
  /** Start/stop lines, handler errors, missing handlers. Default: silent. */
  logger?: Logger;
  /** Aborting stops the worker once the handlers running at that moment have finished. */
  signal?: AbortSignal;
}

/** First pause after `receive()` fails for a reason other than a closed layer (e.g. Redis down). */
const RETRY_MIN_MS = 100;
/** Longest pause between two failed `receive()` calls. */
const RETRY_MAX_MS = 5_000;

/**
 * Serves `channels` until `signal` aborts or the layer closes, then resolves.
 *
 * Each channel gets one consumer instance and its own loop `await layer.receive(channel)` →
 * handler → next, so the messages of one channel are handled one at a time, in the order the
 * channel yields them, while different channels proceed independently. Several workers (processes)
 * may serve the same channel: each message goes to one of them (the layer's `receive()` contract).
 *
 * - A handler that throws is logged with its stack; the loop goes on with the next message.
 * - On abort, the handlers in flight finish first; a `receive()` still waiting cannot be cancelled
 *   through the layer interface, so a message it yields after the abort is sent back to the channel
 *   (`layer.send`) for the next worker rather than lost (it may then come after newer messages).
 * - {@link LayerClosedError} from `receive()` ends that channel's loop cleanly. Any other failure
 *   (a Redis outage) is logged once per outage and retried with backoff (100 ms doubling to 5 s).
 *
 * @throws {@link ConfigError} (before receiving anything) when `channels` is empty or names a
 *   channel the router has no consumer for.
 */
export async function runWorker(options: RunWorkerOptions): Promise<void> {
  const { layer, router, signal } = options;
  const logger = options.logger ?? silentLogger();
  const channels = [...new Set(options.channels ?? router.channels)];
  if (channels.length === 0) throw new ConfigError('channels', `no channels to serve; name at least one of ${router.channels.join(', ')}`);
  const consumers = channels.map((channel) => {
    const Consumer = router.consumerFor(channel);
    return new Consumer({ channelLayer: layer, channelName: channel, logger: logger.child({ channel }) });
  });
  if (signal?.aborted) return;
  logger.info({ channels }, `worker: receiving on ${channels.join(', ')}`);
  const ends = await Promise.all(consumers.map((consumer) => serveChannel(layer, consumer, signal, consumer.logger)));
  const why = ends.includes('closed') ? 'the channel layer closed' : 'stopped';
  logger.info({ channels }, `worker: ${why}; no longer receiving on ${channels.join(', ')}`);
}

type LoopEnd = 'aborted' | 'closed';

interface ServedConsumer {
  readonly channelName: string;
  [kDispatch](message: LayerMessage): Promise<boolean>;
}

async function serveChannel(layer: ChannelLayer, consumer: ServedConsumer, signal: AbortSignal | undefined, logger: Logger): Promise<LoopEnd> {
  const channel = consumer.channelName;
  let retryMs = 0;
  while (signal?.aborted !== true) {
    let message: LayerMessage | undefined;
    try {
      message = await nextMessage(layer, channel, signal, logger);
    } catch (err) {
      if (err instanceof LayerClosedError) return 'closed';
      if (retryMs === 0) {
        logger.error({ err, channel }, `worker: receive(${JSON.stringify(channel)}) failed; retrying with backoff until it works again`);
      }
      retryMs = Math.min(RETRY_MAX_MS, retryMs === 0 ? RETRY_MIN_MS : retryMs * 2);
      try {
        await delay(retryMs, undefined, signal ? { signal } : undefined);
      } catch {
        return 'aborted';
      }
      continue;
    }
    if (message === undefined) return 'aborted';
    if (retryMs !== 0) {
      logger.info({ channel }, `worker: receiving on ${channel} again`);
      retryMs = 0;
    }
    await consumer[kDispatch](message);
  }
  return 'aborted';
}

/**
 * The next message of `channel`, or `undefined` once `signal` aborts. A message the abandoned
 * `receive()` yields later is handed back to the channel.
 */
function nextMessage(layer: ChannelLayer, channel: string, signal: AbortSignal | undefined, logger: Logger): Promise<LayerMessage | undefined> {
  const pending = layer.receive(channel);
  if (signal === undefined) return pending;
  return new Promise<LayerMessage | undefined>((resolve, reject) => {
    let done = false;
    const onAbort = (): void => {
      done = true;
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (message) => {
        signal.removeEventListener('abort', onAbort);
        if (!done) {
          done = true;
          resolve(message);
          return;
        }
        layer.send(channel, message).then(
          () => logger.info({ channel, type: message.type }, `worker: stopped; message of type ${JSON.stringify(message.type)} sent back to ${channel} for the next worker`),
          (err: unknown) => logger.warn({ err, channel, type: message.type }, `worker: stopped; message of type ${JSON.stringify(message.type)} received after the stop could not be sent back to ${channel} and is lost`),
        );
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!done) {
          done = true;
          reject(err);
        }
      },
    );
  });
}
