/**
 * The demo's configuration: environment variables with defaults, validated once at start-up.
 * A bad value throws {@link ConfigError} naming the variable and the fix, so the process stops
 * before it serves anything (SEEDS.md: the seeds' Redis port typo went unnoticed until the first
 * message).
 */
import { ConfigError, parseOriginPatterns } from 'switchboard';
import { parseDatabaseUrl } from './db/database.js';

/** Log levels `LOG_LEVEL` accepts (pino's). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A value of `LOG_LEVEL`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated configuration. Units are in the names. */
export interface DemoConfig {
  /** TCP port; `0` picks a free one. */
  readonly port: number;
  /** Interface to listen on. */
  readonly host: string;
  /** `redis://…` / `rediss://…`, or `undefined` for the in-memory layer (one process only). */
  readonly channelLayerUrl: string | undefined;
  /** pino log level. */
  readonly logLevel: LogLevel;
  /** Largest frame a client may send; larger ones close with 1009. */
  readonly maxPayloadBytes: number;
  /** WebSocket ping interval; `0` disables the heartbeat. */
  readonly heartbeatIntervalMs: number;
  /** Bytes queued for a client that stopped reading before it is closed with 1013. */
  readonly maxSendQueueBytes: number;
  /**
   * `DATABASE_URL` as given (checked with `parseDatabaseUrl`), or `undefined` for the SQLite file
   * `./data/switchboard.sqlite3`.
   */
  readonly databaseUrl: string | undefined;
  /**
   * `SECRET_KEY` (signs CSRF tokens), at least {@link MIN_SECRET_KEY_CHARS} characters, or
   * `undefined`: the demo then uses the key stored in `data/secret-key`, generated at first start.
   */
  readonly secretKey: string | undefined;
  /**
   * `ALLOWED_ORIGINS` split on commas (patterns checked with `parseOriginPatterns`; `null` admits
   * `Origin: null`), or `undefined`. Origins allowed **besides** the ones that always pass: a page
   * served by this server (its `Origin` matches the handshake's `Host`), `localhost`, `127.0.0.1`
   * and `[::1]`, and a handshake without `Origin` (not a browser).
   */
  readonly allowedOrigins: readonly string[] | undefined;
  /**
   * `TRUST_PROXY`: which peers' `X-Forwarded-For` / `X-Forwarded-Proto` to believe, as Fastify's
   * `trustProxy` takes it: `false` (unset: the socket's address is the client, and cookies are
   * Secure only over a direct TLS connection), `true` (every peer: only behind a proxy that
   * overwrites these headers), a number of proxy hops, or a list of proxy addresses and CIDR
   * ranges. It decides the client IP the log-in and sign-up limits count, and whether a request
   * came over HTTPS (Secure cookies).
   */
  readonly trustProxy: boolean | number | readonly string[];
}

/** Shortest `SECRET_KEY` accepted (a generated one has 43 characters: 32 random bytes, base64url). */
export const MIN_SECRET_KEY_CHARS = 32;

/** One row of the configuration table (the README's table is checked against these rows). */
export interface ConfigVariable {
  /** Environment variable name. */
  readonly name: string;
  /** Default as written in the README (code-formatted there, except `unset (in-memory)`). */
  readonly default: string;
  /** What it sets, and the accepted values. */
  readonly meaning: string;
}

/** Every variable the demo reads, in README order. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'PORT', default: '8000', meaning: 'TCP port to listen on, 0 to 65535 (0 picks a free port)' },
  { name: 'HOST', default: '127.0.0.1', meaning: 'interface to listen on (0.0.0.0 for all IPv4 interfaces)' },
  {
    name: 'CHANNEL_LAYER_URL',
    default: 'unset (in-memory)',
    meaning: '`redis://host:port/db` (or `rediss://`) for the Redis layer; unset or `memory://` for the in-memory layer (one process only); anything else stops start-up',
  },
  { name: 'LOG_LEVEL', default: 'info', meaning: `log level: ${LOG_LEVELS.join(', ')}` },
  { name: 'MAX_PAYLOAD_BYTES', default: '1048576', meaning: 'largest frame a client may send, in bytes; larger frames close the connection with 1009' },
  { name: 'HEARTBEAT_INTERVAL_MS', default: '30000', meaning: 'WebSocket ping interval in milliseconds; a peer that misses a ping is dropped; 0 disables' },
  {
    name: 'MAX_SEND_QUEUE_BYTES',
    default: '4194304',
    meaning: 'bytes queued for a client that stopped reading before it is closed with 1013',
  },
  {
    name: 'SWITCHBOARD_API_KEY',
    default: 'generated (data/api-key)',
    meaning: 'bearer key of `POST /api/publish` (what `switchboard send` uses without Redis), at least 16 characters; unset: generated at first start, stored with mode 0600 and printed once',
  },
  {
    name: 'DATABASE_URL',
    default: 'unset (SQLite file data/switchboard.sqlite3)',
    meaning: 'accounts, sessions and chat history: `postgres://user:password@host:5432/db` for PostgreSQL, `sqlite:<file>` (or `sqlite::memory:`) for SQLite; migrations run at start',
  },
  {
    name: 'SECRET_KEY',
    default: 'generated (data/secret-key)',
    meaning: `signs CSRF tokens (HMAC-SHA256 of the session id, or of the sb_csrf cookie before a log-in) and guest names, at least ${MIN_SECRET_KEY_CHARS} characters; unset: generated at first start and stored with mode 0600; every process of one site needs the same key`,
  },
  {
    name: 'ALLOWED_ORIGINS',
    default: 'unset (own host and port, localhost)',
    meaning: "comma-separated origins whose pages may open WebSockets besides this server's own pages and localhost, which always may (`https://example.com`, `.example.com`, `localhost:8000`; `null` admits `Origin: null` from sandboxed frames and `file://` pages; `*` admits any); another `Origin` gets 403 before the upgrade; a handshake without `Origin` (not a browser) passes",
  },
  {
    name: 'TRUST_PROXY',
    default: 'unset (off)',
    meaning: 'which proxies to believe about the client (`X-Forwarded-For`, `X-Forwarded-Proto`): `true` for any peer (only behind a proxy that overwrites these headers), a hop count such as `1`, or comma-separated proxy addresses or CIDR ranges (`10.0.0.0/8,127.0.0.1`); governs the client IP of the log-in and sign-up limits and whether cookies are `Secure` behind a TLS proxy',
  },
];

/** The variables as a Markdown table, the form the README uses. */
export function formatConfigTable(): string {
  const rows = CONFIG_VARIABLES.map((v) => `| \`${v.name}\` | ${v.default.startsWith('unset') ? v.default : `\`${v.default}\``} | ${v.meaning} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

type Env = Readonly<Record<string, string | undefined>>;

/** The raw value, or `undefined` when unset or blank (a blank variable means "use the default"). */
function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number, hint: string): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  // Strict: Number('') is 0, Number('1e3') is 1000 and parseInt('80abc') is 80; accept digits only.
  if (!/^[0-9]+$/.test(value)) {
    throw new ConfigError(name, `${JSON.stringify(value)} is not a whole number; ${hint}, e.g. ${name}=${fallback}`);
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `${value} is out of range; ${hint}, e.g. ${name}=${fallback}`);
  }
  return n;
}

function host(env: Env): string {
  const value = raw(env, 'HOST');
  if (value === undefined) return '127.0.0.1';
  // A hostname, an IPv4 address or an IPv6 address (with or without brackets); no ports, no URLs.
  if (!/^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)$/.test(value)) {
    throw new ConfigError('HOST', `${JSON.stringify(value)} is not a host name or IP address; use e.g. HOST=127.0.0.1 (this machine) or HOST=0.0.0.0 (all interfaces), without a scheme or port`);
  }
  return value.startsWith('[') ? value.slice(1, -1) : value;
}

function channelLayerUrl(env: Env): string | undefined {
  const value = raw(env, 'CHANNEL_LAYER_URL');
  if (value === undefined || value === 'memory://') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('CHANNEL_LAYER_URL', `${JSON.stringify(value)} is not a URL; use redis://host:port/db, or leave it unset for the in-memory layer`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(
      'CHANNEL_LAYER_URL',
      `unknown scheme ${JSON.stringify(url.protocol)} in ${JSON.stringify(value)}; use redis:// or rediss://, or leave it unset for the in-memory layer`,
    );
  }
  if (url.port !== '' && Number(url.port) === 0) {
    throw new ConfigError('CHANNEL_LAYER_URL', `port 0 in ${JSON.stringify(value)} cannot be connected to; Redis usually listens on 6379`);
  }
  return value;
}

function logLevel(env: Env): LogLevel {
  const value = raw(env, 'LOG_LEVEL');
  if (value === undefined) return 'info';
  const lower = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(lower)) {
    throw new ConfigError('LOG_LEVEL', `unknown level ${JSON.stringify(value)}; use one of ${LOG_LEVELS.join(', ')}`);
  }
  return lower as LogLevel;
}

/**
 * Reads and validates the configuration.
 *
 * @param env - the environment; default `process.env`. Blank values count as unset.
 * @returns the configuration, defaults filled in (see {@link CONFIG_VARIABLES}).
 * @throws {@link ConfigError} (`SB_ERR_CONFIG`) for the first bad value; `error.variable` names it
 *   and the message says what to use instead.
 */
export function loadConfig(env: Env = process.env): DemoConfig {
  return {
    port: integer(env, 'PORT', 8000, 0, 65535, 'use a port from 0 to 65535 (0 picks a free port)'),
    host: host(env),
    channelLayerUrl: channelLayerUrl(env),
    logLevel: logLevel(env),
    maxPayloadBytes: integer(env, 'MAX_PAYLOAD_BYTES', 1_048_576, 1, 2 ** 31 - 1, 'use a size in bytes of at least 1'),
    heartbeatIntervalMs: integer(env, 'HEARTBEAT_INTERVAL_MS', 30_000, 0, 2 ** 31 - 1, 'use milliseconds (0 disables the heartbeat)'),
    maxSendQueueBytes: integer(env, 'MAX_SEND_QUEUE_BYTES', 4_194_304, 1, 2 ** 31 - 1, 'use a size in bytes of at least 1'),
    databaseUrl: databaseUrl(env),
    secretKey: secretKey(env),
    allowedOrigins: allowedOrigins(env),
    trustProxy: trustProxy(env),
  };
}

/** An IPv4 or IPv6 address, optionally with a `/prefix` (checked loosely; proxy-addr checks the rest). */
const PROXY_ADDRESS = /^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:\/[0-9]{1,2})?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?:\/[0-9]{1,3})?|loopback|linklocal|uniquelocal)$/;

function trustProxy(env: Env): boolean | number | readonly string[] {
  const value = raw(env, 'TRUST_PROXY');
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  if (lower === 'false' || lower === '0') return false;
  if (lower === 'true') return true;
  if (/^[0-9]+$/.test(value)) {
    const hops = Number(value);
    if (hops > 100) throw new ConfigError('TRUST_PROXY', `${value} hops is out of range; count the proxies in front of this server, e.g. TRUST_PROXY=1`);
    return hops;
  }
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = list.find((s) => !PROXY_ADDRESS.test(s));
  if (bad !== undefined) {
    throw new ConfigError('TRUST_PROXY', `${JSON.stringify(bad)} is not an IP address or CIDR range; use true, a hop count (TRUST_PROXY=1) or addresses such as TRUST_PROXY=127.0.0.1,10.0.0.0/8`);
  }
  return list;
}

function databaseUrl(env: Env): string | undefined {
  const value = raw(env, 'DATABASE_URL');
  if (value !== undefined) parseDatabaseUrl(value); // throws a ConfigError naming DATABASE_URL
  return value;
}

function secretKey(env: Env): string | undefined {
  const value = raw(env, 'SECRET_KEY');
  if (value === undefined) return undefined;
  if (/\s/.test(value)) throw new ConfigError('SECRET_KEY', 'the key contains whitespace; use e.g. SECRET_KEY=$(openssl rand -hex 32), or unset it to have one generated');
  if (value.length < MIN_SECRET_KEY_CHARS) {
    throw new ConfigError('SECRET_KEY', `the key has ${value.length} characters, fewer than ${MIN_SECRET_KEY_CHARS}; use e.g. SECRET_KEY=$(openssl rand -hex 32), or unset it to have one generated`);
  }
  return value;
}

function allowedOrigins(env: Env): readonly string[] | undefined {
  const value = raw(env, 'ALLOWED_ORIGINS');
  if (value === undefined) return undefined;
  const list = value.split(',').map((o) => o.trim()).filter((o) => o !== '');
  parseOriginPatterns(list, 'ALLOWED_ORIGINS'); // throws a ConfigError naming ALLOWED_ORIGINS
  return list;
}
