/**
 * The Switchboard server: one `http.Server` for HTTP and WebSocket. HTTP requests go to the HTTP
 * application; `upgrade` requests are routed, given a consumer, and upgraded through `ws` (noServer
 * mode) only when the consumer calls `accept()` (DESIGN.md §2).
 */
import { randomUUID } from 'node:crypto';
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
import type { Scope } from '../scope.js';
import { RateLimitedWarnings } from '../rate-limited-warnings.js';
import { formatPeer, logHttp, logWebsocket } from './access-log.js';
import { ScopeBuilder } from './scope-builder.js';
import { ServerWebSocket } from './server-websocket.js';
import { clientAddress, PendingHandshakes } from './admission.js';
import { HandshakeOriginCheck } from './origin-check.js';
import { abortHandshake, WebsocketConnection, type ConnectionHost } from './connection.js';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './server-options.js';
import { resolveSharedCompression, SharedDeflate, wsDeflateOptions } from './shared-deflate.js';

export type { ServerOptions } from './server-options.js';

/** An `end` listener during the handshake: a client that leaves frees its socket at once. */
function destroySelf(this: Duplex): void {
  this.destroy();
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
  /** Connections closed by the heartbeat (no pong), with 4408. */
  deadPeersDropped: number;
  /** Handshakes answered 503 at `maxConnections` or 429 at `maxPendingHandshakesPerIp`. */
  handshakesOverCapacity: number;
  /** Handshakes refused because they did not finish within `handshakeTimeoutMs`. */
  handshakesTimedOut: number;
  /**
   * Messages deflated with `sharedCompression` on: once per shared message (a group event sent
   * to 1,000 members counts 1), once per compressed one-off send. Always `0` when it is off.
   * Optional in this type (older hand-made stats objects); a server's `stats` always has it.
   */
  messagesCompressed?: number;
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
  readonly stats: ServerStats = { connectionsOpen: 0, connectionsAccepted: 0, handshakesRejected: 0, slowClientsClosed: 0, deadPeersDropped: 0, handshakesOverCapacity: 0, handshakesTimedOut: 0, messagesCompressed: 0 };
  readonly selectedProtocols = new WeakMap<IncomingMessage, string>();
  readonly maxSendQueueBytes: number;
  readonly closeTimeoutMs: number;
  /** The compressor of the `sharedCompression` option (RFC 7692), `null` when it is off. */
  readonly sharedDeflate: SharedDeflate | null;
  readonly logger: Logger;
  readonly channelLayer: ChannelLayer | null;
  /** The history store consumers get, or `null`. */
  readonly history: HistoryStore | null;

  readonly #app: ProtocolTypeRouter;
  readonly #origins: HandshakeOriginCheck;
  #listening = false;
  readonly #options: ResolvedServerOptions;
  readonly #connections = new Set<WebsocketConnection>();
  /** `[kDone]` of consumers whose connection closed and whose `disconnect()` has not finished. */
  readonly #disconnecting = new Set<Promise<void>>();
  /** Connections whose handshake is not answered yet, by socket. */
  readonly #pending = new Map<Duplex, WebsocketConnection>();
  /** Upgrades past their headers and not yet answered: their `handshakeTimeoutMs` timer. */
  readonly #handshakes = new Map<Duplex, NodeJS.Timeout>();
  readonly #pendingPerAddress: PendingHandshakes;
  readonly #capacityWarnings: RateLimitedWarnings;
  #heartbeat: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** Unsubscribes from the layer's layer-wide events. */
  readonly #stopLayerEvents: () => void;

  /** @throws RangeError for an invalid option value. */
  constructor(app: ProtocolTypeRouter, options: ServerOptions = {}) {
    this.#app = app;
    const o = resolveServerOptions(options);
    this.#options = o;
    this.maxSendQueueBytes = o.maxSendQueueBytes;
    this.closeTimeoutMs = o.closeTimeoutMs;
    const compression = resolveSharedCompression(options.sharedCompression);
    this.sharedDeflate = compression === null ? null : new SharedDeflate(compression, this.stats);
    this.logger = options.logger ?? defaultLogger();
    this.#pendingPerAddress = new PendingHandshakes(o.maxPendingHandshakesPerIp);
    this.#capacityWarnings = new RateLimitedWarnings(this.logger);
    this.#origins = new HandshakeOriginCheck(options.allowedOrigins ?? []);
    this.channelLayer = options.channelLayer ?? null;
    this.history = options.history ?? null;
    // Layer-wide events (`layer.reconnected` after a Redis outage) go to every open consumer.
    this.#stopLayerEvents = this.channelLayer?.onLayerEvent((event) => {
      for (const conn of this.#connections) conn.consumer?.[kLayerEvent](event);
    }) ?? (() => undefined);
    this.wss = new WebSocketServer({
      noServer: true,
      WebSocket: ServerWebSocket,
      maxPayload: o.maxPayloadBytes,
      clientTracking: false,
      // Negotiated only for shared compression (shared-deflate.ts): ws inflates what clients
      // send, and we deflate what we send; ws's sender never compresses (frame-writer.ts).
      perMessageDeflate: compression === null ? false : wsDeflateOptions(),
      // Pings are answered by the connection, which closes a ping flood with 4429 instead of
      // ws's silent terminate() past 60 unanswered pongs (docs/close-codes.md).
      autoPong: false,
      handleProtocols: (_offered, req) => this.selectedProtocols.get(req) ?? false,
    });
    const timeouts = {
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      // Node checks both timeouts every 30 s by default, which would let a slowloris socket live
      // 30 s past headersTimeout (docs/architecture.md, "Safe defaults").
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(o.headersTimeoutMs / 4))),
    };
    this.httpServer = createServer(timeouts, (req, res) => this.#onRequest(req, res));
    this.httpServer.on('connection', (socket: Duplex) => {
      if (!this.#pendingPerAddress.admit(socket)) this.#refuseOverCapacity(socket, 429, this.#perAddressReason(socket));
    });
    this.httpServer.on('upgrade', this.#upgradeListener);
    // Per-socket listeners are these shared functions (`this` is the socket), not closures per
    // connection that would keep the upgrade's locals alive (docs/architecture.md, "Memory per connection").
    const server = this;
    this.#handshakeSocketClosed = function (this: Duplex): void {
      server.#endHandshake(this);
    };
    this.#abandonIfHandshaking = function (this: Duplex): void {
      const conn = server.#pending.get(this);
      if (conn !== undefined && conn.state === 'handshake') {
        server.#pending.delete(this);
        conn.abandon();
      }
    };
  }

  readonly #handshakeSocketClosed: (this: Duplex) => void;
  readonly #abandonIfHandshaking: (this: Duplex) => void;
  readonly #onHandshakeSocketError = (err: Error): void => this.logger.debug({ err }, 'socket error during handshake');
  readonly #scopes = new ScopeBuilder();

  #perAddressReason(socket: Duplex): string {
    const address = clientAddress(socket);
    return `${address} has ${this.#pendingPerAddress.count(address)} handshakes in progress (maxPendingHandshakesPerIp)`;
  }

  /** Answers `status` (429, 503) to a socket refused for capacity; one warning per 10 s and status. */
  #refuseOverCapacity(socket: Duplex, status: number, reason: string, path = '?'): void {
    this.stats.handshakesOverCapacity++;
    this.stats.handshakesRejected++;
    const peer = formatPeer((socket as { remoteAddress?: string }).remoteAddress, (socket as { remotePort?: number }).remotePort);
    this.#capacityWarnings.warn(`capacity:${status}`, 1, { status, reason, peer }, `refusing connections with ${status}: ${reason}`);
    logWebsocket(this.logger, 'REJECT', path, peer, { status, reason });
    abortHandshake(socket, status);
  }

  /** Starts the `handshakeTimeoutMs` clock of an upgrade and counts it against `maxConnections`. */
  #beginHandshake(socket: Duplex, onTimeout: () => void): void {
    const timer = setTimeout(() => {
      this.stats.handshakesTimedOut++;
      onTimeout();
      this.#endHandshake(socket);
    }, this.#options.handshakeTimeoutMs);
    timer.unref();
    // Node's HTTP server allows half-open sockets, so a client that leaves during the handshake
    // would otherwise hold its socket (and its place under the caps) until the timer fires.
    socket.once('end', destroySelf);
    this.#handshakes.set(socket, timer);
    socket.once('close', this.#handshakeSocketClosed);
  }

  /** The handshake on `socket` was answered (101 or refused) or the socket closed. */
  #endHandshake(socket: Duplex): void {
    const timer = this.#handshakes.get(socket);
    if (timer !== undefined) {
      clearTimeout(timer);
      // After a 101, ws handles the end of the stream (the closing handshake).
      socket.off('end', destroySelf);
      socket.off('close', this.#handshakeSocketClosed);
      this.#handshakes.delete(socket);
    }
    this.#pendingPerAddress.release(socket);
  }

  readonly #upgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.#onUpgrade(req, socket, head).catch((err: unknown) => {
      const requestId = randomUUID();
      this.logger.error({ err, requestId }, `upgrade handling failed (request id ${requestId})`);
      abortHandshake(socket, 500, undefined, requestId);
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
    for (const conn of [...this.#pending.values()]) conn.reject(503, 'server shutting down');
    const open = [...this.#connections];
    // Also the consumers whose socket closed before shutdown began and whose disconnect() still runs.
    const consumersDone = [...open.map((c) => c.consumer?.[kDone]), ...this.#disconnecting];
    let timedOut = false;
    // Not unref'd: `await server.close()` settles within shutdownTimeoutMs even when a consumer's
    // disconnect() hangs and nothing else keeps the process alive; cleared once shutdown is done.
    let deadlineTimer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      deadlineTimer = setTimeout(() => {
        timedOut = true;
        resolve();
      }, this.#options.shutdownTimeoutMs);
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
    clearTimeout(deadlineTimer);
  }

  /** Holds the consumer's `disconnect()` for `close()` to wait for, until it finished. */
  #awaitDisconnect(conn: WebsocketConnection): void {
    const done = conn.consumer?.[kDone];
    if (done === undefined) return;
    this.#disconnecting.add(done);
    void done.then(() => this.#disconnecting.delete(done));
  }

  // ---- ConnectionHost --------------------------------------------------------------------

  onOpen(conn: WebsocketConnection): void {
    this.#endHandshake(conn.socket);
    this.#pending.delete(conn.socket);
    conn.socket.off('close', this.#abandonIfHandshaking);
    // `ws` listens for socket errors from the 101 on; a refused socket keeps this one until destroyed.
    conn.socket.off('error', this.#onHandshakeSocketError);
    this.#connections.add(conn);
    this.stats.connectionsAccepted++;
    this.stats.connectionsOpen++;
    logWebsocket(this.logger, 'CONNECT', conn.scope.path, conn.peer);
  }

  onReject(conn: WebsocketConnection, status: number, reason: string): void {
    this.#endHandshake(conn.socket);
    this.#pending.delete(conn.socket);
    this.stats.handshakesRejected++;
    logWebsocket(this.logger, 'REJECT', conn.scope.path, conn.peer, { status, reason });
  }

  onClosed(conn: WebsocketConnection, code: number): void {
    if (this.#connections.delete(conn)) this.stats.connectionsOpen--;
    this.#awaitDisconnect(conn);
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

  onProtocolError(conn: WebsocketConnection, err: Error & { code?: string }): void {
    // The client's fault, and one line per connection: info, like the access log.
    this.logger.info({ path: conn.scope.path, peer: conn.peer, code: err.code }, `closing ${conn.peer}: ${err.message}`);
  }

  // ---- HTTP and upgrade ------------------------------------------------------------------

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    // Its headers are in: no longer a pending handshake of its address.
    this.#pendingPerAddress.release(req.socket);
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
    socket.on('error', this.#onHandshakeSocketError);
    const peer = formatPeer(req.socket.remoteAddress, req.socket.remotePort);
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const refuse = (status: number, reason: string, path = rawPath): void => {
      this.#endHandshake(socket);
      this.stats.handshakesRejected++;
      logWebsocket(this.logger, 'REJECT', path, peer, { status, reason });
      abortHandshake(socket, status);
    };
    // On a server someone else owns the socket is first seen here; on ours it is counted already.
    if (!this.#pendingPerAddress.admit(socket)) return this.#refuseOverCapacity(socket, 429, this.#perAddressReason(socket), rawPath);
    if (
      req.method !== 'GET' ||
      req.headers.upgrade?.toLowerCase() !== 'websocket' ||
      !/^[+/0-9A-Za-z]{22}==$/.test(req.headers['sec-websocket-key'] ?? '') ||
      (req.headers['sec-websocket-version'] !== '13' && req.headers['sec-websocket-version'] !== '8')
    ) {
      return refuse(400, 'not a valid WebSocket handshake (RFC 6455 §4.2.1)');
    }
    if (this.#closing) return refuse(503, 'server shutting down');
    if (this.#connections.size + this.#handshakes.size >= this.#options.maxConnections) {
      this.#endHandshake(socket);
      return this.#refuseOverCapacity(socket, 503, `${this.#connections.size} connections open and ${this.#handshakes.size} handshakes in progress (maxConnections ${this.#options.maxConnections})`, rawPath);
    }
    const originRefusal = this.#origins.refusal(req.headers);
    if (originRefusal !== undefined) return refuse(403, originRefusal);
    if (!this.#app.websocket) return refuse(404, 'no websocket application');
    let scope: Scope;
    try {
      scope = this.#scopes.build(req, rawPath, q === -1 ? '' : rawUrl.slice(q + 1));
    } catch {
      return refuse(400, 'malformed percent-encoding in path');
    }
    const { path } = scope;
    logWebsocket(this.logger, 'HANDSHAKING', path, peer);
    let conn: WebsocketConnection | undefined;
    const { handshakeTimeoutMs } = this.#options;
    this.#beginHandshake(socket, () => {
      if (conn === undefined) refuse(503, `handshake timeout: routing or middleware did not finish within ${handshakeTimeoutMs} ms`, path);
      else if (conn.consumer === undefined) conn.reject(503, `handshake timeout: the consumer did not start within ${handshakeTimeoutMs} ms`);
      else conn.reject(403, `handshake timeout: connect() neither accepted nor closed within ${handshakeTimeoutMs} ms`);
    });

    let resolved;
    try {
      resolved = await this.#app.websocket.resolve(scope);
    } catch (err) {
      if (!this.#handshakes.has(socket)) return;
      if (err instanceof HandshakeRejectedError) return refuse(err.status, err.message, path);
      // A database fault in session middleware lands here: the detail goes to the log only.
      const requestId = randomUUID();
      this.logger.error({ err, path, requestId }, `routing or middleware threw during the handshake (request id ${requestId})`);
      this.#endHandshake(socket);
      this.stats.handshakesRejected++;
      logWebsocket(this.logger, 'REJECT', path, peer, { status: 500, reason: `internal error, request id ${requestId}` });
      return abortHandshake(socket, 500, undefined, requestId);
    }
    // Timed out, or the client went away, while routing ran.
    if (!this.#handshakes.has(socket) || socket.destroyed) return;
    if (!resolved) return refuse(404, 'no route', path);
    if (this.#closing) return refuse(503, 'server shutting down', path);

    conn = new WebsocketConnection(this, req, socket, head, resolved.scope);
    const started = conn;
    this.#pending.set(socket, started);
    socket.once('close', this.#abandonIfHandshaking);
    try {
      started.consumer = await startConsumer(resolved, { channelLayer: this.channelLayer, connection: started, logger: this.logger, history: this.history });
    } catch (err) {
      this.logger.error({ err, path }, 'consumer failed to start');
      started.reject(500, 'consumer failed to start');
      return;
    }
    if (started.refusedCode !== undefined) started.consumer[kClosed](started.refusedCode);
  }

  /** One timer per server sweeps every connection (DESIGN.md §7), not one timer per connection. */
  #sweep(): void {
    for (const conn of this.#connections) {
      if (conn.state !== 'open') continue;
      if (!conn.alive) {
        // A close frame, not a silent cut: a peer stalled in the middle of a frame (or behind a
        // dead network) learns why if it ever reads again (docs/close-codes.md, 4408).
        this.stats.deadPeersDropped++;
        this.logger.info({ path: conn.scope.path, peer: conn.peer }, `dropping dead peer ${conn.peer}: no pong within ${this.#options.heartbeatIntervalMs} ms`);
        conn.close(CloseCode.TIMEOUT, 'no pong within the heartbeat interval');
        continue;
      }
      conn.alive = false;
      conn.ping();
    }
  }
}
