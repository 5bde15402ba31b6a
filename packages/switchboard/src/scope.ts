/**
 * The per-connection scope: what a consumer knows about its connection, built once at the
 * upgrade request and extended by middleware (which returns a new scope, never mutates one).
 * Follows the ASGI connection scope that Channels passes to consumers.
 */

/** Route parameters captured by `path()` / `rePath()`. */
export type RouteKwargs = Record<string, string | number>;

/** An authenticated or anonymous user, as put in the scope by `AuthMiddleware`. */
export interface ScopeUser {
  /** Stable id; `null` for the anonymous user. */
  readonly id: string | number | null;
  /** Display name; for the anonymous user, `''`. */
  readonly username: string;
  /** `false` for the anonymous user. */
  readonly isAuthenticated: boolean;
}

/** A session as put in the scope by `SessionMiddleware`. */
export interface ScopeSession {
  /** The session key (the raw id in the cookie); `null` before the session is saved. */
  readonly key: string | null;
  /** Session data, JSON-serialisable. */
  readonly data: Record<string, unknown>;
}

/**
 * The scope of one WebSocket connection.
 *
 * `headers`, `cookies` and `queryString` come from the client: treat them as untrusted.
 */
export interface Scope<K extends RouteKwargs = RouteKwargs> {
  readonly type: 'websocket';
  /** Decoded path, starting with `/`, e.g. `/ws/chat/lobby/`. */
  readonly path: string;
  /** The path as sent on the request line, before percent-decoding. */
  readonly rawPath: string;
  /** The query string without the leading `?` (`''` when absent). */
  readonly queryString: string;
  /** Request headers, lower-cased names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Remote address and port, or `null` when unknown (in-process tests). */
  readonly client: { readonly host: string; readonly port: number } | null;
  /** Local address and port, or `null` when unknown. */
  readonly server: { readonly host: string; readonly port: number } | null;
  /** Subprotocols the client offered (`Sec-WebSocket-Protocol`), in order. */
  readonly subprotocols: readonly string[];
  /** Cookies from the `Cookie` header (set by `CookieMiddleware`; `{}` before it). */
  readonly cookies: Readonly<Record<string, string>>;
  /** Set by `SessionMiddleware`. */
  readonly session?: ScopeSession;
  /** Set by `AuthMiddleware`: the logged-in user, or the anonymous user. */
  readonly user?: ScopeUser;
  /** Route parameters captured by the `URLRouter`s that matched, merged outer to inner. */
  readonly urlRoute: { readonly args: readonly string[]; readonly kwargs: K };
  /** The part of the path not yet consumed by an enclosing `URLRouter` (no leading `/`). */
  readonly pathRemaining: string;
  /** Room for middleware-specific entries (`scope.extensions.foo`). */
  readonly extensions: Readonly<Record<string, unknown>>;
}

/** The empty defaults every scope starts with: frozen and shared, nothing per connection. */
const NO_ENTRIES: Readonly<Record<string, never>> = Object.freeze({});
const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_ROUTE: Scope['urlRoute'] = Object.freeze({ args: NO_STRINGS, kwargs: NO_ENTRIES });

/** Fields needed to build a scope; the rest get defaults. */
export interface ScopeInit {
  path: string;
  rawPath?: string;
  queryString?: string;
  headers?: Record<string, string>;
  client?: { host: string; port: number } | null;
  server?: { host: string; port: number } | null;
  subprotocols?: readonly string[];
}

/**
 * Builds a scope from request facts.
 * @throws URIError when `rawPath` contains a malformed percent-escape.
 */
export function createScope(init: ScopeInit): Scope {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  const path = init.path.startsWith('/') ? init.path : `/${init.path}`;
  return {
    type: 'websocket',
    path,
    rawPath: init.rawPath ?? path,
    queryString: init.queryString ?? '',
    headers,
    client: init.client ?? null,
    server: init.server ?? null,
    subprotocols: init.subprotocols ?? (headers['sec-websocket-protocol'] ? parseSubprotocols(headers['sec-websocket-protocol']) : NO_STRINGS),
    cookies: NO_ENTRIES,
    urlRoute: NO_ROUTE,
    pathRemaining: path.slice(1),
    extensions: NO_ENTRIES,
  };
}

/** Splits a `Sec-WebSocket-Protocol` header value into tokens (RFC 6455 §4.1). */
export function parseSubprotocols(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}
