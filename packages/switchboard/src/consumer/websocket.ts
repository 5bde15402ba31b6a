/**
 * `WebsocketConsumer`: one instance per connection, as in Channels. Frames, layer events and the
 * disconnect are handled one at a time, in arrival order; a group event is a plain method call
 * when the consumer is idle (no promise, no allocation per recipient: DESIGN.md §7). History
 * recovery, rate limits and presence are features a consumer lists (`feature.ts`), not base code.
 */
import { CloseCode, isSendableCloseCode } from '../close-codes.js';
import type { ConnectionHandle } from '../connection.js';
import { ConsumerStateError, SlowConsumerError, SwitchboardError } from '../errors.js';
import { channelCapacityFor, DEFAULT_LAYER_OPTIONS, type ChannelReceiver, type LayerMessage } from '../layers/channel-layer.js';
import type { RouteKwargs, Scope } from '../scope.js';
import type { EventMap } from './events.js';
import { LayerMessaging } from './layer-messaging.js';
import { acceptsEvent, acceptsFrame, offerLayerEvent, runConnected, runDisconnected, type ConsumerFeature, type FeatureContext } from './feature.js';
import { callHandlerSharingFrames } from './frame-cache.js';
import { findHandler, injectedFrame, registerFrameworkPrototype } from './handlers.js';
import { handlerNameFor } from './handler-name.js';
import { kClosed, kDone, kFrame, kLayerEvent, kLoggerBindings, kStart } from './internals.js';
import { kEvent, kFail, kWork, SerialQueue, type SerialQueueHost, type Work } from './serial-queue.js';
import type { ConsumerClass, ConsumerInit, ConsumerWithArgs, KwargsOf, ReceivedFrame } from './types.js';

export { kClosed, kDone, kFrame, kLayerEvent, kStart } from './internals.js';
export { registerFrameworkPrototype } from './handlers.js';
export type { ConsumerClass, ConsumerInit, ConsumerWithArgs, ReceivedFrame } from './types.js';

/**
 * Where a connection is: `connecting` (handshake pending) → `open` (accepted) → `closing` (close
 * sent) → `closed` (socket gone, disconnect queued) → `done` (`disconnect()` ran). `failed`: a
 * handler threw; nothing more runs but the disconnect.
 */
type Phase = 'connecting' | 'open' | 'closing' | 'failed' | 'closed' | 'done';

const CONNECT: Work = { kind: 'connect' };
const FEATURES: Work = { kind: 'features' };

/** What a consumer declares by default: one frozen empty list shared by all (nothing per connection). */
const NONE: readonly never[] = Object.freeze([]);

/** Events queued behind a busy consumer, at most, per unit of the layer's `capacity`. */
const BACKLOG_PER_CAPACITY = 10;

/**
 * Base class of WebSocket consumers (Channels `AsyncWebsocketConsumer`).
 *
 * Override `connect()` (default: accept), `receive(frame)`, `disconnect(code)` and handlers for
 * layer events: `{type: 'chat.message'}` calls `chatMessage(event)`. Declare `groups` to join
 * groups before `connect()` runs and leave them at disconnect; list `features` to add behaviour.
 *
 * Type parameters: `K` the route's kwargs (`scope.urlRoute.kwargs`), `E` the event map that
 * {@link WebsocketConsumer.groupSend} and the handlers check against (see `events.ts`), `A` the
 * init arguments given with {@link WebsocketConsumer.with}.
 * Example: `class Echo extends WebsocketConsumer { override receive({ text }: ReceivedFrame) { if (text) this.send(text); } }`.
 */
export class WebsocketConsumer<K extends RouteKwargs = RouteKwargs, E extends object = EventMap, A = unknown> extends LayerMessaging<E> implements SerialQueueHost {
  /** The connection's scope: path, headers, cookies, session, user, `urlRoute.kwargs`. */
  readonly scope: Scope<K>;
  /** The init arguments given at routing time with {@link WebsocketConsumer.with}. */
  readonly args: A;
  /** Groups joined before `connect()` and left before `disconnect()`. Override as a field. */
  groups: readonly string[] = NONE;
  /** Features, with hooks run in this order (see `feature.ts`). Override as a field. */
  features: readonly ConsumerFeature[] = NONE;

  readonly #connection: ConnectionHandle;
  readonly #addedFeatures: readonly ConsumerFeature[];
  #phase: Phase = 'connecting';
  readonly #queue: SerialQueue;
  #context: FeatureContext | undefined;
  /** `[kDone]`, made when first asked for (most connections are never waited for). */
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;
  #finished = false;

  constructor(init: ConsumerInit<K, A>) {
    super(init);
    this.scope = init.scope;
    this.args = init.args as A;
    this.#connection = init.connection;
    this.#addedFeatures = init.features ?? NONE;
    const capacity = init.channelLayer === null ? DEFAULT_LAYER_OPTIONS.capacity : channelCapacityFor(init.channelLayer.options, init.channelName);
    this.#queue = new SerialQueue(this, capacity * BACKLOG_PER_CAPACITY);
  }

  /** Settles once `disconnect()` ran and the channel was released. */
  get [kDone](): Promise<void> {
    if (this.#done === undefined) {
      if (this.#finished) this.#done = Promise.resolve();
      else this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    }
    return this.#done;
  }

  /**
   * This class with init arguments, as a route target (Channels' `as_asgi(**initkwargs)`):
   * `path('ws/game/<room>/', DiceConsumer.with({ store }))`. Each connection's consumer gets
   * `args` as `this.args`, typed by the class's third type parameter; no subclass is made.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static with<C extends abstract new (init: never) => WebsocketConsumer<any, any, any>>(this: C, args: InstanceType<C>['args']): ConsumerWithArgs<KwargsOf<InstanceType<C>>> {
    const consumer = this as unknown as ConsumerClass<KwargsOf<InstanceType<C>>>;
    return { consumer, args, resolve: (scope: Scope) => ({ scope, consumer, args }) };
  }

  // ---- lifecycle hooks (override these) -------------------------------------------------

  /** Called once the groups are joined. Default: `accept()`. Not accepting refuses with 403. */
  connect(): void | Promise<void> {
    this.accept();
  }

  /** Called for each frame from the client. `text` and `bytes` come from the client: validate them. */
  receive(_frame: ReceivedFrame): void | Promise<void> {}

  /** Called once after the socket closed and the groups were left. */
  disconnect(_code: number): void | Promise<void> {}

  // ---- actions --------------------------------------------------------------------------

  /**
   * Completes the handshake (HTTP 101).
   * @param subprotocol - one of `scope.subprotocols`.
   * @throws {@link ConsumerStateError} when called twice, after `close()`, or with a subprotocol the
   *   client did not offer.
   */
  accept(subprotocol?: string): void {
    if (this.#phase !== 'connecting') throw new ConsumerStateError(`accept() called on a connection that is ${this.#phase}`);
    if (subprotocol !== undefined && !this.scope.subprotocols.includes(subprotocol)) {
      throw new ConsumerStateError(`accept(${JSON.stringify(subprotocol)}): the client offered ${JSON.stringify(this.scope.subprotocols)}`);
    }
    this.#phase = 'open';
    this.#connection.accept(subprotocol);
  }

  /**
   * Sends a frame: a string as text, bytes as binary. Sends after close are dropped.
   * @throws {@link ConsumerStateError} before `accept()`.
   */
  send(data: string | Uint8Array): void {
    if (this.#phase !== 'open') {
      if (this.#phase === 'connecting') throw new ConsumerStateError('send() before accept(): accept the connection first');
      return;
    }
    if (typeof data === 'string') this.#connection.sendText(data);
    else this.#connection.sendBytes(data);
  }

  /**
   * Closes the connection; before `accept()` this refuses the handshake with HTTP 403.
   * @param code - default 1000; 1000–1014 (not 1004–1006) or 3000–4999 (RFC 6455 §7.4).
   * @param reason - at most 123 bytes of UTF-8; cut beyond.
   * @throws RangeError for a code a server may not send.
   */
  close(code: number = CloseCode.NORMAL, reason?: string): void {
    if (!isSendableCloseCode(code)) throw new RangeError(`close(${code}): use 1000-1014 (not 1004-1006) or 3000-4999 (RFC 6455 §7.4)`);
    this.#closeConnection(code, reason);
  }

  /**
   * Called for a frame refused by a rate-limit feature (`frameRateLimit`): the first refusal of a
   * run and the last before the connection would be closed. Default: nothing;
   * `JsonWebsocketConsumer` answers with an error frame `SB_ERR_RATE_LIMITED`.
   */
  onRateLimited(_err: SwitchboardError): void {}

  /** `init.loggerBindings`, else what the connection names itself by (`{ path, peer }` on the server). */
  override [kLoggerBindings](): Record<string, unknown> | undefined {
    return super[kLoggerBindings]() ?? this.#connection.logBindings?.();
  }

  /** Sends through the connection handle (for subclasses that add encodings, e.g. JSON). */
  protected get connection(): ConnectionHandle {
    return this.#connection;
  }

  /** Whether `accept()` has been called and the connection is not closing. */
  get isOpen(): boolean {
    return this.#phase === 'open';
  }

  // ---- framework side -------------------------------------------------------------------

  /** Joins declared groups, attaches to the layer and runs `connect()`. */
  async [kStart](): Promise<void> {
    if (this.#addedFeatures.length > 0) this.features = [...this.features, ...this.#addedFeatures];
    for (const feature of this.features) feature.attach?.(this.#featureContext());
    const layer = this.channelLayer;
    if (layer && this.channelName) {
      // Events that arrive while joining queue behind connect(), never before accept().
      this.#queue.busy = true;
      try {
        const receiver: ChannelReceiver = (message) => this.#deliver(message);
        layer.attach(this.channelName, receiver);
        for (const group of this.groups) await layer.groupAdd(group, this.channelName);
      } finally {
        this.#queue.busy = false;
      }
    }
    this.#queue.unshift(CONNECT, FEATURES);
    this.#queue.drain();
  }

  /** A frame arrived from the socket. */
  [kFrame](frame: ReceivedFrame): void {
    if (this.#phase === 'failed' || this.#phase === 'done') return;
    if (this.features.length === 0 || acceptsFrame(this.features, frame, this.#featureContext())) this.#queue.push({ kind: 'frame', frame });
  }

  /** The socket closed (or the handshake was abandoned) with `code`. */
  [kClosed](code: number): void {
    if (this.#phase !== 'done') this.#phase = 'closed';
    this.#queue.push({ kind: 'disconnect', code });
  }

  /**
   * A layer-wide event (`layer.reconnected`): dispatched like a group event to the consumer's
   * handler (`layerReconnected`) when it has one, else offered to the features (history recovery
   * closes with 1012 so the client recovers what the outage cost it). Ignored otherwise.
   */
  [kLayerEvent](event: LayerMessage): void {
    let name: string;
    try {
      name = handlerNameFor(event.type);
    } catch {
      return;
    }
    if (findHandler(this, name) !== null) this.#deliver(event);
    else offerLayerEvent(this.features, event, this.#featureContext());
  }

  #featureContext(): FeatureContext {
    this.#context ??= {
      consumer: this as unknown as WebsocketConsumer,
      dispatch: (event) => this.#event(event),
      failAfterQueued: (error) => this.#queue.push({ kind: 'fail', error }),
    };
    return this.#context;
  }

  /** A layer event for this consumer: handled now when idle, else queued (bounded, never dropped silently). */
  #deliver(message: LayerMessage): boolean {
    if (this.#phase === 'failed' || this.#phase === 'done') return true;
    if (!this.#queue.offerEvent(message)) {
      // The client learns it: 1013, reconnect later; history recovery fills the gap.
      this.#fail(new SlowConsumerError(`${this.#queue.waitingEvents} events waiting behind a busy handler; closing so the client reconnects and recovers`));
    }
    return true;
  }

  /** @internal Runs lifecycle work for the serial queue. */
  [kWork](work: Work): unknown {
    const phase = this.#phase;
    if (phase === 'failed' || phase === 'done') return work.kind === 'disconnect' ? this.#disconnect(work.code) : undefined;
    switch (work.kind) {
      case 'connect':
        return phase === 'closed' ? undefined : this.connect();
      case 'features':
        return phase === 'open' && this.features.length > 0 ? runConnected(this.features, this.#featureContext()) : undefined;
      case 'frame':
        return this.receive(work.frame);
      case 'disconnect':
        return this.#disconnect(work.code);
      case 'fail':
        throw work.error;
    }
  }

  /** @internal Runs a layer event's handler for the serial queue. */
  [kEvent](message: LayerMessage): unknown {
    return this.#event(message);
  }

  /** @internal A run of the serial queue threw or rejected. */
  [kFail](err: unknown): void {
    this.#fail(err);
  }

  #event(message: LayerMessage): unknown {
    if (this.#phase === 'failed' || this.#phase === 'done') return undefined;
    if (this.features.length > 0 && !acceptsEvent(this.features, message, this.#featureContext())) return undefined;
    // Channels code injects frames as `websocket.receive` layer events: they reach receive().
    if (message.type === 'websocket.receive' && findHandler(this, 'websocketReceive') === null) return injectedFrame(this, message);
    return callHandlerSharingFrames(this, message);
  }


  async #disconnect(code: number): Promise<void> {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#queue.clear();
    const layer = this.channelLayer;
    const context = this.#featureContext();
    try {
      if (layer && this.channelName) {
        for (const group of this.groups) await layer.groupDiscard(group, this.channelName);
      }
      await runDisconnected(this.features, code, context);
      await this.disconnect(code);
    } catch (err) {
      this.logger.error({ err }, `${this.constructor.name}.disconnect() threw`);
      this.#connection.handlerFailed?.(err);
    } finally {
      if (layer && this.channelName) {
        await layer.releaseChannel(this.channelName).catch((err: unknown) => this.logger.error({ err }, 'releaseChannel failed'));
      }
      this.#finished = true;
      this.#resolveDone?.();
    }
  }

  #fail(err: unknown): void {
    if (this.#phase === 'done') {
      this.logger.error({ err }, `${this.constructor.name} failed after disconnect`);
      return;
    }
    if (this.#phase === 'failed') return;
    const wasOpen = this.#phase === 'open' || this.#phase === 'connecting';
    this.#phase = 'failed';
    // Drop what is queued, but keep the disconnect so groups are left and the channel released.
    this.#queue.clear((work) => work.kind === 'disconnect');
    const closeCode = err instanceof SwitchboardError && err.closeCode !== undefined ? err.closeCode : CloseCode.INTERNAL_ERROR;
    if (closeCode === CloseCode.INTERNAL_ERROR) {
      this.logger.error({ err }, `${this.constructor.name} handler threw; closing the connection with 1011`);
      this.#connection.handlerFailed?.(err);
    } else this.logger.warn({ code: (err as SwitchboardError).code, closeCode }, `closing connection: ${(err as Error).message}`);
    if (wasOpen) this.#connection.close(closeCode, closeCode === CloseCode.INTERNAL_ERROR ? 'internal error' : (err as SwitchboardError).code);
  }

  #closeConnection(code: number, reason?: string): void {
    const phase = this.#phase;
    if (phase !== 'connecting' && phase !== 'open') return;
    this.#phase = phase === 'connecting' ? 'closed' : 'closing';
    this.#connection.close(code, reason);
  }
}

registerFrameworkPrototype(WebsocketConsumer.prototype);
