/**
 * The server's own origin check, on by default (docs/architecture.md, "Safe defaults"): browsers
 * send cookies with a WebSocket handshake from any site and the same-origin policy does not cover
 * WebSockets (RFC 6455 §10.2), so without it any page a logged-in user visits could open a socket
 * as that user (cross-site WebSocket hijacking).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isOriginAllowed, parseOriginPatterns, type OriginPattern } from '../middleware/origin.js';

/** Hosts that always pass: this machine, for development. */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** `host[:port]` of a URL, with the scheme's default port spelled out. */
function hostAndPort(url: URL): string {
  return `${url.hostname}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`;
}

/** A short quoted rendering of an untrusted header value for the refusal reason. */
function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** Decides, from a handshake's headers, whether its origin may open a WebSocket. */
export class HandshakeOriginCheck {
  readonly #patterns: readonly OriginPattern[];
  readonly #any: boolean;
  readonly #allowsNull: boolean;

  /** @throws {@link ConfigError} (`allowedOrigins`) for a malformed pattern. */
  constructor(allowedOrigins: readonly string[]) {
    const listed = allowedOrigins.filter((o) => o.trim().toLowerCase() !== 'null');
    this.#allowsNull = listed.length !== allowedOrigins.length;
    this.#patterns = listed.length === 0 ? [] : parseOriginPatterns(listed, 'allowedOrigins');
    this.#any = this.#patterns.some((p) => p.any);
  }

  /**
   * `undefined` when the handshake may go on, else why it is refused (for the 403's log line).
   * Both `Origin` and `Sec-WebSocket-Origin` (what hybi-08 clients send instead,
   * draft-ietf-hybi-thewebsocketprotocol-08 §4.1; `ws` still accepts version 8) are checked: each
   * one present must pass.
   */
  refusal(headers: IncomingHttpHeaders): string | undefined {
    if (this.#any) return undefined;
    for (const name of ['origin', 'sec-websocket-origin'] as const) {
      const raw = headers[name];
      const origin = Array.isArray(raw) ? raw[0] : raw;
      if (origin === undefined || origin === '') continue;
      const refused = this.#refusalOf(origin, headers.host);
      if (refused !== undefined) return name === 'origin' ? refused : `Sec-WebSocket-Origin: ${refused}`;
    }
    return undefined;
  }

  #refusalOf(origin: string, host: string | undefined): string | undefined {
    if (origin === 'null') {
      return this.#allowsNull ? undefined : "origin \"null\" (a sandboxed iframe or a file:// page) is refused; list 'null' (or '*') in allowedOrigins to admit it";
    }
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return `origin ${quote(origin)} is not a URL`;
    }
    if (LOCAL_HOSTS.has(url.hostname)) return undefined;
    if (host !== undefined) {
      try {
        if (hostAndPort(new URL(`${url.protocol}//${host}`)) === hostAndPort(url)) return undefined;
      } catch {
        // A malformed Host header matches nothing.
      }
    }
    if (this.#patterns.length > 0 && isOriginAllowed(origin, this.#patterns)) return undefined;
    return `origin ${quote(origin)} is not this server's host nor in allowedOrigins`;
  }
}
