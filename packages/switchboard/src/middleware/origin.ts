/**
 * Origin checks for WebSocket handshakes (Channels `channels.security.websocket`).
 *
 * Browsers send cookies with a WebSocket handshake from any site, and the same-origin policy
 * does not apply to WebSockets: without this check, any page a logged-in user visits can open a
 * socket as that user (cross-site WebSocket hijacking). Browsers always send `Origin` on a
 * WebSocket handshake (RFC 6455 §4.1, item 8 / §10.2), so the check is reliable for browsers;
 * non-browser clients can send anything and are not what it protects against.
 */
import { ConfigError, HandshakeRejectedError } from '../errors.js';
import { asApplication, type ResolvedConsumer, type WebsocketApplication, type WebsocketTarget } from '../routing/application.js';
import type { Scope } from '../scope.js';

/** A compiled origin pattern. */
export interface OriginPattern {
  /** The pattern as given. */
  readonly source: string;
  /** `'*'`: anything, even a missing Origin. */
  readonly any: boolean;
  /** Scheme without `:` (`'https'`), or `null` for any scheme. */
  readonly scheme: string | null;
  /** How the host matches. */
  readonly hostMatch: 'exact' | 'domain-and-subdomains' | 'subdomains';
  /** Lower-case host or domain, IPv6 in brackets. */
  readonly host: string;
  /** Port to require; `null` for any port (or, with a scheme whose default is unknown, none). */
  readonly port: number | null;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, ws: 80, https: 443, wss: 443 };

// [scheme://] host [:port]; host is `*.domain`, `.domain`, a name, an IPv4 address or `[ipv6]`.
const PATTERN_RE = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(\[[0-9a-f:.]+\]|(?:\*\.|\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*)(?::([0-9]{1,5}))?$/;

/**
 * Compiles origin patterns, checking them up front (configuration fails at start-up).
 *
 * Accepted forms (case-insensitive; internationalised names in their `xn--` form):
 * - `*`: any origin, and also a missing or opaque (`null`) one.
 * - `https://example.com`, `http://localhost:8000`: scheme, host and port must all match; a
 *   missing port means the scheme's default (80 for http/ws, 443 for https/wss), as Channels.
 * - `example.com`, `localhost:8000`: that host with any scheme; with a port, that port only
 *   (Channels ignores a port in a pattern without a scheme; we match it).
 * - `.example.com`: `example.com` and all its subdomains (Django's `ALLOWED_HOSTS` syntax, which
 *   Channels follows); also with a scheme: `https://.example.com`.
 * - `*.example.com`: subdomains of `example.com` only, not `example.com` itself.
 *
 * @param variable - the option or environment variable named in errors (e.g. `'ALLOWED_ORIGINS'`).
 * @throws {@link ConfigError} (`SB_ERR_CONFIG`) for an empty list or a pattern of none of these forms.
 */
export function parseOriginPatterns(patterns: readonly string[], variable = 'allowedOrigins'): OriginPattern[] {
  if (!Array.isArray(patterns) || patterns.length === 0) {
    throw new ConfigError(variable, "no allowed origins: every WebSocket handshake would be refused; list origins such as https://example.com or .example.com, or '*' to allow any");
  }
  return patterns.map((source) => parseOne(source, variable));
}

function parseOne(source: string, variable: string): OriginPattern {
  if (typeof source !== 'string') throw new ConfigError(variable, `origin patterns are strings; got ${typeof source}`);
  const text = source.trim().toLowerCase();
  if (text === '*') return { source, any: true, scheme: null, hostMatch: 'exact', host: '*', port: null };
  const m = PATTERN_RE.exec(text);
  if (!m) {
    throw new ConfigError(
      variable,
      `${JSON.stringify(source)} is not an origin pattern; use scheme://host[:port] (https://example.com), a host (example.com, .example.com for a domain and its subdomains, *.example.com for subdomains only) or *; no path, no trailing slash`,
    );
  }
  const scheme = m[1] ?? null;
  let host = m[2]!;
  let hostMatch: OriginPattern['hostMatch'] = 'exact';
  if (host.startsWith('*.')) {
    hostMatch = 'subdomains';
    host = host.slice(2);
  } else if (host.startsWith('.')) {
    hostMatch = 'domain-and-subdomains';
    host = host.slice(1);
  } else if (host.startsWith('[')) {
    // Normalise IPv6 the way URL does for the Origin header ([0:0::1] → [::1]).
    try {
      host = new URL(`http://${host}/`).hostname;
    } catch {
      throw new ConfigError(variable, `${JSON.stringify(source)}: ${host} is not an IPv6 address`);
    }
  }
  let port: number | null = null;
  if (m[3] !== undefined) {
    port = Number(m[3]);
    if (port < 1 || port > 65535) throw new ConfigError(variable, `${JSON.stringify(source)}: port ${m[3]} is out of range 1-65535`);
  } else if (scheme !== null) {
    port = DEFAULT_PORTS[scheme] ?? null;
  }
  return { source, any: false, scheme, hostMatch, host, port };
}

/** A parsed `Origin` header. */
interface ParsedOrigin {
  scheme: string;
  host: string;
  port: number | null;
}

/** Parses an `Origin` header value; `null` for an opaque (`null`) or malformed one. */
function parseOrigin(value: string): ParsedOrigin | null {
  if (value === 'null') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (!url.hostname) return null;
  const scheme = url.protocol.slice(0, -1);
  const port = url.port === '' ? (DEFAULT_PORTS[scheme] ?? null) : Number(url.port);
  return { scheme, host: url.hostname.toLowerCase(), port };
}

function hostMatches(pattern: OriginPattern, host: string): boolean {
  switch (pattern.hostMatch) {
    case 'exact':
      return host === pattern.host;
    case 'domain-and-subdomains':
      return host === pattern.host || host.endsWith(`.${pattern.host}`);
    case 'subdomains':
      return host.endsWith(`.${pattern.host}`);
  }
}

/**
 * Whether an `Origin` header value is allowed by `patterns`.
 *
 * A missing (`undefined`/empty), opaque (`null`) or malformed Origin is allowed only by `*`, as
 * Channels' `OriginValidator.valid_origin` ("None is not allowed unless all hosts are allowed").
 */
export function isOriginAllowed(origin: string | undefined, patterns: readonly OriginPattern[]): boolean {
  if (patterns.some((p) => p.any)) return true;
  if (!origin) return false;
  const parsed = parseOrigin(origin);
  if (!parsed) return false;
  return patterns.some((p) => {
    if (p.scheme !== null && p.scheme !== parsed.scheme) return false;
    if (p.port !== null && p.port !== parsed.port) return false;
    return hostMatches(p, parsed.host);
  });
}

/** A short, quoted rendering of an untrusted header value for error messages and logs. */
function quote(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

/**
 * Refuses WebSocket handshakes whose `Origin` header is not in `allowedOrigins` with HTTP 403,
 * before the upgrade (Channels `OriginValidator`, which answers with a denial too).
 *
 * Following Channels, a handshake **without** an `Origin` header (or with the opaque origin
 * `null`) is refused unless the list contains `*`. Browsers always send it, so this only refuses
 * non-browser clients; list `*` (or use your own check) to let those in.
 *
 * @example
 * ```ts
 * new OriginValidator(new AuthMiddlewareStack(router, opts), ['https://example.com', '.example.org']);
 * ```
 */
export class OriginValidator implements WebsocketApplication {
  readonly #inner: WebsocketApplication;
  /** The compiled patterns. */
  readonly patterns: readonly OriginPattern[];

  /**
   * @param allowedOrigins - patterns; see {@link parseOriginPatterns}.
   * @throws {@link ConfigError} for an empty list or a bad pattern; TypeError for a bad `inner`.
   */
  constructor(inner: WebsocketTarget, allowedOrigins: readonly string[], variable = 'allowedOrigins') {
    this.#inner = asApplication(inner);
    this.patterns = parseOriginPatterns(allowedOrigins, variable);
  }

  /** @throws {@link HandshakeRejectedError} (403) for an origin that is not allowed. */
  resolve(scope: Scope): ResolvedConsumer | null | Promise<ResolvedConsumer | null> {
    // `origin` comes from the client; it is only compared, never echoed unquoted.
    const origin = scope.headers['origin'];
    if (!isOriginAllowed(origin, this.patterns)) {
      throw new HandshakeRejectedError(403, origin ? `origin ${quote(origin)} is not allowed` : 'the handshake has no Origin header; only an allowed-origins list with * accepts that');
    }
    return this.#inner.resolve(scope);
  }
}

/**
 * Hosts Channels' `AllowedHostsOriginValidator` falls back to in Django's `DEBUG` mode when
 * `ALLOWED_HOSTS` is empty: this machine, on any port.
 */
export const LOCAL_ALLOWED_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '[::1]']);

/**
 * An {@link OriginValidator} for a list of host patterns instead of full origins (Channels
 * `AllowedHostsOriginValidator`, which uses Django's `ALLOWED_HOSTS`): `example.com`,
 * `.example.com` (domain and subdomains), `*.example.com` (subdomains only), `localhost:8000`,
 * or `*`. Any scheme matches; a host without a port matches any port.
 *
 * A missing `Origin` is refused unless the list contains `*`, as in {@link OriginValidator}.
 *
 * @throws {@link ConfigError} for an empty list, or an entry with a scheme (use `OriginValidator`
 *   for full origins).
 */
export class AllowedHostsOriginValidator extends OriginValidator {
  constructor(inner: WebsocketTarget, allowedHosts: readonly string[], variable = 'allowedHosts') {
    for (const host of allowedHosts ?? []) {
      if (typeof host === 'string' && host.includes('://')) {
        throw new ConfigError(variable, `${JSON.stringify(host)}: allowed hosts are host names (example.com, .example.com), without a scheme; use OriginValidator for full origins`);
      }
    }
    super(inner, allowedHosts, variable);
  }
}
