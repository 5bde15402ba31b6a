/**
 * Route patterns: Django-style `path('ws/chat/<roomName>/')` with converters, and `rePath()` with
 * a regular expression whose named groups become kwargs (Django `path`/`re_path`).
 */
import { InvalidRouteError } from '../errors.js';

/** Built-in converters (Django's): name → [regex source, parse]. */
const CONVERTERS: Record<string, readonly [string, (s: string) => string | number]> = {
  str: ['[^/]+', (s) => s],
  int: ['[0-9]+', (s) => Number.parseInt(s, 10)],
  slug: ['[-a-zA-Z0-9_]+', (s) => s],
  uuid: ['[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', (s) => s],
  path: ['.+', (s) => s],
};

type ParamName<S extends string> = S extends `${string}:${infer N}` ? N : S;
type ParamValue<S extends string> = S extends `int:${string}` ? number : string;

/**
 * The kwargs type of a `path()` pattern: `'ws/chat/<roomName>/'` → `{ roomName: string }`,
 * `'<int:id>/'` → `{ id: number }`.
 */
export type PathParams<P extends string> = P extends `${string}<${infer Param}>${infer Rest}`
  ? { [N in ParamName<Param>]: ParamValue<Param> } & PathParams<Rest>
  : // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    {};

/** A compiled pattern: matches a prefix (for nested routers) or the whole remaining path. */
export interface CompiledPattern {
  readonly source: string;
  /** Returns captures and the rest of the path, or `null`. */
  match(path: string): { args: string[]; kwargs: Record<string, string | number>; rest: string } | null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compiles a `path()` pattern. A leading `/` is ignored (paths are matched without it).
 * @param prefix - match a prefix only (the route leads to a nested router).
 * @throws {@link InvalidRouteError} for an unknown converter, a bad or duplicate parameter name.
 */
export function compilePath(pattern: string, prefix: boolean): CompiledPattern {
  const clean = pattern.replace(/^\/+/, '');
  const parsers: Array<[string, (s: string) => string | number]> = [];
  let source = '^';
  let last = 0;
  for (const m of clean.matchAll(/<(?:([A-Za-z_]\w*):)?([^<>]*)>/g)) {
    source += escapeRegExp(clean.slice(last, m.index));
    const converter = m[1] ?? 'str';
    const name = m[2]!;
    const conv = CONVERTERS[converter];
    if (!conv) throw new InvalidRouteError(`path(${JSON.stringify(pattern)}): unknown converter "${converter}"; use ${Object.keys(CONVERTERS).join(', ')}`);
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new InvalidRouteError(`path(${JSON.stringify(pattern)}): "${name}" is not a valid parameter name`);
    if (parsers.some(([n]) => n === name)) throw new InvalidRouteError(`path(${JSON.stringify(pattern)}): parameter "${name}" appears twice`);
    parsers.push([name, conv[1]]);
    source += `(?<${name}>${conv[0]})`;
    last = m.index + m[0].length;
  }
  source += escapeRegExp(clean.slice(last));
  if (!prefix) source += '$';
  const re = new RegExp(source);
  return {
    source: pattern,
    match(path) {
      const m = re.exec(path);
      if (!m) return null;
      const kwargs: Record<string, string | number> = {};
      for (const [name, parse] of parsers) kwargs[name] = parse(m.groups![name]!);
      return { args: [], kwargs, rest: path.slice(m[0].length) };
    },
  };
}

/**
 * Compiles a `rePath()` pattern (a RegExp or its source). Named groups become kwargs, unnamed
 * groups positional args (only when there are no named groups, as in Django). A leading `^/` is tolerated.
 * @throws {@link InvalidRouteError} when the source is not a valid regular expression.
 */
export function compileRegExp(pattern: RegExp | string): CompiledPattern {
  let source = typeof pattern === 'string' ? pattern : pattern.source;
  source = source.replace(/^\^?\\?\/+/, '^');
  if (!source.startsWith('^')) source = `^${source}`;
  let re: RegExp;
  try {
    re = new RegExp(source, typeof pattern === 'string' ? '' : pattern.flags.replace(/[gy]/g, ''));
  } catch (err) {
    throw new InvalidRouteError(`rePath(${String(pattern)}): ${(err as Error).message}`);
  }
  return {
    source: String(pattern),
    match(path) {
      const m = re.exec(path);
      if (!m) return null;
      const kwargs: Record<string, string | number> = { ...(m.groups ?? {}) } as Record<string, string>;
      for (const k of Object.keys(kwargs)) if (kwargs[k] === undefined) delete kwargs[k];
      // As Django: with named groups, positional groups are ignored.
      const args = m.groups ? [] : m.slice(1).filter((v): v is string => v !== undefined);
      return { args, kwargs, rest: path.slice(m[0].length) };
    },
  };
}
