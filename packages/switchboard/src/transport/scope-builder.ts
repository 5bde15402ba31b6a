/**
 * The scope of an upgrade request (docs/architecture.md, "Memory per connection"): what the
 * server copies out of the `IncomingMessage` before dropping it, with the strings many
 * connections repeat (header values, addresses, paths) held once.
 */
import type { IncomingMessage } from 'node:http';
import { createScope, type Scope } from '../scope.js';
import { StringInterner, UNSHARED_HEADERS } from './string-interner.js';

/** Builds the scopes of one server's upgrade requests. */
export class ScopeBuilder {
  readonly #strings = new StringInterner();
  #lastServerAddress: Readonly<{ host: string; port: number }> | undefined;

  /**
   * The scope of `req`, whose path (before `?`) is `rawPath`.
   * @throws URIError when `rawPath` holds a malformed percent-escape.
   */
  build(req: IncomingMessage, rawPath: string, queryString: string): Scope {
    // Most paths have no escape: the scope's path and rawPath are then one (interned) string.
    const escaped = rawPath.includes('%');
    const path = this.#strings.intern(escaped ? decodeURIComponent(rawPath) : rawPath);
    return createScope({
      path,
      rawPath: escaped ? rawPath : path,
      queryString,
      headers: this.#headers(req),
      client: { host: this.#strings.intern(req.socket.remoteAddress ?? ''), port: req.socket.remotePort ?? 0 },
      server: this.#serverAddress(req.socket.localAddress ?? '', req.socket.localPort ?? 0),
    });
  }

  /**
   * The request headers: repeated ones joined with `, `; values that repeat across connections
   * (`Host`, `User-Agent`, `Origin`, ...) shared, per-connection and secret ones
   * ({@link UNSHARED_HEADERS}) as sent.
   */
  #headers(req: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      const text = Array.isArray(value) ? value.join(', ') : value;
      headers[name] = UNSHARED_HEADERS.has(name) ? text : this.#strings.intern(text);
    }
    return headers;
  }

  /** `scope.server`: one frozen object while the local address stays the same (it mostly does). */
  #serverAddress(host: string, port: number): Readonly<{ host: string; port: number }> {
    const last = this.#lastServerAddress;
    if (last !== undefined && last.host === host && last.port === port) return last;
    return (this.#lastServerAddress = Object.freeze({ host: this.#strings.intern(host), port }));
  }
}
