/**
 * What every consumer (WebSocket or worker) can send through the channel layer, typed by its
 * event map: `groupSend`, `sendToChannel`, `groupSendWithHistory`. The base of
 * {@link WebsocketConsumer}.
 */
import { ConsumerStateError } from '../errors.js';
import type { HistoryStore } from '../history/history-store.js';
import { groupSendWithHistory, type HistoryGroupSendResult } from '../history/publish.js';
import type { ChannelLayer, GroupSendResult, LayerMessage } from '../layers/channel-layer.js';
import type { Logger } from '../logging.js';
import { RateLimitedWarnings } from '../rate-limited-warnings.js';
import type { AnyLayerEvent, EventMap } from './events.js';
import { registerFrameworkPrototype } from './handlers.js';
import { kLoggerBindings } from './internals.js';

/** History store outages: one line per group per 10 s for the whole process, not one per message. */
const historyOutageWarnings = new RateLimitedWarnings();

/** What {@link LayerMessaging} is built from (a subset of `ConsumerInit`). */
export interface LayerMessagingInit {
  readonly channelName: string;
  readonly channelLayer: ChannelLayer | null;
  readonly logger: Logger;
  /**
   * With these, `logger` is `init.logger.child(loggerBindings)`, made the first time it is used
   * (an idle connection that never logs holds no child logger). Default: `init.logger` as is.
   */
  readonly loggerBindings?: Record<string, unknown>;
  readonly history?: HistoryStore | null;
}

/** Typed sends through the channel layer; `E` is the consumer's event map (see `events.ts`). */
export class LayerMessaging<E extends object = EventMap> {
  /** This connection's channel name on the layer; `''` without a layer. */
  readonly channelName: string;
  /** The channel layer, or `null` when the server runs without one. */
  readonly channelLayer: ChannelLayer | null;
  #logger: Logger;
  #loggerBindings: Record<string, unknown> | undefined;
  #childLogger = false;
  /** The server's history store (`ServerOptions.history`), or `null`. */
  readonly history: HistoryStore | null;

  constructor(init: LayerMessagingInit) {
    this.channelName = init.channelName;
    this.channelLayer = init.channelLayer;
    this.#logger = init.logger;
    this.#loggerBindings = init.loggerBindings;
    this.history = init.history ?? null;
  }

  /** A child logger bound to this connection's path and client (made on first use). */
  get logger(): Logger {
    if (!this.#childLogger) {
      this.#childLogger = true;
      const bindings = this[kLoggerBindings]();
      this.#loggerBindings = undefined;
      if (bindings !== undefined) this.#logger = this.#logger.child(bindings);
    }
    return this.#logger;
  }

  /** The child logger's bindings (`init.loggerBindings`), asked for at the first use of `logger`. */
  [kLoggerBindings](): Record<string, unknown> | undefined {
    return this.#loggerBindings;
  }

  /**
   * Sends `event` to every member of `group` through the channel layer (Channels'
   * `channel_layer.group_send`), typed by the consumer's event map `E` (or `M`): an unknown type
   * or a misspelt field fails `tsc`.
   * @throws {@link ConsumerStateError} when the server has no channel layer; what the layer
   *   throws (`InvalidGroupNameError`, `MessageTooLargeError`, `LayerUnavailableError`).
   */
  groupSend<M extends object = E>(group: string, event: AnyLayerEvent<NoInfer<M>>): Promise<GroupSendResult> {
    return this.#layer('groupSend').groupSend(group, event as LayerMessage);
  }

  /**
   * Sends `event` to one channel (a worker's named channel, or another connection's channel
   * name), typed like {@link WebsocketConsumer.groupSend}.
   * @throws {@link ConsumerStateError} without a channel layer; `ChannelFullError` when full.
   */
  sendToChannel<M extends object = E>(channel: string, event: AnyLayerEvent<NoInfer<M>>): Promise<void> {
    return this.#layer('sendToChannel').send(channel, event as LayerMessage);
  }

  /**
   * Appends `event` to `group`'s history and sends it to the group with its `epoch` and `offset`
   * (see {@link groupSendWithHistory}); a plain `groupSend` when the server has no history store.
   * A store outage sends it live without a position (one warning per group per 10 s).
   * @throws {@link ConsumerStateError} without a channel layer; what the layer throws.
   */
  groupSendWithHistory<M extends object = E>(group: string, event: AnyLayerEvent<NoInfer<M>>): Promise<HistoryGroupSendResult> {
    return groupSendWithHistory(this.#layer('groupSendWithHistory'), this.history, group, event as LayerMessage, {
      onHistoryUnavailable: (err) =>
        historyOutageWarnings.warn(group, 1, { err, group, code: err.code }, `history of ${JSON.stringify(group)} unreachable: events go out live, without a position, and are not kept for recovery`, this.logger),
    });
  }

  #layer(method: string): ChannelLayer {
    if (this.channelLayer === null) throw new ConsumerStateError(`${method}(): this server has no channel layer; give SwitchboardServer a channelLayer`);
    return this.channelLayer;
  }
}

registerFrameworkPrototype(LayerMessaging.prototype);
