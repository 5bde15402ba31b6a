/**
 * Loads the user's app module for `switchboard serve` and `switchboard worker` (Daphne's
 * `module:application`, Channels' `runworker`): a path or package specifier, optionally with
 * `:exportName` (default: the default export, else `application`).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProtocolTypeRouter } from '../routing/protocol-type-router.js';
import { isConsumerClass, type WebsocketTarget } from '../routing/application.js';
import type { ServerOptions } from '../transport/server.js';
import { ChannelNameRouter } from '../worker/channel-name-router.js';

/** A failure with the exit code it maps to (1 runtime, 2 usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * What an app module exports for `switchboard serve`: the application itself (a
 * `ProtocolTypeRouter`, a `URLRouter`, middleware or a consumer class), or server options with an
 * `application`, or a function (sync or async) returning either.
 */
export type ServeExport = ProtocolTypeRouter | WebsocketTarget | AppDefinition | (() => ProtocolTypeRouter | WebsocketTarget | AppDefinition | Promise<ProtocolTypeRouter | WebsocketTarget | AppDefinition>);

/** Server options plus the application, as an app module may export them. */
export interface AppDefinition extends ServerOptions {
  /** The application: a `ProtocolTypeRouter`, or a WebSocket target (HTTP then answers 404). */
  application: ProtocolTypeRouter | WebsocketTarget;
  /** Named worker channels for `switchboard worker --app`. */
  worker?: ChannelNameRouter;
}

/** The application and options found in a module. */
export interface LoadedApp {
  router: ProtocolTypeRouter;
  options: ServerOptions;
  worker: ChannelNameRouter | undefined;
}

/** `./app.js:myApp` → `['./app.js', 'myApp']`; Windows drive letters and `node:`-less paths kept. */
function splitSpecifier(spec: string): [string, string | undefined] {
  const colon = spec.lastIndexOf(':');
  if (colon <= 1 || spec.slice(colon + 1).includes('/') || spec.slice(colon + 1) === '') return [spec, undefined];
  return [spec.slice(0, colon), spec.slice(colon + 1)];
}

function isTarget(value: unknown): value is WebsocketTarget {
  return isConsumerClass(value) || (value !== null && typeof value === 'object' && typeof (value as { resolve?: unknown }).resolve === 'function');
}

/**
 * Imports `spec` and finds the application in it.
 * @throws {@link CliError} (2) when the module cannot be found or exports nothing usable; (1) when it throws while loading.
 */
export async function loadApp(spec: string): Promise<LoadedApp> {
  const [path, name] = splitSpecifier(spec);
  const url = path.startsWith('.') || path.startsWith('/') ? pathToFileURL(resolve(path)).href : path;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(path.replace(/^\.\//, ''))) {
      throw new CliError(`cannot find the app module ${JSON.stringify(path)} (resolved to ${url}); pass the path of your compiled app, e.g. switchboard serve ./dist/app.js`, 2);
    }
    throw new CliError(`the app module ${JSON.stringify(path)} threw while loading: ${(err as Error).stack ?? String(err)}`, 1);
  }
  const key = name ?? ('default' in module ? 'default' : 'application');
  let value: unknown = module[key];
  if (value === undefined) {
    const names = Object.keys(module).join(', ') || 'nothing';
    throw new CliError(`${JSON.stringify(path)} has no export ${JSON.stringify(key)} (it exports ${names}); export default your application, or name the export: ${path}:myApp`, 2);
  }
  if (typeof value === 'function' && !isConsumerClass(value) && !(value instanceof ProtocolTypeRouter)) value = await (value as () => unknown)();
  return toLoadedApp(value, `${path}:${key}`);
}

function toLoadedApp(value: unknown, where: string): LoadedApp {
  if (value instanceof ProtocolTypeRouter) return { router: value, options: {}, worker: undefined };
  if (value instanceof ChannelNameRouter) return { router: new ProtocolTypeRouter({}), options: {}, worker: value };
  if (isTarget(value)) return { router: new ProtocolTypeRouter({ websocket: value }), options: {}, worker: undefined };
  if (value !== null && typeof value === 'object' && 'application' in value) {
    const { application, worker, ...options } = value as AppDefinition;
    const router = application instanceof ProtocolTypeRouter ? application : isTarget(application) ? new ProtocolTypeRouter({ websocket: application }) : undefined;
    if (router === undefined) throw new CliError(`${where}: "application" must be a ProtocolTypeRouter, a URLRouter, middleware or a consumer class`, 2);
    if (worker !== undefined && !(worker instanceof ChannelNameRouter)) throw new CliError(`${where}: "worker" must be a ChannelNameRouter`, 2);
    return { router, options, worker };
  }
  throw new CliError(`${where} is not an application: export a ProtocolTypeRouter, a URLRouter, a consumer class, or { application, ...serverOptions }`, 2);
}
