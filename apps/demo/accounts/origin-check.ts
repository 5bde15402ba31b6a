/**
 * The demo's WebSocket origin check (cross-site WebSocket hijacking: browsers send our session
 * cookie with a handshake started by any site's page, so the `Origin` decides).
 *
 * Differences from the framework's `OriginValidator`, both on purpose:
 * - A handshake **without** an `Origin` header passes. Browsers always send one (RFC 6455 §4.1,
 *   §10.2), so it is not a browser: the seed clients, `wscat`, sensors and the tests' `ws`
 *   clients. They can forge any header anyway, and a cookie they send is their own; refusing them
 *   protects no one. An opaque `Origin: null` (sandboxed frame, `file:` page) is a browser and is
 *   refused.
 * - The allowed list may depend on the bound port (the default list is the server's own host and
 *   port), so it is read through a function at each handshake, after `listen()` chose the port.
 */
import { HandshakeRejectedError, asApplication, isOriginAllowed, parseOriginPatterns, type OriginPattern, type ResolvedConsumer, type Scope, type WebsocketApplication, type WebsocketTarget } from 'switchboard';

/** Hosts a wildcard bind address stands for; not usable as an origin. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * The default `ALLOWED_ORIGINS`: `host:port` for the configured host (unless it is a wildcard
 * such as 0.0.0.0) and for `localhost`, `127.0.0.1` and `[::1]`, any scheme (a TLS proxy in front
 * makes the page's origin `https://`).
 */
export function defaultAllowedOrigins(host: string, port: number): string[] {
  const hosts = ['localhost', '127.0.0.1', '[::1]'];
  const own = host.includes(':') ? `[${host}]` : host.toLowerCase();
  if (!WILDCARD_HOSTS.has(host) && !hosts.includes(own)) hosts.unshift(own);
  return hosts.map((h) => `${h}:${port}`);
}

/**
 * Refuses a handshake whose `Origin` is present and not allowed with HTTP 403, before the upgrade.
 *
 * @param patterns - called at each handshake; compile them once with `parseOriginPatterns`.
 */
export class BrowserOriginValidator implements WebsocketApplication {
  readonly #inner: WebsocketApplication;
  readonly #patterns: () => readonly OriginPattern[];

  /** @throws TypeError for a bad `inner`. */
  constructor(inner: WebsocketTarget, patterns: () => readonly OriginPattern[]) {
    this.#inner = asApplication(inner);
    this.#patterns = patterns;
  }

  /** @throws {@link HandshakeRejectedError} (403) for a foreign or opaque origin. */
  resolve(scope: Scope): ResolvedConsumer | null | Promise<ResolvedConsumer | null> {
    // `origin` comes from the client: only compared, and quoted (cut to 100 characters) in errors.
    const origin = scope.headers['origin'];
    if (origin !== undefined && !isOriginAllowed(origin, this.#patterns())) {
      throw new HandshakeRejectedError(403, `origin ${JSON.stringify(origin.slice(0, 100))} is not allowed; add it to ALLOWED_ORIGINS`);
    }
    return this.#inner.resolve(scope);
  }
}

/** Compiles `ALLOWED_ORIGINS` (or the default for `host:port`). @throws ConfigError naming ALLOWED_ORIGINS. */
export function allowedOriginPatterns(configured: readonly string[] | undefined, host: string, port: number): OriginPattern[] {
  return parseOriginPatterns(configured ?? defaultAllowedOrigins(host, port), 'ALLOWED_ORIGINS');
}
