/**
 * `URLRouter`: routes a WebSocket connection by path to a consumer or a nested router
 * (Channels `URLRouter`). Patterns match `scope.pathRemaining` (the path without its leading `/`,
 * minus what enclosing routers consumed); captured params are merged into `scope.urlRoute`.
 */
import type { ConsumerClass } from '../consumer/websocket.js';
import type { RouteKwargs, Scope } from '../scope.js';
import { asApplication, isConsumerClass, type ResolvedConsumer, type WebsocketApplication, type WebsocketTarget } from './application.js';
import { compilePath, compileRegExp, type CompiledPattern, type PathParams } from './route-pattern.js';

/** Compile-time check that a pattern captures every kwarg the consumer's type asks for. */
type ParamsSatisfy<P extends string, K> = PathParams<P> extends K
  ? unknown
  : { readonly 'route pattern does not capture every kwarg this consumer needs': P };

/** One route: a compiled pattern and its target. Build it with {@link path} or {@link rePath}. */
export interface Route {
  readonly pattern: CompiledPattern;
  readonly target: WebsocketApplication;
  readonly name: string | undefined;
  /**
   * The pattern matched a prefix (a `path()` to anything but a consumer class: a `URLRouter`, or
   * middleware around one). The route then matches only if what follows the prefix was consumed
   * further in (a nested router), or nothing follows.
   */
  readonly prefix?: boolean;
}

/**
 * A route for a Django-style pattern. Parameters: `<name>` (no `/`), `<int:name>` (a number in
 * kwargs), `<slug:name>`, `<uuid:name>`, `<path:name>` (may contain `/`).
 *
 * For a consumer class the pattern must match the whole remaining path. For any other
 * application (a nested `URLRouter`, or middleware wrapping one, the usual Channels shape
 * `path('ws/', AuthMiddlewareStack(URLRouter([...])))`) it matches a prefix and the rest is
 * routed further in; middleware wrapping a consumer still needs the whole path.
 *
 * The consumer's kwargs type is checked against the pattern's parameters.
 * @example `path('ws/chat/<roomName>/', ChatConsumer)` → `scope.urlRoute.kwargs.roomName`
 * @throws {@link InvalidRouteError} for an unknown converter or a duplicate parameter.
 */
export function path<P extends string, K extends RouteKwargs = RouteKwargs>(
  pattern: P,
  target: WebsocketApplication | (ConsumerClass<K> & ParamsSatisfy<P, K>),
  name?: string,
): Route {
  // Only an application can route further; which kind (router, middleware) is not known here.
  const prefix = !isConsumerClass(target);
  return { pattern: compilePath(pattern, prefix), target: asApplication(target as WebsocketTarget), name, prefix };
}

/**
 * A route for a regular expression; named groups become kwargs (strings), unnamed groups args.
 * @example `rePath(/^ws\/chat\/(?<roomName>\w+)\/$/, ChatConsumer)`
 * @throws {@link InvalidRouteError} for an invalid expression.
 */
export function rePath(pattern: RegExp | string, target: WebsocketTarget, name?: string): Route {
  return { pattern: compileRegExp(pattern), target: asApplication(target), name };
}

/**
 * `outer` with a matched route's captures added; `outer` itself when the route captured nothing
 * (so connections to a route without parameters share one `urlRoute`, see docs/architecture.md,
 * "Memory per connection").
 */
function mergeRoute(outer: Scope['urlRoute'], args: readonly string[], kwargs: RouteKwargs): Scope['urlRoute'] {
  let hasKwargs = false;
  for (const _ in kwargs) {
    hasKwargs = true;
    break;
  }
  if (args.length === 0 && !hasKwargs) return outer;
  return {
    args: args.length === 0 ? outer.args : [...outer.args, ...args],
    kwargs: hasKwargs ? { ...outer.kwargs, ...kwargs } : outer.kwargs,
  };
}

/** Routes by path; the first matching route wins. No match resolves to `null` (HTTP 404). */
export class URLRouter implements WebsocketApplication {
  readonly routes: readonly Route[];

  /** @throws TypeError when an entry is not a route made by `path()` / `rePath()`. */
  constructor(routes: readonly Route[]) {
    for (const [i, r] of routes.entries()) {
      if (!r || typeof r.pattern?.match !== 'function' || typeof r.target?.resolve !== 'function') {
        throw new TypeError(`URLRouter: routes[${i}] is not a route; build routes with path() or rePath()`);
      }
    }
    this.routes = routes;
  }

  async resolve(scope: Scope): Promise<ResolvedConsumer | null> {
    for (const route of this.routes) {
      const m = route.pattern.match(scope.pathRemaining);
      if (!m) continue;
      const next: Scope = { ...scope, pathRemaining: m.rest, urlRoute: mergeRoute(scope.urlRoute, m.args, m.kwargs) };
      const resolved = await route.target.resolve(next);
      // A prefix route whose rest nobody consumed reached an endpoint with extra path: no match.
      if (resolved && route.prefix === true && m.rest !== '' && resolved.scope.pathRemaining === m.rest) continue;
      if (resolved) return resolved;
    }
    return null;
  }
}
