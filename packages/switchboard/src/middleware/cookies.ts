/**
 * `CookieMiddleware`: parses the `Cookie` request header into `scope.cookies` (Channels
 * `CookieMiddleware`). Sessions and auth build on it.
 */
import { parse } from 'cookie';
import { asApplication, type ResolvedConsumer, type WebsocketApplication, type WebsocketTarget } from '../routing/application.js';
import type { Scope } from '../scope.js';

/**
 * Puts the cookies of the upgrade request in `scope.cookies` and hands a new scope to `inner`
 * (the scope it got is never mutated).
 *
 * Parsing follows RFC 6265 §5.4 via the `cookie` package: values are percent-decoded when they
 * can be, a malformed pair is skipped, and for a name sent twice the first value wins. The values
 * come from the client: validate them before use (e.g. check a cookie's shape, verify a
 * signature). An absent or empty header gives `{}`.
 *
 * @example
 * ```ts
 * new ProtocolTypeRouter({ websocket: new CookieMiddleware(new URLRouter([...])) });
 * // in a consumer: this.scope.cookies.sb_guest
 * ```
 */
export class CookieMiddleware implements WebsocketApplication {
  readonly #inner: WebsocketApplication;

  /**
   * @param inner - a router, another middleware, or a consumer class.
   * @throws TypeError when `inner` is none of those.
   */
  constructor(inner: WebsocketTarget) {
    this.#inner = asApplication(inner);
  }

  /** Resolves `inner` with `{...scope, cookies}`. Whatever `inner` throws propagates. */
  resolve(scope: Scope): ResolvedConsumer | null | Promise<ResolvedConsumer | null> {
    return this.#inner.resolve({ ...scope, cookies: parseCookieHeader(scope.headers['cookie']) });
  }
}

/**
 * Parses a `Cookie` header value into name → value, dropping entries without a value.
 * `Object.fromEntries` defines own properties, so a cookie named `__proto__` is plain data.
 */
function parseCookieHeader(header: string | undefined): Record<string, string> {
  if (!header) return {};
  return Object.fromEntries(
    Object.entries(parse(header)).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
