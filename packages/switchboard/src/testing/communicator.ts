/**
 * `WebsocketCommunicator`: drives a consumer in-process, without sockets (Channels
 * `channels.testing.WebsocketCommunicator`, Phoenix `ChannelTest`). Routing, middleware and the
 * consumer lifecycle are the real ones; only the socket is replaced.
 */
import type { Logger } from '../logging.js';
import type { ConnectionHandle, PreparedMessage } from '../connection.js';
import { startConsumer } from '../consumer/lifecycle.js';
import { kClosed, kDone, kFrame, type WebsocketConsumer } from '../consumer/websocket.js';
import { HandshakeRejectedError } from '../errors.js';
import type { HistoryStore } from '../history/history-store.js';
import type { ChannelLayer } from '../layers/channel-layer.js';
import { InMemoryChannelLayer } from '../layers/in-memory.js';
import { defaultLogger } from '../logging.js';
import { asApplication, type WebsocketApplication, type WebsocketTarget } from '../routing/application.js';
import { ProtocolTypeRouter } from '../routing/protocol-type-router.js';
import { createScope } from '../scope.js';

/** Options for a {@link WebsocketCommunicator}. */
export interface CommunicatorOptions {
  /** Request headers (e.g. `cookie`, `origin`). */
  headers?: Record<string, string>;
  /** Subprotocols offered. */
  subprotocols?: string[];
  /** Layer the consumer gets. Default: one in-memory layer shared by all communicators of the process. */
  channelLayer?: ChannelLayer | null;
  /** History store the consumer gets as `this.history`. Default `null`. */
  history?: HistoryStore | null;
  /**
   * Logger for the consumer. Default: the server's default, pino at level `warn`, so a handler
   * that throws shows its stack (pass `silentLogger()` to a test that provokes warnings on purpose).
   */
  logger?: Logger;
  /** Remote address in the scope. Default `127.0.0.1:40000`. */
  client?: { host: string; port: number };
}

/** Result of {@link WebsocketCommunicator.connect}. */
export interface ConnectResult {
  /** Whether the consumer accepted the handshake. */
  accepted: boolean;
  /** Subprotocol the consumer accepted with, if any. */
  subprotocol?: string;
  /** Close code the consumer refused with (before accept), if it did. */
  closeCode?: number;
  /** HTTP status a real server would answer when refused: 403, 404 (no route), 500, ... */
  status?: number;
}

type Output = { kind: 'text'; text: string } | { kind: 'bytes'; bytes: Uint8Array } | { kind: 'close'; code: number; reason: string };

let sharedLayer: ChannelLayer | undefined;

/** The in-memory layer shared by communicators that were not given one. */
export function defaultTestChannelLayer(): ChannelLayer {
  sharedLayer ??= new InMemoryChannelLayer();
  return sharedLayer;
}

/** A timeout while waiting for output. */
export class CommunicatorTimeoutError extends Error {}

/**
 * A handler of the consumer (or its `connect()`, `disconnect()`) threw: what the next `connect()`,
 * `receive…()` or `disconnect()` rejects with, in the place of the output that would have come
 * next. The thrown error is its `cause`. The connection closes with 1011 as on a real server;
 * the close frame is the next output after this error.
 */
export class ConsumerFailedError extends Error {
  /** The code a real server closes with: 1011. */
  readonly closeCode = 1011;
  constructor(consumer: string, cause: unknown) {
    super(`${consumer}: a handler threw (the connection closes with 1011): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ConsumerFailedError';
  }
}

/** A handler error in the output queue. */
class Failure {
  constructor(readonly error: ConsumerFailedError) {}
}

/**
 * One in-process connection to a consumer or application.
 * @example
 * ```ts
 * const c = new WebsocketCommunicator(router, '/ws/chat/lobby/');
 * assert.equal((await c.connect()).accepted, true);
 * await c.sendJson({ message: 'hi' });
 * assert.deepEqual(await c.receiveJson(), { message: 'hi', username: 'guest-1' });
 * await c.disconnect();
 * ```
 */
export class WebsocketCommunicator {
  readonly #app: WebsocketApplication;
  readonly #path: string;
  readonly #options: CommunicatorOptions;
  readonly #outputs: Array<Output | Failure> = [];
  #waiter: (() => void) | undefined;
  #consumer: WebsocketConsumer | undefined;
  #state: 'new' | 'handshake' | 'open' | 'closed' = 'new';
  #settleConnect: ((r: ConnectResult) => void) | undefined;
  #failConnect: ((err: ConsumerFailedError) => void) | undefined;
  /** A failure after the test's `disconnect()`, for it to reject with. */
  #disconnectFailure: ConsumerFailedError | undefined;
  #closedByTest = false;
  #consumerName = 'the consumer';
  #refusedCode: number | undefined;

  /**
   * @param app - a consumer class, a router, middleware, or a `ProtocolTypeRouter`.
   * @param path - the request path with its query (`/ws/chat/?token=x`), or a full URL
   *   (`ws://testserver/ws/chat/?token=x`); a `#fragment` is dropped, as a client never sends it.
   */
  constructor(app: WebsocketTarget | ProtocolTypeRouter, path: string, options: CommunicatorOptions = {}) {
    if (app instanceof ProtocolTypeRouter) {
      if (!app.websocket) throw new TypeError('WebsocketCommunicator: the ProtocolTypeRouter has no websocket application');
      this.#app = app.websocket;
    } else {
      this.#app = asApplication(app);
    }
    this.#path = path;
    this.#options = options;
  }

  /** The consumer instance, once connected (for assertions on its state). */
  get consumer(): WebsocketConsumer | undefined {
    return this.#consumer;
  }

  /**
   * Runs routing, middleware and `connect()`; resolves when the consumer accepts or refuses.
   * @throws {@link CommunicatorTimeoutError} when it does neither within `timeoutMs` (default 1000).
   * @throws {@link ConsumerFailedError} when `connect()` threw.
   */
  async connect({ timeoutMs = 1000 }: { timeoutMs?: number } = {}): Promise<ConnectResult> {
    if (this.#state !== 'new') throw new Error('connect() called twice');
    this.#state = 'handshake';
    const { rawPath, queryString } = splitRequestTarget(this.#path);
    const headers = { ...(this.#options.headers ?? {}) };
    if (this.#options.subprotocols?.length) headers['sec-websocket-protocol'] = this.#options.subprotocols.join(', ');
    const scope = createScope({
      path: decodeURIComponent(rawPath),
      rawPath,
      queryString,
      headers,
      client: this.#options.client ?? { host: '127.0.0.1', port: 40000 },
      server: { host: '127.0.0.1', port: 8000 },
    });
    let resolved;
    try {
      resolved = await this.#app.resolve(scope);
    } catch (err) {
      this.#state = 'closed';
      if (err instanceof HandshakeRejectedError) return { accepted: false, status: err.status };
      throw err;
    }
    if (!resolved) {
      this.#state = 'closed';
      return { accepted: false, status: 404 };
    }
    this.#consumerName = resolved.consumer.name;
    const result = new Promise<ConnectResult>((resolve, reject) => {
      this.#settleConnect = resolve;
      this.#failConnect = reject;
    });
    const layer = this.#options.channelLayer === undefined ? defaultTestChannelLayer() : this.#options.channelLayer;
    this.#consumer = await startConsumer(resolved, {
      channelLayer: layer,
      connection: this.#handle,
      logger: this.#options.logger ?? defaultLogger(),
      history: this.#options.history ?? null,
    });
    // Refused inside connect(), before the instance was known here: run its disconnect now.
    if (this.#refusedCode !== undefined) this.#consumer[kClosed](this.#refusedCode);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CommunicatorTimeoutError(`connect(): the consumer neither accepted nor closed within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a text frame from the "client". */
  async sendText(text: string): Promise<void> {
    this.#assertOpen('sendText');
    this.#consumer![kFrame]({ text });
  }

  /** Sends a binary frame from the "client". */
  async sendBytes(bytes: Uint8Array): Promise<void> {
    this.#assertOpen('sendBytes');
    this.#consumer![kFrame]({ bytes: Buffer.from(bytes) });
  }

  /** Sends `content` as JSON text. */
  async sendJson(content: unknown): Promise<void> {
    await this.sendText(JSON.stringify(content));
  }

  /**
   * Next output: `{kind: 'text'|'bytes'|'close', ...}`.
   * @throws {@link CommunicatorTimeoutError} after `timeoutMs` (default 1000).
   * @throws {@link ConsumerFailedError} when a handler threw after the outputs read so far (once;
   *   the 1011 close is the output after it). `receiveText`, `receiveJson`, `receiveClose` too.
   */
  async receiveOutput({ timeoutMs = 1000 }: { timeoutMs?: number } = {}): Promise<Output> {
    if (this.#outputs.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#waiter = resolve;
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CommunicatorTimeoutError(`nothing received within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]).finally(() => {
        clearTimeout(timer);
        this.#waiter = undefined;
      });
    }
    const out = this.#outputs.shift()!;
    if (out instanceof Failure) throw out.error;
    return out;
  }

  /** Next text frame. @throws when the next output is a close or binary frame, or on timeout. */
  async receiveText(options?: { timeoutMs?: number }): Promise<string> {
    const out = await this.receiveOutput(options);
    if (out.kind === 'text') return out.text;
    if (out.kind === 'close') throw new Error(`expected a text frame; the consumer closed with ${out.code} ${out.reason}`);
    throw new Error('expected a text frame; got a binary frame');
  }

  /** Next text frame, parsed as JSON. */
  async receiveJson<T = unknown>(options?: { timeoutMs?: number }): Promise<T> {
    return JSON.parse(await this.receiveText(options)) as T;
  }

  /** Waits for the consumer to close; returns `{code, reason}`. Skips frames sent before it. */
  async receiveClose({ timeoutMs = 1000 }: { timeoutMs?: number } = {}): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = await this.receiveOutput({ timeoutMs: Math.max(1, deadline - Date.now()) });
      if (out.kind === 'close') return { code: out.code, reason: out.reason };
    }
  }

  /** Resolves `true` when nothing arrives within `timeoutMs` (default 100), `false` otherwise. */
  async receiveNothing({ timeoutMs = 100 }: { timeoutMs?: number } = {}): Promise<boolean> {
    const first = this.#outputs[0];
    if (first instanceof Failure) {
      this.#outputs.shift();
      throw first.error;
    }
    if (this.#outputs.length > 0) return false;
    let out: Output;
    try {
      out = await this.receiveOutput({ timeoutMs });
    } catch (err) {
      if (err instanceof CommunicatorTimeoutError) return true;
      throw err;
    }
    // Put it back: the caller may want to read it.
    this.#outputs.unshift(out);
    return false;
  }

  /**
   * Closes from the "client" side with `code` and waits for `disconnect()` to finish.
   * @throws {@link ConsumerFailedError} when `disconnect()` threw.
   */
  async disconnect(code = 1000): Promise<void> {
    if (this.#consumer === undefined) return;
    if (this.#state !== 'closed') {
      this.#state = 'closed';
      this.#closedByTest = true;
      this.#consumer[kClosed](code);
    }
    await this.#consumer[kDone];
    // A failure nobody read yet is reported here rather than lost.
    const unread = this.#outputs.findIndex((o) => o instanceof Failure);
    const failure = this.#disconnectFailure ?? (unread === -1 ? undefined : (this.#outputs.splice(unread, 1)[0] as Failure).error);
    this.#disconnectFailure = undefined;
    if (failure !== undefined) throw failure;
  }

  #assertOpen(op: string): void {
    if (this.#state !== 'open') throw new Error(`${op}(): the connection is ${this.#state === 'handshake' ? 'not accepted yet' : this.#state}`);
  }

  #push(output: Output): void {
    this.#outputs.push(output);
    this.#waiter?.();
  }

  #failed(err: unknown): void {
    const failure = new ConsumerFailedError(this.#consumerName, err);
    if (this.#state === 'handshake') {
      this.#failConnect?.(failure);
    } else if (this.#closedByTest) {
      this.#disconnectFailure ??= failure;
    } else {
      this.#outputs.push(new Failure(failure));
      this.#waiter?.();
    }
  }

  readonly #handle: ConnectionHandle = {
    handlerFailed: (err: unknown) => this.#failed(err),
    accept: (subprotocol?: string) => {
      if (this.#state !== 'handshake') return;
      this.#state = 'open';
      this.#settleConnect?.({ accepted: true, ...(subprotocol === undefined ? {} : { subprotocol }) });
    },
    sendText: (text: string) => {
      if (this.#state === 'open') this.#push({ kind: 'text', text });
    },
    sendBytes: (bytes: Uint8Array) => {
      if (this.#state === 'open') this.#push({ kind: 'bytes', bytes });
    },
    sendPrepared: (message: PreparedMessage) => {
      if (this.#state === 'open') this.#push({ kind: 'text', text: message.text });
    },
    close: (code: number, reason?: string) => {
      if (this.#state === 'handshake') {
        this.#state = 'closed';
        this.#settleConnect?.({ accepted: false, closeCode: code, status: code === 1011 ? 500 : 403 });
        if (this.#consumer) this.#consumer[kClosed](code);
        else this.#refusedCode = code;
        return;
      }
      if (this.#state !== 'open') return;
      this.#state = 'closed';
      this.#push({ kind: 'close', code, reason: reason ?? '' });
      // As a real client would: answer the close, which ends in disconnect(code).
      queueMicrotask(() => this.#consumer?.[kClosed](code));
    },
  };
}

/**
 * Splits what the communicator was given, a path (`/ws/chat/?a=1`) or a full URL
 * (`ws://testserver/ws/chat/?a=1#top`), into the path and the query string, as Channels'
 * communicator does with `urlparse`: scheme and authority are dropped, and the fragment, which a
 * client never sends, goes too.
 */
function splitRequestTarget(target: string): { rawPath: string; queryString: string } {
  let rest = target.split('#', 1)[0]!;
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(rest);
  if (authority !== null) rest = `/${rest.slice(authority[0].length).replace(/^\//, '')}`;
  const q = rest.indexOf('?');
  return q === -1 ? { rawPath: rest, queryString: '' } : { rawPath: rest.slice(0, q), queryString: rest.slice(q + 1) };
}
