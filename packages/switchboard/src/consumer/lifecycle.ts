/**
 * Starts a routed consumer: the part of the lifecycle (DESIGN.md §2) shared by the transport and
 * `WebsocketCommunicator`: new channel name → instance → attach + join groups → `connect()`.
 */
import type { Logger } from '../logging.js';
import type { ConnectionHandle } from '../connection.js';
import type { HistoryStore } from '../history/history-store.js';
import type { ChannelLayer } from '../layers/channel-layer.js';
import type { ResolvedConsumer } from '../routing/application.js';
import { kStart, type WebsocketConsumer } from './websocket.js';

/** What the driver supplies to a consumer. */
export interface ConsumerDeps {
  readonly channelLayer: ChannelLayer | null;
  readonly connection: ConnectionHandle;
  readonly logger: Logger;
  /** Bindings of a child of `logger`, made when the consumer first logs. Default none: `logger` as is. */
  readonly loggerBindings?: Record<string, unknown>;
  /** History store consumers reach as `this.history`. Default `null`. */
  readonly history?: HistoryStore | null;
}

/**
 * Creates the consumer for a routed connection and runs it up to `connect()`.
 * @throws whatever the layer or the consumer constructor throws; the caller refuses the handshake.
 */
export async function startConsumer(resolved: ResolvedConsumer, deps: ConsumerDeps): Promise<WebsocketConsumer> {
  const channelName = deps.channelLayer ? await deps.channelLayer.newChannel() : '';
  const consumer = new resolved.consumer({
    scope: resolved.scope,
    channelName,
    channelLayer: deps.channelLayer,
    connection: deps.connection,
    logger: deps.logger,
    ...(deps.loggerBindings === undefined ? {} : { loggerBindings: deps.loggerBindings }),
    history: deps.history ?? null,
    args: resolved.args,
    // No array per connection when no middleware added features (the consumer shares one empty list).
    ...(resolved.features === undefined ? {} : { features: resolved.features }),
  });
  try {
    await consumer[kStart]();
  } catch (err) {
    if (deps.channelLayer) await deps.channelLayer.releaseChannel(channelName).catch(() => undefined);
    throw err;
  }
  return consumer;
}
