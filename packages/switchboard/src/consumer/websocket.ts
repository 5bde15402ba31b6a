/**
 * `WebsocketConsumer`: one instance per connection, as in Channels. Frames, layer events and the
 * disconnect are handled one at a time, in arrival order; a group event is a plain method call
 * when the consumer is idle (no promise, no allocation per recipient: DESIGN.md §7).
 */
import type { Logger } from '../logging.js';
import { CloseCode } from '../close-codes.js';
import type { ConnectionHandle } from '../connection.js';
import { ConsumerStateError, RateLimitedError, SwitchboardError } from '../errors.js';
import { RateLimiter } from '../middleware/rate-limit.js';
import { RateLimitedWarnings } from '../rate-limited-warnings.js';
import type { HistoryStore } from '../history/history-store.js';
import { HISTORY_FRAME_TYPE, parseSince, SINCE_PARAM, type HistoryFrame, type HistoryPosition } from '../history/position.js';
import { groupSendWithHistory, type HistoryGroupSendResult } from '../history/publish.js';
import { channelCapacityFor, DEFAULT_LAYER_OPTIONS, type ChannelLayer, type ChannelReceiver, type LayerMessage } from '../layers/channel-layer.js';
import type { RouteKwargs, Scope } from '../scope.js';
import { handlerNameFor } from './handler-name.js';

/** What the framework gives a consumer at construction. Subclass constructors pass it through. */
export interface ConsumerInit<K extends RouteKwargs = RouteKwargs> {
  readonly scope: Scope<K>;
  /** This connection's address on the layer (`specific.<id>!<id>`); `''` without a layer. */
  readonly channelName: string;
  readonly channelLayer: ChannelLayer | null;
  readonly connection: ConnectionHandle;
  readonly logger: Logger;
  /** The server's history store (`ServerOptions.history`); absent or `null` without one. */
  readonly history?: HistoryStore | null;
}

/** Result of {@link WebsocketConsumer.recoverHistory}. */
export interface HistoryRecoveryResult extends HistoryPosition {
  /** The position the client sent; `null` for an empty `since=` or an unreadable value. */
  readonly since: HistoryPosition | null;
  /** `true` when the client's missed events were dispatched (always `false` without `since`). */
  readonly recovered: boolean;
  /** How many missed events were dispatched. */
  readonly missed: number;
}

/** A frame from the client: exactly one of `text` and `bytes` is set. */
export interface ReceivedFrame {
  readonly text?: string;
  readonly bytes?: Buffer;
}

/** A consumer class, as routes take it. */
export interface ConsumerClass<K extends RouteKwargs = RouteKwargs> {
  new (init: ConsumerInit<K>): WebsocketConsumer<K>;
  readonly prototype: WebsocketConsumer<K>;
}

/** Internal hooks the lifecycle driver calls; not part of the public API. */
export const kStart = Symbol('switchboard.consumer.start');
export const kFrame = Symbol('switchboard.consumer.frame');
export const kClosed = Symbol('switchboard.consumer.closed');
export const kDone = Symbol('switchboard.consumer.done');
export const kLayerEvent = Symbol('switchboard.consumer.layerEvent');

type State = 'connecting' | 'open' | 'closing' | 'closed';

/** Queue items other than layer events (events are queued as the message object itself). */
class Control {
  constructor(
    readonly kind: 'connect' | 'recover' | 'frame' | 'disconnect' | 'fail',
    readonly frame?: ReceivedFrame,
    readonly code?: number,
    /** For `fail`: the error that closes the connection once the items before it ran. */
    readonly error?: SwitchboardError,
  ) {}
}

const warnedTypes = new Set<string>();
function warnOnce(logger: Logger, key: string, obj: object, msg: string): void {
  if (warnedTypes.has(key)) return;
  if (warnedTypes.size < 10_000) warnedTypes.add(key);
  logger.warn(obj, msg);
}

/**
 * Prototypes whose methods are framework plumbing, never event handlers: `Object.prototype`
 * (so `is.prototype.of` cannot reach `isPrototypeOf`) and the base consumer classes.
 */
const frameworkPrototypes = new Set<object>([Object.prototype]);

/** Marks a base consumer class's prototype as framework code (see {@link findHandler}). */
export function registerFrameworkPrototype(prototype: object): void {
  frameworkPrototypes.add(prototype);
}

/** Per consumer class: handler name → the method, or `null` when it has none. */
const handlerCache = new WeakMap<object, Map<string, ((message: LayerMessage) => unknown) | null>>();

/**
 * The event handler `name` of `consumer`: a method defined on the consumer's own class or a
 * user-written superclass, never one inherited from a framework prototype.
 */
function findHandler(consumer: object, name: string): ((message: LayerMessage) => unknown) | null {
  const proto = Object.getPrototypeOf(consumer) as object;
  let byName = handlerCache.get(proto);
  if (byName === undefined) handlerCache.set(proto, (byName = new Map()));
  let handler = byName.get(name);
  if (handler === undefined) {
    handler = null;
    for (let p: object | null = proto; p !== null && !frameworkPrototypes.has(p); p = Object.getPrototypeOf(p) as object | null) {
      const descriptor = Object.getOwnPropertyDescriptor(p, name);
      if (descriptor !== undefined) {
        handler = typeof descriptor.value === 'function' ? (descriptor.value as (message: LayerMessage) => unknown) : null;
        break;
      }
    }
    byName.set(name, handler);
  }
  // Instance properties (arrow-function fields) count too.
  const own = Object.getOwnPropertyDescriptor(consumer, name)?.value as unknown;
  return typeof own === 'function' ? (own as (message: LayerMessage) => unknown) : handler;
}

/** History store outages: one line per group per 10 s for the whole process, not one per message. */
const historyOutageWarnings = new RateLimitedWarnings();

/** RFC 6455 §7.4: codes a server may send (ws `isValidStatusCode`). */
function isSendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * Base class of WebSocket consumers (Channels `AsyncWebsocketConsumer`).
 *
 * Override `connect()` (default: accept), `receive(frame)`, `disconnect(code)` and handlers for
 * layer events: `{type: 'chat.message'}` calls `chatMessage(event)`. Declare `groups` to join
 * groups before `connect()` runs and leave them at disconnect.
 *
 * @example
 * ```ts
 * class Echo extends WebsocketConsumer {
 *   override receive({ text }: ReceivedFrame) { if (text) this.send(text); }
 * }
 * ```
 */
export class WebsocketConsumer<K extends RouteKwargs = RouteKwargs> {
  /** The connection's scope: path, headers, cookies, session, user, `urlRoute.kwargs`. */
  readonly scope: Scope<K>;
  /** This connection's channel name on the layer. */
  readonly channelName: string;
  /** The channel layer, or `null` when the server runs without one. */
  readonly channelLayer: ChannelLayer | null;
  /** A child logger bound to this connection's path and client. */
  readonly logger: Logger;
  /** Groups joined before `connect()` and left before `disconnect()`. Override as a field. */
  groups: readonly string[] = [];
  /** The server's history store (`ServerOptions.history`), or `null`. */
  readonly history: HistoryStore | null;
  /**
   * The group whose history a reconnecting client recovers (`?since=<epoch>:<offset>`); one of
   * `groups`. Default `null`: no recovery. See {@link WebsocketConsumer.recoverHistory}.
   */
  historyGroup: string | null = null;
  /**
   * Flood protection: at most `limit` frames from the client per `windowMs` (a token bucket, so
   * bursts of `limit` pass), checked before a frame is queued. A refused frame is dropped and
   * given to {@link WebsocketConsumer.onRateLimited} (a JSON consumer answers with an error frame
   * `SB_ERR_RATE_LIMITED`); `maxRefusedFrames` refused in a row close the connection with 4429.
   * Default `null`: no limit. Set as a field, e.g. `{ limit: 20, windowMs: 10_000 }`.
   */
  receiveRateLimit: { readonly limit: number; readonly windowMs: number; readonly maxRefusedFrames?: number } | null = null;

  readonly #connection: ConnectionHandle;
  #rateLimiter: RateLimiter | undefined;
  #refusedInARow = 0;
  #state: State = 'connecting';
  #busy = false;
  #queue: Array<LayerMessage | Control> = [];
  #failed = false;
  #disconnected = false;
  #recovery: Promise<HistoryRecoveryResult | null> | undefined;
  /** After a replay: live events of this epoch up to this offset were in it, and are skipped. */
  #replayedUntil: HistoryPosition | undefined;
  #resolveDone!: () => void;
  /** Settles once `disconnect()` ran and the channel was released. */
  readonly [kDone]: Promise<void> = new Promise((resolve) => {
    this.#resolveDone = resolve;
  });
  readonly #capacity: number;
  readonly #receiver: ChannelReceiver;
  readonly #settled = (): void => {
    this.#busy = false;
    this.#drain();
  };
  readonly #rejected = (err: unknown): void => {
    this.#busy = false;
    this.#fail(err);
    this.#drain();
  };

  constructor(init: ConsumerInit<K>) {
    this.scope = init.scope;
    this.channelName = init.channelName;
    this.channelLayer = init.channelLayer;
    this.logger = init.logger;
    this.history = init.history ?? null;
    this.#connection = init.connection;
    this.#capacity = init.channelLayer === null ? DEFAULT_LAYER_OPTIONS.capacity : channelCapacityFor(init.channelLayer.options, init.channelName);
    this.#receiver = (message) => this.#deliver(message);
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
    if (this.#state !== 'connecting') throw new ConsumerStateError(`accept() called on a connection that is ${this.#state}`);
    if (subprotocol !== undefined && !this.scope.subprotocols.includes(subprotocol)) {
      throw new ConsumerStateError(`accept(${JSON.stringify(subprotocol)}): the client offered ${JSON.stringify(this.scope.subprotocols)}`);
    }
    this.#state = 'open';
    this.#connection.accept(subprotocol);
  }

  /**
   * Sends a frame: a string as text, bytes as binary. Sends after close are dropped.
   * @throws {@link ConsumerStateError} before `accept()`.
   */
  send(data: string | Uint8Array): void {
    if (this.#state !== 'open') {
      if (this.#state === 'connecting') throw new ConsumerStateError('send() before accept(): accept the connection first');
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
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = this.#state === 'connecting' ? 'closed' : 'closing';
    this.#connection.close(code, reason);
  }

  /**
   * Appends `event` to `group`'s history and sends it to the group with its `epoch` and `offset`
   * (see {@link groupSendWithHistory}); a plain `groupSend` when the server has no history store.
   * @throws {@link ConsumerStateError} without a channel layer; what the store and layer throw.
   */
  groupSendWithHistory(group: string, event: LayerMessage): Promise<HistoryGroupSendResult> {
    if (this.channelLayer === null) return Promise.reject(new ConsumerStateError('groupSendWithHistory(): this server has no channel layer'));
    return groupSendWithHistory(this.channelLayer, this.history, group, event, {
      onHistoryUnavailable: (err) =>
        historyOutageWarnings.warn(
          group,
          1,
          { err, group, code: err.code },
          `history of ${JSON.stringify(group)} unreachable: events go out live, without a position, and are not kept for recovery`,
          this.logger,
        ),
    });
  }

  /**
   * The recovery step (DESIGN.md §4): sends a reconnecting client the events of `historyGroup` it
   * missed, then a {@link HistoryFrame}. Runs by itself after `connect()` accepted; call it in
   * `connect()` (after `accept()`, awaited) to act on the result, e.g. load state from a database
   * when `recovered` is `false`. Runs once; later calls resolve with the first result.
   *
   * The client's position comes from `?since=<epoch>:<offset>` (untrusted; an unreadable value
   * counts as not recoverable). The group was joined before `connect()`, so live events that
   * arrive meanwhile queue behind this step (up to the layer's `capacity`); the missed events are
   * dispatched to their handlers (`chatMessage(event)`, with `event.epoch`/`event.offset`) in
   * offset order, and afterwards live events already replayed (offset ≤ the replayed ones) are
   * skipped: no gap, no duplicate. An empty `since=` (a client that has no position yet) gets only
   * the frame with the current position. Without `since`, no store or no `historyGroup` it does
   * nothing and resolves `null`: seed-protocol clients see no extra frame.
   *
   * @throws {@link ConsumerStateError} before `accept()`; what the store throws
   *   ({@link LayerUnavailableError}: the connection then closes with 1011 and the client retries).
   */
  recoverHistory(): Promise<HistoryRecoveryResult | null> {
    this.#recovery ??= this.#recover();
    return this.#recovery;
  }

  /** The client's `since` parameter (`''` when empty), or `null` when it did not ask to recover. */
  #sinceParam(): string | null {
    return this.scope.queryString === '' ? null : new URLSearchParams(this.scope.queryString).get(SINCE_PARAM);
  }

  async #recover(): Promise<HistoryRecoveryResult | null> {
    const group = this.historyGroup;
    const history = this.history;
    const raw = this.#sinceParam();
    if (group === null || history === null || raw === null) return null;
    if (this.#state === 'connecting') throw new ConsumerStateError('recoverHistory() before accept(): accept the connection first');
    const since = parseSince(raw);
    let result: HistoryRecoveryResult;
    if (since === null) {
      const position = await history.position(group);
      result = { ...position, since, recovered: false, missed: 0 };
    } else {
      const recovery = await history.since(group, since);
      let missed = 0;
      if (recovery.recovered) {
        for (const event of recovery.events) {
          if (this.#failed || this.#disconnected) return null;
          const handled = this.#event(event);
          if (handled !== undefined && typeof (handled as Promise<unknown>).then === 'function') await handled;
          missed++;
        }
        this.#replayedUntil = { epoch: recovery.epoch, offset: recovery.offset };
      }
      result = { epoch: recovery.epoch, offset: recovery.offset, since, recovered: recovery.recovered, missed };
    }
    const frame: HistoryFrame =
      raw === '' ? { type: HISTORY_FRAME_TYPE, epoch: result.epoch, offset: result.offset } : { type: HISTORY_FRAME_TYPE, epoch: result.epoch, offset: result.offset, recovered: result.recovered, missed: result.missed };
    this.send(JSON.stringify(frame));
    return result;
  }

  /** Sends through the connection handle (for subclasses that add encodings, e.g. JSON). */
  protected get connection(): ConnectionHandle {
    return this.#connection;
  }

  /** Whether `accept()` has been called and the connection is not closing. */
  protected get isOpen(): boolean {
    return this.#state === 'open';
  }

  // ---- framework side -------------------------------------------------------------------

  /** Joins declared groups, attaches to the layer and runs `connect()`. */
  async [kStart](): Promise<void> {
    if (this.historyGroup !== null && !this.groups.includes(this.historyGroup)) {
      throw new ConsumerStateError(`${this.constructor.name}: historyGroup ${JSON.stringify(this.historyGroup)} is not one of its groups; add it to groups so it is joined before the history is read`);
    }
    const layer = this.channelLayer;
    if (layer && this.channelName) {
      // Events that arrive while joining queue behind connect(), never before accept().
      this.#busy = true;
      try {
        layer.attach(this.channelName, this.#receiver);
        for (const group of this.groups) await layer.groupAdd(group, this.channelName);
      } finally {
        this.#busy = false;
      }
    }
    this.#queue.unshift(new Control('connect'), new Control('recover'));
    this.#drain();
  }

  /** A frame arrived from the socket. */
  [kFrame](frame: ReceivedFrame): void {
    if (this.#failed || this.#disconnected) return;
    if (this.receiveRateLimit !== null && !this.#withinRateLimit()) return;
    this.#enqueue(new Control('frame', frame));
  }

  /** The socket closed (or the handshake was abandoned) with `code`. */
  [kClosed](code: number): void {
    this.#state = 'closed';
    this.#enqueue(new Control('disconnect', undefined, code));
  }

  /**
   * A layer-wide event (`layer.reconnected`): dispatched like a group event to the consumer's
   * handler (`layerReconnected`) when it has one. Without one, a consumer that recovers history
   * (`historyGroup` set, a store on the server, connection open, and a client that asked for
   * recovery with `since`; seed-protocol clients are left alone) closes with 1012: group events
   * published while the layer was cut off never reached it, and a client that reconnects with
   * `since` gets exactly those from the history (Centrifugo's "insufficient state" disconnect;
   * the SDK reconnects after 1012 with jittered backoff, so a whole process does not come back in
   * the same millisecond). Other consumers ignore it without a warning.
   */
  [kLayerEvent](event: LayerMessage): void {
    let name: string;
    try {
      name = handlerNameFor(event.type);
    } catch {
      return;
    }
    if (findHandler(this, name) !== null) {
      this.#deliver(event);
    } else if (event.type === 'layer.reconnected' && this.historyGroup !== null && this.history !== null && this.#state === 'open' && this.#sinceParam() !== null) {
      this.close(CloseCode.SERVICE_RESTART, 'channel layer reconnected: reconnect with since= to recover missed events');
    }
  }

  /** Takes a token for a frame; on refusal tells `onRateLimited`, or closes with 4429. */
  #withinRateLimit(): boolean {
    const { limit, windowMs, maxRefusedFrames = 10 } = this.receiveRateLimit!;
    this.#rateLimiter ??= new RateLimiter({ limit, windowMs, maxKeys: 1 });
    const result = this.#rateLimiter.consume('frames');
    if (result.allowed) {
      this.#refusedInARow = 0;
      return true;
    }
    this.#refusedInARow++;
    if (this.#refusedInARow > maxRefusedFrames) return false; // closing already queued
    const close = this.#refusedInARow === maxRefusedFrames;
    const err = new RateLimitedError(
      close
        ? `${this.#refusedInARow} frames refused in a row (limit ${limit} per ${windowMs} ms); closing`
        : `too many messages: at most ${limit} per ${windowMs} ms; this one was dropped, retry in ${result.retryAfterMs} ms`,
      result.retryAfterMs,
    );
    if (close) {
      // The frames accepted before it still run, in order; then the connection closes with 4429.
      this.#enqueue(new Control('fail', undefined, undefined, err));
    } else if (this.#refusedInARow === 1 || this.#refusedInARow === maxRefusedFrames - 1) {
      // First refusal and last warning: answered; the ones between are dropped silently so a
      // flood does not turn into a flood of error frames.
      this.logger.warn({ code: err.code, refused: this.#refusedInARow }, err.message);
      try {
        this.onRateLimited(err);
      } catch (e) {
        this.#fail(e);
      }
    }
    return false;
  }

  /**
   * Called for a frame refused by `receiveRateLimit` (the first of a run, and the last before the
   * connection would be closed). Default: nothing. `JsonWebsocketConsumer` sends an error frame.
   */
  protected onRateLimited(_err: RateLimitedError): void {}

  #deliver(message: LayerMessage): boolean {
    if (this.#failed || this.#disconnected) return true;
    if (this.#busy) {
      if (this.#queue.length >= this.#capacity) return false;
      this.#queue.push(message);
      return true;
    }
    this.#run(message);
    return true;
  }

  #enqueue(item: Control): void {
    if (this.#busy) this.#queue.push(item);
    else this.#run(item);
  }

  #drain(): void {
    while (!this.#busy && this.#queue.length > 0) this.#run(this.#queue.shift()!);
  }

  #run(item: LayerMessage | Control): void {
    let result: unknown;
    try {
      result = item instanceof Control ? this.#control(item) : this.#event(item);
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (result !== undefined && typeof (result as Promise<unknown>).then === 'function') {
      this.#busy = true;
      (result as Promise<unknown>).then(this.#settled, this.#rejected);
    }
  }

  #control(item: Control): unknown {
    switch (item.kind) {
      case 'connect':
        if (this.#failed || this.#disconnected || this.#state === 'closed') return undefined;
        return this.connect();
      case 'recover':
        if (this.#failed || this.#disconnected || this.#state !== 'open' || this.historyGroup === null) return undefined;
        return this.recoverHistory();
      case 'frame':
        if (this.#failed || this.#disconnected) return undefined;
        return this.receive(item.frame!);
      case 'disconnect':
        return this.#disconnect(item.code!);
      case 'fail':
        throw item.error!;
    }
  }

  #event(message: LayerMessage): unknown {
    if (this.#failed || this.#disconnected) return undefined;
    const replayed = this.#replayedUntil;
    if (replayed !== undefined && message['epoch'] === replayed.epoch && (message['offset'] as number) <= replayed.offset) return undefined;
    let name: string;
    try {
      name = handlerNameFor(message.type);
    } catch (err) {
      warnOnce(this.logger, `invalid:${message.type}`, { err, type: message.type }, `refused event: ${(err as Error).message}`);
      return undefined;
    }
    const handler = findHandler(this, name);
    if (handler === null && message.type === 'websocket.receive') return this.#injectedFrame(message);
    if (handler === null) {
      warnOnce(
        this.logger,
        `${this.constructor.name}:${message.type}`,
        { type: message.type, consumer: this.constructor.name, code: 'SB_ERR_NO_HANDLER' },
        `${this.constructor.name} has no handler ${name}() for event type ${JSON.stringify(message.type)}; event ignored`,
      );
      return undefined;
    }
    return handler.call(this, message);
  }

  /**
   * A `websocket.receive` event sent through the layer: a frame injected by server code, handed
   * to `receive()` like one from the socket (Channels dispatches it to `websocket_receive`, so
   * code that injects frames this way keeps working). `text` must be a string or `bytes` a
   * `Uint8Array` (on a cross-process layer only `text` survives JSON); else it is ignored with a
   * warning. A consumer that defines `websocketReceive(event)` gets the event there instead.
   */
  #injectedFrame(message: LayerMessage): unknown {
    const { text, bytes } = message as { text?: unknown; bytes?: unknown };
    if (typeof text === 'string') return this.receive({ text });
    if (bytes instanceof Uint8Array) return this.receive({ bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    warnOnce(this.logger, `${this.constructor.name}:websocket.receive`, { type: message.type, consumer: this.constructor.name },
      `${this.constructor.name}: a websocket.receive event needs a string "text" or a Uint8Array "bytes"; event ignored`);
    return undefined;
  }

  async #disconnect(code: number): Promise<void> {
    if (this.#disconnected) return;
    this.#disconnected = true;
    this.#queue.length = 0;
    const layer = this.channelLayer;
    try {
      if (layer && this.channelName) {
        for (const group of this.groups) await layer.groupDiscard(group, this.channelName);
      }
      await this.disconnect(code);
    } catch (err) {
      this.logger.error({ err }, `${this.constructor.name}.disconnect() threw`);
    } finally {
      if (layer && this.channelName) {
        await layer.releaseChannel(this.channelName).catch((err: unknown) => this.logger.error({ err }, 'releaseChannel failed'));
      }
      this.#resolveDone();
    }
  }

  #fail(err: unknown): void {
    if (this.#disconnected) {
      this.logger.error({ err }, `${this.constructor.name} failed after disconnect`);
      return;
    }
    if (this.#failed) return;
    this.#failed = true;
    // Drop what is queued, but keep the disconnect so groups are left and the channel released.
    this.#queue = this.#queue.filter((i) => i instanceof Control && i.kind === 'disconnect');
    if (err instanceof SwitchboardError && err.closeCode !== undefined) {
      this.logger.warn({ code: err.code, closeCode: err.closeCode }, `closing connection: ${err.message}`);
      this.#forceClose(err.closeCode, err.code);
    } else {
      this.logger.error({ err }, `${this.constructor.name} handler threw; closing the connection with 1011`);
      this.#forceClose(CloseCode.INTERNAL_ERROR, 'internal error');
    }
  }

  #forceClose(code: number, reason: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = this.#state === 'connecting' ? 'closed' : 'closing';
    this.#connection.close(code, reason);
  }
}

registerFrameworkPrototype(WebsocketConsumer.prototype);
