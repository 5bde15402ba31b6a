/**
 * The Switchboard server: one `http.Server` for HTTP and WebSocket. HTTP requests go to the HTTP
 * application; `upgrade` requests are routed, given a consumer, and upgraded through `ws` (noServer
 * mode) only when the consumer calls `accept()` (DESIGN.md §2).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logging.js';
import { WebSocketServer } from 'ws';
import { CloseCode } from '../close-codes.js';
import { startConsumer } from '../consumer/lifecycle.js';
import type { HistoryStore } from '../history/history-store.js';
import { kClosed, kDone, kLayerEvent } from '../consumer/websocket.js';
import { ConsumerStateError, HandshakeRejectedError } from '../errors.js';
import type { ChannelLayer } from '../layers/channel-layer.js';
import { defaultLogger } from '../logging.js';
import type { ProtocolTypeRouter } from '../routing/protocol-type-router.js';
import { createScope, type Scope } from '../scope.js';
import { formatPeer, logHttp, logWebsocket } from './access-log.js';
import { HandshakeOriginCheck } from './origin-check.js';
import { abortHandshake, WebsocketConnection, type ConnectionHost } from './connection.js';

/** Server options. Units are in the names. */
export interface ServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; `0` picks a free one. Default `8000`. */
  port?: number;
  /** The channel layer consumers get; `null` for none. Default `null`. */
  channelLayer?: ChannelLayer | null;
  /**
   * Logger for access logs (`info`), warnings and errors (a handler that throws: its stack, once).
   * Default: {@link defaultLogger}, pino at level `warn`, so errors are never silent.
   * Pass `app.log` to share Fastify's logger, or `silentLogger()` to drop everything.
   */
  logger?: Logger;
  /**
   * Origins, besides the server's own, that may open a WebSocket (cross-site WebSocket hijacking,
   * RFC 6455 §10.2). Checked before routing; a refused handshake gets HTTP 403.
   *
   * Always allowed: a handshake whose `Origin` has the host (and port) of its `Host` header, an
   * origin on `localhost`, `127.0.0.1` or `[::1]`, and a handshake without `Origin` (non-browser
   * clients; browsers always send one). `['*']` turns the check off, the explicit opt-out; an
   * opaque `Origin: null` (sandboxed iframe, `file://` page) passes only with `'*'` or `'null'`
   * listed. Patterns as {@link parseOriginPatterns}: `https://example.com`, `.example.com`, ….
   * Default `[]`: only the always-allowed ones.
   * @throws {@link ConfigError} from the constructor for a malformed pattern.
   */
  allowedOrigins?: readonly string[];
  /**
   * Per-group history consumers reach as `this.history` (`groupSendWithHistory`, recovery on
   * reconnect with `?since=`). Default `null`: none. The server does not close it.
   */
  history?: HistoryStore | null;
  /** Largest frame a client may send; larger ones close with 1009 (ws `maxPayload`). Default 1 MiB. */
  maxPayloadBytes?: number;
  /**
   * Bound of a connection's send queue (bytes buffered for a client that is not reading); past it
   * the connection is closed with 1013 and counted. Default 4 MiB.
   */
  maxSendQueueBytes?: number;
  /** Ping interval; a peer that missed the previous ping is dropped. `0` disables. Default 30 s. */
  heartbeatIntervalMs?: number;
  /** A consumer that neither accepts nor closes within this time is refused with 403. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** After sending a close frame, how long to wait for the peer's before cutting. Default 5 s. */
  closeTimeoutMs?: number;
  /** How long `close()` waits for connections to close before terminating them. Default 10 s. */
  shutdownTimeoutMs?: number;
  /**
   * `close()` closes open connections with 1001 this many at a time, so that clients reconnecting
   * to the other processes do not all arrive in the same millisecond (DESIGN.md §6). Default 500.
   */
  drainBatchSize?: number;
  /** Pause between two drain batches. Default 50 ms (10,000 connections drain in about 1 s). */
  drainIntervalMs?: number;
}

/** Counters for metrics. */
export interface ServerStats {
  /** Connections open now. */
  connectionsOpen: number;
  /** Handshakes accepted since start. */
  connectionsAccepted: number;
  /** Handshakes refused (404, 403, 500, ...). */
  handshakesRejected: number;
  /** Connections closed with 1013 because their send queue overflowed. */
  slowClientsClosed: number;
  /** Connections dropped by the heartbeat (no pong). */
  deadPeersDropped: number;
}

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8000,
  maxPayloadBytes: 1_048_576,
  maxSendQueueBytes: 4_194_304,
  heartbeatIntervalMs: 30_000,
  handshakeTimeoutMs: 10_000,
  closeTimeoutMs: 5_000,
  shutdownTimeoutMs: 10_000,
  drainBatchSize: 500,
  drainIntervalMs: 50,
};

function checkOptions(o: typeof DEFAULTS): void {
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    if (key === 'host') continue;
    const v = o[key];
    const min = key === 'port' || key === 'heartbeatIntervalMs' || key === 'drainIntervalMs' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || (key === 'port' && v > 65535)) {
      throw new RangeError(`server option ${key} must be an integer >= ${min}${key === 'port' ? ' and <= 65535' : ''}, got ${String(v)}`);
    }
  }
}

/**
 * A server for a {@link ProtocolTypeRouter}.
 * @example
 * ```ts
 * const server = new SwitchboardServer(new ProtocolTypeRouter({ http: fastify.routing, websocket: router }), { port: 0 });
 * const { port } = await server.listen();
 * ```
 */
export class SwitchboardServer implements ConnectionHost {
  readonly httpServer: Server;
  readonly wss: WebSocketServer;
  readonly stats: ServerStats = { connectionsOpen: 0, connectionsAccepted: 0, handshakesRejected: 0, slowClientsClosed: 0, deadPeersDropped: 0 };
  readonly selectedProtocols = new WeakMap<IncomingMessage, string>();
  readonly maxSendQueueBytes: number;
  readonly closeTimeoutMs: number;
  readonly logger: Logger;
  readonly channelLayer: ChannelLayer | null;
  /** The history store consumers get, or `null`. */
  readonly history: HistoryStore | null;

  readonly #app: ProtocolTypeRouter;
  readonly #origins: HandshakeOriginCheck;
  #listening = false;
  readonly #options: typeof DEFAULTS;
  readonly #connections = new Set<WebsocketConnection>();
  readonly #pending = new Set<WebsocketConnection>();
  #heartbeat: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** Unsubscribes from the layer's layer-wide events. */
  readonly #stopLayerEvents: () => void;

  /** @throws RangeError for an invalid option value. */
  constructor(app: ProtocolTypeRouter, options: ServerOptions = {}) {
    this.#app = app;
    const o = { ...DEFAULTS };
    for (const k of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
      if (options[k] !== undefined) (o as Record<string, unknown>)[k] = options[k];
    }
    checkOptions(o);
    this.#options = o;
    this.maxSendQueueBytes = o.maxSendQueueBytes;
    this.closeTimeoutMs = o.closeTimeoutMs;
    this.logger = options.logger ?? defaultLogger();
    this.#origins = new HandshakeOriginCheck(options.allowedOrigins ?? []);
    this.channelLayer = options.channelLayer ?? null;
    this.history = options.history ?? null;
    // Layer-wide events (`layer.reconnected` after a Redis outage) go to every open consumer.
    this.#stopLayerEvents = this.channelLayer?.onLayerEvent((event) => {
      for (const conn of this.#connections) conn.consumer?.[kLayerEvent](event);
    }) ?? (() => undefined);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxPayloadBytes,
      clientTracking: false,
      perMessageDeflate: false,
      handleProtocols: (_offered, req) => this.selectedProtocols.get(req) ?? false,
    });
    this.httpServer = createServer((req, res) => this.#onRequest(req, res));
    this.httpServer.on('upgrade', this.#upgradeListener);
  }

  readonly #upgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.#onUpgrade(req, socket, head).catch((err: unknown) => {
      this.logger.error({ err }, 'upgrade handling failed');
      abortHandshake(socket, 500);
    });
  };

  /**
   * Serves WebSocket upgrades of an HTTP server that something else owns and listens with:
   * `node:http`'s `createServer()`, Express's `app.listen()`, Fastify's `app.server` (see
   * {@link fastifySwitchboard}). Its `request` events stay with their owner; the router's `http`
   * application is not used. Starts the heartbeat. `close()` then drains the WebSockets and
   * detaches, leaving the HTTP server to its owner. Call it once, instead of {@link listen}.
   * @throws {@link ConsumerStateError} when already listening or attached.
   */
  attach(server: Server): void {
    if (this.#listening) throw new ConsumerStateError('SwitchboardServer.attach(): already listening or attached; create one SwitchboardServer per HTTP server');
    this.#listening = true;
    if (server !== this.httpServer) {
      this.httpServer.off('upgrade', this.#upgradeListener);
      server.on('upgrade', this.#upgradeListener);
      this.#attachedTo = server;
    }
    this.#startHeartbeat();
  }
  #attachedTo: Server | undefined;

  #startHeartbeat(): void {
    if (this.#options.heartbeatIntervalMs > 0) {
      this.#heartbeat = setInterval(() => this.#sweep(), this.#options.heartbeatIntervalMs);
      this.#heartbeat.unref();
    }
  }

  /**
   * Starts listening on `host`:`port`; resolves with the bound address (useful with `port: 0`).
   * @throws {@link ConsumerStateError} when already listening or attached; the `listen` error
   *   (`EADDRINUSE`, `EACCES`) when the port cannot be bound.
   */
  listen(): Promise<{ host: string; port: number }> {
    if (this.#listening) return Promise.reject(new ConsumerStateError('SwitchboardServer.listen(): already listening or attached'));
    this.#listening = true;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.#listening = false;
        reject(err);
      };
      this.httpServer.once('error', onError);
      this.httpServer.listen(this.#options.port, this.#options.host, () => {
        this.httpServer.off('error', onError);
        this.#startHeartbeat();
        const addr = this.httpServer.address() as AddressInfo;
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  /**
   * Graceful shutdown: stop accepting, close sockets with 1001 in batches of `drainBatchSize`
   * every `drainIntervalMs`, wait for them (and the consumers' `disconnect()`) up to
   * `shutdownTimeoutMs` from the start, then cut what is left. Does not close the layer.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#stopLayerEvents();
    const attached = this.#attachedTo;
    attached?.off('upgrade', this.#upgradeListener);
    const listening = attached !== undefined || !this.httpServer.listening ? Promise.resolve() : new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    if (attached === undefined) this.httpServer.closeIdleConnections();
    for (const conn of this.#pending) conn.reject(503, 'server shutting down');
    const open = [...this.#connections];
    const consumersDone = open.map((c) => c.consumer?.[kDone]);
    let timedOut = false;
    const deadline = new Promise<void>((resolve) => {
      setTimeout(() => {
        timedOut = true;
        resolve();
      }, this.#options.shutdownTimeoutMs).unref();
    });
    const { drainBatchSize, drainIntervalMs } = this.#options;
    for (let i = 0; i < open.length && !timedOut; i += drainBatchSize) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, drainIntervalMs));
      for (const conn of open.slice(i, i + drainBatchSize)) conn.close(CloseCode.GOING_AWAY, 'server shutdown');
    }
    await Promise.race([Promise.all(consumersDone), deadline]);
    for (const conn of this.#connections) conn.ws?.terminate();
    if (attached === undefined) this.httpServer.closeAllConnections();
    await Promise.race([listening, deadline]);
  }

  // ---- ConnectionHost --------------------------------------------------------------------

  onOpen(conn: WebsocketConnection): void {
    this.#pending.delete(conn);
    this.#connections.add(conn);
    this.stats.connectionsAccepted++;
    this.stats.connectionsOpen++;
    logWebsocket(this.logger, 'CONNECT', conn.scope.path, conn.peer);
  }

  onReject(conn: WebsocketConnection, status: number, reason: string): void {
    this.#pending.delete(conn);
    this.stats.handshakesRejected++;
    logWebsocket(this.logger, 'REJECT', conn.scope.path, conn.peer, { status, reason });
  }

  onClosed(conn: WebsocketConnection, code: number): void {
    if (this.#connections.delete(conn)) this.stats.connectionsOpen--;
    logWebsocket(this.logger, 'DISCONNECT', conn.scope.path, conn.peer, { code });
  }

  onSlowClient(conn: WebsocketConnection, bufferedBytes: number): void {
    if (conn.state !== 'open') return;
    this.stats.slowClientsClosed++;
    this.logger.warn(
      { path: conn.scope.path, peer: conn.peer, bufferedBytes, limit: this.maxSendQueueBytes },
      `closing slow client ${conn.peer}: ${bufferedBytes} bytes queued (maxSendQueueBytes ${this.maxSendQueueBytes})`,
    );
    conn.close(CloseCode.TRY_AGAIN_LATER, 'send queue full');
  }

  // ---- HTTP and upgrade ------------------------------------------------------------------

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const start = process.hrtime.bigint();
    const peer = formatPeer(req.socket.remoteAddress, req.socket.remotePort);
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      logHttp(this.logger, req.method ?? '?', req.url ?? '', res.statusCode, seconds, peer);
    });
    if (this.#app.http) {
      this.#app.http(req, res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
    }
  }

  async #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', (err) => this.logger.debug({ err }, 'socket error during handshake'));
    const peer = formatPeer(req.socket.remoteAddress, req.socket.remotePort);
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const refuse = (status: number, reason: string, path = rawPath): void => {
      this.stats.handshakesRejected++;
      logWebsocket(this.logger, 'REJECT', path, peer, { status, reason });
      abortHandshake(socket, status);
    };
    if (
      req.method !== 'GET' ||
      req.headers.upgrade?.toLowerCase() !== 'websocket' ||
      !/^[+/0-9A-Za-z]{22}==$/.test(req.headers['sec-websocket-key'] ?? '') ||
      (req.headers['sec-websocket-version'] !== '13' && req.headers['sec-websocket-version'] !== '8')
    ) {
      return refuse(400, 'not a valid WebSocket handshake (RFC 6455 §4.2.1)');
    }
    if (this.#closing) return refuse(503, 'server shutting down');
    const originRefusal = this.#origins.refusal(req.headers);
    if (originRefusal !== undefined) return refuse(403, originRefusal);
    if (!this.#app.websocket) return refuse(404, 'no websocket application');
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return refuse(400, 'malformed percent-encoding in path');
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const scope: Scope = createScope({
      path,
      rawPath,
      queryString: q === -1 ? '' : rawUrl.slice(q + 1),
      headers,
      client: { host: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
      server: { host: req.socket.localAddress ?? '', port: req.socket.localPort ?? 0 },
    });
    logWebsocket(this.logger, 'HANDSHAKING', path, peer);

    let resolved;
    try {
      resolved = await this.#app.websocket.resolve(scope);
    } catch (err) {
      if (err instanceof HandshakeRejectedError) return refuse(err.status, err.message, path);
      this.logger.error({ err, path }, 'routing or middleware threw during the handshake');
      return refuse(500, 'internal error', path);
    }
    if (!resolved) return refuse(404, 'no route', path);
    if (socket.destroyed) return;

    const conn = new WebsocketConnection(this, req, socket, head, resolved.scope);
    this.#pending.add(conn);
    socket.once('close', () => {
      if (conn.state === 'handshake') {
        this.#pending.delete(conn);
        conn.abandon();
      }
    });
    const logger = this.logger.child({ path, peer });
    try {
      conn.consumer = await startConsumer(resolved, { channelLayer: this.channelLayer, connection: conn, logger, history: this.history });
    } catch (err) {
      this.logger.error({ err, path }, 'consumer failed to start');
      conn.reject(500, 'consumer failed to start');
      return;
    }
    if (conn.refusedCode !== undefined) conn.consumer[kClosed](conn.refusedCode);
    if (conn.state === 'handshake') {
      conn.handshakeTimer = setTimeout(() => conn.reject(403, 'handshake timeout: connect() neither accepted nor closed'), this.#options.handshakeTimeoutMs);
      conn.handshakeTimer.unref();
    }
  }

  /** One timer per server sweeps every connection (DESIGN.md §7), not one timer per connection. */
  #sweep(): void {
    for (const conn of this.#connections) {
      if (conn.state !== 'open') continue;
      if (!conn.alive) {
        this.stats.deadPeersDropped++;
        this.logger.info({ path: conn.scope.path, peer: conn.peer }, `dropping dead peer ${conn.peer}: no pong within ${this.#options.heartbeatIntervalMs} ms`);
        conn.ws!.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws!.ping();
    }
  }
}
