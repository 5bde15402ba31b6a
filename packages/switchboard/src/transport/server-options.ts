/**
 * {@link SwitchboardServer}'s options: their defaults and the checks that refuse a bad value at
 * start-up (docs/architecture.md, "Safe defaults").
 */
import type { ConfigError } from '../errors.js';
import type { HistoryStore } from '../history/history-store.js';
import type { ChannelLayer } from '../layers/channel-layer.js';
import type { defaultLogger, Logger } from '../logging.js';
import type { parseOriginPatterns } from '../middleware/origin.js';
import type { SwitchboardServer } from './server.js';
import type { SharedCompressionOptions } from './shared-deflate.js';

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
  /**
   * Largest frame a client may send, and (with `sharedCompression`) the largest size a compressed
   * message may inflate to; larger ones close with 1009 (ws `maxPayload`). Default 1 MiB.
   */
  maxPayloadBytes?: number;
  /**
   * Bound of a connection's send queue (bytes buffered for a client that is not reading); past it
   * the connection is closed with 1013 and counted. Default 4 MiB.
   */
  maxSendQueueBytes?: number;
  /** Ping interval; a peer that missed the previous ping is dropped. `0` disables. Default 30 s. */
  heartbeatIntervalMs?: number;
  /**
   * Time from an upgrade request's last header to the end of its handshake (routing, middleware,
   * `connect()`): a consumer that neither accepts nor closes in time is refused with 403; routing
   * or middleware still running (a session store that hangs) is answered 503. Default 10 s.
   */
  handshakeTimeoutMs?: number;
  /**
   * Time a client has to send a request's headers, from its connection (or the end of the
   * previous request); then Node answers 408 and closes it, so slowloris and half-open
   * connections hold a file descriptor this long at most (Node's `headersTimeout`, checked
   * every second instead of Node's 30 s). Default 5 s. Only for the server's own `http.Server`:
   * with {@link SwitchboardServer.attach}, set `headersTimeout` on yours.
   */
  headersTimeoutMs?: number;
  /**
   * Time a client has to send a whole HTTP request, body included (Node's `requestTimeout`);
   * `0` disables. Not applied to WebSockets once upgraded. At least `headersTimeoutMs`.
   * Default 30 s.
   */
  requestTimeoutMs?: number;
  /**
   * Most WebSocket connections, open ones plus handshakes in progress; the next upgrade request
   * is answered 503 before routing. Default `Infinity` (no cap): set it below the process's
   * file-descriptor limit (`ulimit -n`) minus what the HTTP side and the database need.
   */
  maxConnections?: number;
  /**
   * Most handshakes one client address may have in progress: connections whose request headers
   * are not in yet (slowloris, half-open sockets) plus upgrades not yet answered. The next
   * connection from that address is answered 429 and closed. IPv4-mapped IPv6 addresses count as
   * IPv4. Behind a reverse proxy every client has the proxy's address: raise it there. Default 128.
   */
  maxPendingHandshakesPerIp?: number;
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
  /**
   * Compression of what the server sends (permessage-deflate, RFC 7692), shared between
   * connections: negotiated with `server_no_context_takeover` (and `client_no_context_takeover`),
   * each message is deflated once and the same compressed frame written to every connection that
   * negotiated the extension; the others get the plain frame. `true` for the defaults, or
   * `{ threshold, level }`: payloads under `threshold` bytes (default 256) go uncompressed;
   * `level` is zlib's (default 6). Binary messages are never compressed. What clients send
   * compressed is inflated up to `maxPayloadBytes`; past it the connection closes with 1009.
   * Default `false` (docs/guide/deployment.md, "Compression").
   * @throws RangeError from the constructor for any other value.
   */
  sharedCompression?: boolean | SharedCompressionOptions;
}


/** Defaults of the numeric options (and `host`). */
export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8000,
  maxPayloadBytes: 1_048_576,
  maxSendQueueBytes: 4_194_304,
  heartbeatIntervalMs: 30_000,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  maxConnections: Infinity,
  maxPendingHandshakesPerIp: 128,
  closeTimeoutMs: 5_000,
  shutdownTimeoutMs: 10_000,
  drainBatchSize: 500,
  drainIntervalMs: 50,
};

/** Options that may be `0`, and options that may be `Infinity`. */
const MAY_BE_ZERO = new Set(['port', 'heartbeatIntervalMs', 'drainIntervalMs', 'requestTimeoutMs']);
const MAY_BE_INFINITE = new Set(['maxConnections', 'maxPendingHandshakesPerIp']);

/** The numeric options (and `host`) with their defaults filled in. */
export type ResolvedServerOptions = typeof DEFAULTS;

/**
 * Fills in defaults and checks every value.
 * @throws RangeError naming the option for a value out of range.
 */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const o = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    if (options[k] !== undefined) (o as Record<string, unknown>)[k] = options[k];
  }
  checkOptions(o);
  return o;
}

function checkOptions(o: typeof DEFAULTS): void {
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    if (key === 'host') continue;
    const v = o[key];
    const min = MAY_BE_ZERO.has(key) ? 0 : 1;
    const whole = Number.isInteger(v) || (v === Infinity && MAY_BE_INFINITE.has(key));
    if (typeof v !== 'number' || !whole || v < min || (key === 'port' && v > 65535)) {
      throw new RangeError(`server option ${key} must be an integer >= ${min}${key === 'port' ? ' and <= 65535' : MAY_BE_INFINITE.has(key) ? ' (or Infinity)' : ''}, got ${String(v)}`);
    }
  }
  if (o.requestTimeoutMs !== 0 && o.requestTimeoutMs < o.headersTimeoutMs) {
    throw new RangeError(`server option requestTimeoutMs (${o.requestTimeoutMs}) must be 0 or at least headersTimeoutMs (${o.headersTimeoutMs})`);
  }
}

