/**
 * `SwitchboardSocket`: a WebSocket that reconnects, for browsers and (given a `WebSocket`
 * implementation such as `ws`) Node. It decides from the server's close code whether to come
 * back (the table in `close-codes.ts`, shared with the server), waits with backoff and jitter,
 * queues JSON sent while disconnected (bounded), and reports its state. It tracks the last
 * history position it received and reconnects with `?since=` so the server can send what it
 * missed (docs/guide/client.md, docs/architecture.md "History and recovery").
 *
 * Browser-safe: no `node:*` import and no Node global anywhere in this folder's graph (checked by
 * `src/client/tsconfig.json`, which has DOM types only, and by test/client/browser-safe.test.ts).
 */
import { reconnectPolicy } from '../close-codes.js';
import { formatSince, HISTORY_FRAME_TYPE, isHistoryPosition, SINCE_PARAM, type HistoryPosition } from '../history/position.js';
import type { PresenceMeta } from '../wire/presence.js';
import { REPLY_FRAME_TYPE, type ReplyFrame, type RequestMap, type RequestSpec } from '../wire/request.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { PositionTracker } from './position.js';
import { isPresenceFrame, PresenceList, type PresenceChange } from './presence.js';
import { PendingRequests } from './requests.js';

/** Connection states. */
export type SocketState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * An event handler property. Declared as a method so that it is compared bivariantly: the DOM's
 * `WebSocket` (`(ev: MessageEvent) => any`) and `ws`'s (`(event: WebSocket.MessageEvent) => void`)
 * both fit, although their event types are richer than what the client reads.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/**
 * The part of the WHATWG `WebSocket` the client uses: the browser's, Node's global one (Node 22),
 * and `ws`'s `WebSocket` all have it.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A `WebSocket` constructor: `globalThis.WebSocket`, or `WebSocket` from the `ws` package. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** HTTP statuses of a refused handshake after which retrying cannot help. */
const FINAL_STATUSES = new Set([400, 401, 403, 404, 410]);

/** Options for {@link SwitchboardSocket}. */
export interface SwitchboardSocketOptions extends BackoffOptions {
  /** Subprotocols to offer. */
  protocols?: string[];
  /** Messages kept while disconnected; older ones are dropped first. Default 100. */
  maxQueuedMessages?: number;
  /** Delay used for close codes whose policy is "later" (4429). Default 30 000 ms. */
  laterDelayMs?: number;
  /**
   * WebSocket constructor: required where there is no `globalThis.WebSocket` (Node 20: pass
   * `WebSocket` from the `ws` package). Default `globalThis.WebSocket`.
   */
  WebSocketImpl?: WebSocketConstructor;
  /**
   * Connection attempts that never opened, in a row, after which the socket gives up (state
   * `closed`, a `giveup` event). An attempt that opened resets the count. Default `Infinity`.
   */
  maxAttempts?: number;
  /** How long {@link SwitchboardSocket.request} waits for a reply by default. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /**
   * Query parameters added to each connection's URL, read at every (re)connect: e.g. the id of
   * the last message the page has, so the server can continue from its database
   * (`() => ({ after: String(lastId) })`). `undefined` values are left out. Default: none.
   */
  params?: () => Readonly<Record<string, string | undefined>>;
  /**
   * Longest wait before reconnecting while holding a history position, so an outage costs no more
   * than the server's history window can give back. Default 2 000 ms (`maxDelayMs` still applies
   * without a position).
   */
  maxRecoveryDelayMs?: number;
  /**
   * Ask for history recovery: every connection adds `since=<epoch>:<offset>` (the last position
   * received) or an empty `since=` (none yet) to the URL. Endpoints without history ignore it.
   * Default `true`.
   */
  recover?: boolean;
}

type Listener<T> = (value: T) => void;

/**
 * A reconnecting JSON WebSocket.
 *
 * Failures are events, never exceptions: a refused handshake, a server that is down or a broken
 * connection emits `error` then `close`; the socket then reconnects (by the close code's policy in
 * `close-codes.ts`, with backoff) or stops (`giveup`, state `closed`).
 * @example
 * ```js
 * const socket = new SwitchboardSocket(`${location.origin.replace('http', 'ws')}/ws/chat/lobby/`);
 * socket.on('message', (msg) => console.log(msg.username, msg.message));
 * socket.sendJson({ message: 'hi' });
 * ```
 */
export class SwitchboardSocket<R extends { [T in keyof R]: RequestSpec } = RequestMap> {
  readonly url: string;
  #options: SwitchboardSocketOptions;
  #Impl: WebSocketConstructor;
  #ws: WebSocketLike | undefined;
  #state: SocketState = 'connecting';
  /** Reconnects since the last open: the backoff's exponent. */
  #attempt = 0;
  /** Attempts in a row that never opened, for `maxAttempts`. */
  #failures = 0;
  /** Whether the current connection opened (an `error` before that is a handshake failure). */
  #opened = false;
  /** HTTP status of the current attempt's refused handshake, when the implementation tells it. */
  #status: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #queue: Array<{ text: string; requestId?: number }> = [];
  readonly #tracker = new PositionTracker();
  readonly #requests = new PendingRequests();
  readonly #presence = new PresenceList();
  #listeners: { [K in keyof Events]: Set<Listener<Events[K]>> } = {
    message: new Set(),
    open: new Set(),
    close: new Set(),
    state: new Set(),
    recovery: new Set(),
    error: new Set(),
    giveup: new Set(),
    presence: new Set(),
  };

  /**
   * Starts connecting to `url` (`ws:` or `wss:`; relative to the page in a browser).
   * @throws TypeError when there is no WebSocket implementation (Node 20 without `WebSocketImpl`).
   * @throws RangeError for a `maxAttempts` that is not a whole number >= 1 (or `Infinity`).
   * @throws for a malformed URL: `new URL`'s `TypeError`, or the implementation's `SyntaxError`
   *   (browsers, `ws`) for a scheme other than `ws:`/`wss:` (`http:`/`https:` in newer browsers).
   */
  constructor(url: string, options: SwitchboardSocketOptions = {}) {
    this.url = url;
    this.#options = options;
    const Impl = options.WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Impl === undefined) {
      throw new TypeError('SwitchboardSocket: no WebSocket implementation; in Node 20 pass { WebSocketImpl: WebSocket } with WebSocket from the "ws" package');
    }
    const max = options.maxAttempts;
    if (max !== undefined && max !== Infinity && !(Number.isInteger(max) && max >= 1)) {
      throw new RangeError(`SwitchboardSocket: maxAttempts must be a whole number >= 1 or Infinity, got ${String(max)}`);
    }
    this.#Impl = Impl;
    // A malformed URL is the caller's mistake, as for `new WebSocket(url)`: thrown, not retried.
    this.#ws = this.#open(new this.#Impl(this.#connectUrl(), options.protocols));
  }

  /** Current state. */
  get state(): SocketState {
    return this.#state;
  }

  /**
   * The last history position received (`{epoch, offset}` of a message carrying both, or of the
   * server's `switchboard.history` frame), sent as `since` on the next connection; `null` before any.
   */
  get position(): HistoryPosition | null {
    return this.#tracker.position;
  }

  /**
   * Who is here, by presence key (from the server's `presence.state` / `presence.diff` frames of an
   * endpoint with the presence feature): `{ info, connections }` per key. Empty before any.
   */
  get presence(): ReadonlyMap<string, PresenceMeta> {
    return this.#presence.entries;
  }

  /** Subscribes to an event; returns an unsubscribe function. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    this.#listeners[event].add(listener);
    return () => this.#listeners[event].delete(listener);
  }

  /**
   * Sends `content` as JSON now, or when the socket (re)opens: up to `maxQueuedMessages` wait,
   * in order, and the oldest are dropped first. Nothing is sent once the state is `closed`.
   */
  sendJson(content: unknown): void {
    this.#send(JSON.stringify(content));
  }

  /**
   * Sends a request and resolves with the reply's data: the consumer's `on<Type>(data)` handler
   * (`bid.place` → `onBidPlace`) answers it, correlated by id (docs/guide/client.md).
   * Sent now, or when the socket (re)opens.
   * @throws {@link RequestError} (rejects): the server's error reply (`code` from the server, e.g.
   *   `SB_ERR_BAD_REQUEST`), `SB_ERR_TIMEOUT` after `timeoutMs` (default `requestTimeoutMs`,
   *   10 000 ms), `SB_ERR_CONNECTION_LOST` when the connection closed after sending, `SB_ERR_CLOSED`.
   */
  request<T extends keyof R & string>(type: T, data: R[T]['data'], options: { timeoutMs?: number } = {}): Promise<R[T]['reply']> {
    const { id, reply } = this.#requests.create(options.timeoutMs ?? this.#options.requestTimeoutMs ?? 10_000, type);
    if (this.#state === 'closed') this.#requests.connectionLost(true);
    else this.#send(JSON.stringify({ type, requestId: id, data }), id);
    return reply as Promise<R[T]['reply']>;
  }

  #send(text: string, requestId?: number): void {
    if (this.#ws && this.#ws.readyState === 1) {
      this.#ws.send(text);
      if (requestId !== undefined) this.#requests.markSent(requestId);
      return;
    }
    this.#queue.push(requestId === undefined ? { text } : { text, requestId });
    const max = this.#options.maxQueuedMessages ?? 100;
    if (this.#queue.length > max) this.#queue.splice(0, this.#queue.length - max);
  }

  /** Closes for good (no reconnect, no `error` event for an attempt it interrupts). */
  close(code = 1000, reason = ''): void {
    clearTimeout(this.#timer);
    this.#setState('closed');
    this.#requests.connectionLost(true);
    this.#ws?.close(code, reason);
  }

  /** A new attempt: a failure to even construct the socket (the URL was fine before) is final. */
  #connect(): void {
    try {
      this.#ws = this.#open(new this.#Impl(this.#connectUrl(), this.#options.protocols));
    } catch (err) {
      this.#emit('error', { message: (err as Error).message, status: undefined, opened: false });
      this.#setState('closed');
    }
  }

  #open(ws: WebSocketLike): WebSocketLike {
    this.#opened = false;
    this.#status = undefined;
    ws.onerror = (event: unknown) => {
      // After close(): the attempt it cut short is not an error.
      if (this.#ws !== ws || this.#state === 'closed') return;
      // `ws` (Node) says "Unexpected server response: 403"; browsers tell nothing (RFC 6455 §4.1
      // leaves the status to the client, and they hide it from scripts).
      const message = String((event as { message?: unknown }).message ?? (event as { error?: { message?: unknown } }).error?.message ?? 'WebSocket error');
      const status = /server response: (\d{3})/.exec(message)?.[1];
      if (status !== undefined) this.#status = Number(status);
      this.#emit('error', { message, status: this.#status, opened: this.#opened });
    };
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#opened = true;
      this.#attempt = 0;
      this.#failures = 0;
      this.#setState('open');
      this.#emit('open', undefined);
      const queued = this.#queue;
      this.#queue = [];
      for (const { text, requestId } of queued) {
        ws.send(text);
        if (requestId !== undefined) this.#requests.markSent(requestId);
      }
    };
    ws.onmessage = (event: { data: unknown }) => {
      if (typeof event.data !== 'string') return;
      let content: unknown;
      try {
        content = JSON.parse(event.data);
      } catch {
        return;
      }
      if (content !== null && typeof content === 'object') {
        const type = (content as { type?: unknown }).type;
        if (type === HISTORY_FRAME_TYPE) return this.#onHistoryFrame(content);
        if (type === REPLY_FRAME_TYPE) return this.#requests.settle(content as ReplyFrame);
        if (isPresenceFrame(content)) {
          const change = this.#presence.apply(content);
          if (change !== null) this.#emit('presence', change);
          return;
        }
        // A message already received (replayed after a reconnect) is dropped.
        if (isHistoryPosition(content) && !this.#tracker.see(content)) return;
      }
      this.#emit('message', content);
    };
    ws.onclose = (event: { code: number; reason: string }) => {
      if (this.#ws !== ws) return;
      this.#onClose(event.code, event.reason);
    };
    return ws;
  }

  #onClose(code: number, reason: string): void {
    const policy = reconnectPolicy(code);
    const status = this.#status === undefined ? {} : { status: this.#status };
    if (!this.#opened) this.#failures++;
    const refused = this.#status !== undefined && FINAL_STATUSES.has(this.#status);
    const exhausted = !this.#opened && this.#failures >= (this.#options.maxAttempts ?? Infinity);
    const userClosed = this.#state === 'closed';
    if (userClosed || policy === 'no' || refused || exhausted) {
      this.#requests.connectionLost(true);
      this.#emit('close', { code, reason, willReconnect: false, ...status });
      this.#setState('closed');
      if (!userClosed && (refused || exhausted)) this.#emit('giveup', { attempts: this.#failures, ...status });
      return;
    }
    const backoff = this.#tracker.position === null ? this.#options : { ...this.#options, maxDelayMs: Math.min(this.#options.maxDelayMs ?? 20_000, this.#options.maxRecoveryDelayMs ?? 2_000) };
    const delayMs = policy === 'later' ? (this.#options.laterDelayMs ?? 30_000) : policy === 'yes' && this.#attempt === 0 ? 0 : backoffDelay(this.#attempt, backoff);
    this.#attempt++;
    this.#requests.connectionLost(false);
    this.#emit('close', { code, reason, willReconnect: true, delayMs, ...status });
    if ((this.#state as SocketState) === 'closed') return; // a `close` listener called close()
    this.#setState('reconnecting');
    this.#timer = setTimeout(() => this.#connect(), delayMs);
  }

  #connectUrl(): string {
    const params = this.#options.params?.();
    if (this.#options.recover === false && params === undefined) return this.url;
    const base = (globalThis as { location?: { href: string } }).location?.href;
    const url = new URL(this.url, base);
    if (this.#options.recover !== false) {
      const position = this.#tracker.position;
      url.searchParams.set(SINCE_PARAM, position === null ? '' : formatSince(position));
    }
    for (const [name, value] of Object.entries(params ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    return url.href;
  }

  /** The server's answer to `since`: not a message; a `recovery` event when it tried to recover. */
  #onHistoryFrame(frame: object): void {
    if (!isHistoryPosition(frame)) return;
    // Every missed event came before this frame, so its position is where the client stands.
    this.#tracker.reset(frame);
    const { recovered, missed } = frame as { recovered?: unknown; missed?: unknown };
    if (typeof recovered === 'boolean') {
      this.#emit('recovery', { recovered, epoch: frame.epoch, offset: frame.offset, missed: typeof missed === 'number' ? missed : 0 });
    }
  }

  #setState(state: SocketState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit('state', state);
  }

  #emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const l of this.#listeners[event]) l(value);
  }
}

/** Events of a {@link SwitchboardSocket}. */
export interface Events {
  message: unknown;
  open: undefined;
  /**
   * The connection closed. `code` is the close code (1006 when it never opened); `status` the
   * HTTP status of a refused handshake where the implementation reports it (`ws` in Node does,
   * browsers do not). 400, 401, 403, 404 and 410 are final: no reconnect. With `willReconnect`,
   * `delayMs` is the wait before the next attempt (for a "reconnecting in 3 s" notice).
   */
  close: { code: number; reason: string; willReconnect: boolean; delayMs?: number; status?: number };
  /**
   * A WebSocket error: a refused or failed handshake (`opened: false`) or a broken connection.
   * Never thrown; a `close` event follows.
   */
  error: { message: string; status: number | undefined; opened: boolean };
  /**
   * The socket stopped trying (state `closed`): a final handshake status, or `maxAttempts`
   * attempts in a row that never opened. `attempts` counts those failed attempts; `status` is the
   * last one's HTTP status where known. Not emitted after `close()` or a final close code (4403).
   */
  giveup: { attempts: number; status?: number };
  /** The presence list changed (see {@link SwitchboardSocket.presence}): keys that joined and left. */
  presence: PresenceChange;
  state: SocketState;
  /**
   * After a reconnect with a position: `recovered: true` when the messages missed while away were
   * delivered (as `message` events, before this one); `false` when the server could not fill the
   * gap (history lost or too far behind): reload the page's state. `missed` counts the messages
   * delivered; `epoch`/`offset` is the new position.
   */
  recovery: { recovered: boolean; epoch: string; offset: number; missed: number };
}
