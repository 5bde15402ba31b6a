/**
 * Assembles the demo: channel layer, Fastify pages, WebSocket routes and one Switchboard server.
 * `demo/server.ts` runs it from the command line; tests start it on port 0.
 */
import { getChannelLayer, ProtocolTypeRouter, silentLogger, SwitchboardServer, type ChannelLayer, type Logger } from 'switchboard';
import { resolveApiKey, type ApiKey } from './api/api-key.js';
import { registerPublishApi } from './api/publish.js';
import type { DemoConfig } from './config.js';
import { createHttpApp } from './http.js';
import { createWebsocketApplication } from './routing.js';
import { createSystemStores, loadSystemsConfig, type SystemStores, type SystemsConfig } from './systems-routes.js';

/** Options of {@link startDemo}. */
export interface StartDemoOptions {
  /** Access log and errors. Default: silent. */
  logger?: Logger;
  /**
   * Settings of the word/IoT/dice systems (`IOT_API_KEY`, `GAME_BOARD_SIZE`). Default:
   * `loadSystemsConfig()` from `process.env`, which throws a `ConfigError` for a bad value.
   */
  systems?: SystemsConfig;
  /**
   * Bearer key of `POST /api/publish`. Default: `SWITCHBOARD_API_KEY`, else the key stored in
   * `data/api-key`, else a new one generated and stored there (see `demo/api/api-key.ts`).
   */
  apiKey?: string;
}

/** A running demo. */
export interface RunningDemo {
  /** Base URL, e.g. `http://127.0.0.1:8000/` (the bound port, so useful with `port: 0`). */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  readonly server: SwitchboardServer;
  readonly channelLayer: ChannelLayer;
  /** The publish API's key and where it came from (`generated` on the first start). */
  readonly apiKey: ApiKey;
  /**
   * Graceful shutdown: stop accepting, close sockets with 1001 and wait for the consumers, then
   * close Fastify and the channel layer. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** `http://host:port/`, with IPv6 hosts in brackets (RFC 3986 §3.2.2). */
function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

/**
 * Starts the demo and resolves once it listens.
 *
 * @throws {@link ConfigError} when the channel layer cannot be created (bad `CHANNEL_LAYER_URL`,
 *   Redis unreachable); the listen error (`EADDRINUSE`, `EACCES`) when the port cannot be bound.
 *   Whatever was started is closed before it throws.
 */
export async function startDemo(config: DemoConfig, options: StartDemoOptions = {}): Promise<RunningDemo> {
  const logger = options.logger ?? silentLogger();
  const apiKey = await resolveApiKey(options.apiKey === undefined ? {} : { env: { SWITCHBOARD_API_KEY: options.apiKey } });
  // Explicit URL: `undefined` would make getChannelLayer fall back to process.env, which may not be
  // the environment this config was loaded from.
  const channelLayer = await getChannelLayer({ url: config.channelLayerUrl ?? 'memory://' });
  let http: Awaited<ReturnType<typeof createHttpApp>> | undefined;
  let server: SwitchboardServer | undefined;
  let stores: SystemStores | undefined;
  try {
    const systems = options.systems ?? loadSystemsConfig();
    // Sensor readings and dice rooms: in Redis when the layer is (every process must see the same
    // rooms and history), in memory otherwise.
    stores = await createSystemStores({ redisUrl: config.channelLayerUrl, gameBoardSize: systems.gameBoardSize });
    http = await createHttpApp({ iot: { channelLayer, store: stores.readingsStore, apiKey: systems.iotApiKey } });
    await registerPublishApi(http, { channelLayer, apiKey: apiKey.key, logger });
    await http.ready();
    const router = new ProtocolTypeRouter({
      http: http.routing,
      websocket: createWebsocketApplication({ readingsStore: stores.readingsStore, gameStore: stores.gameStore }),
    });
    server = new SwitchboardServer(router, {
      host: config.host,
      port: config.port,
      channelLayer,
      logger,
      maxPayloadBytes: config.maxPayloadBytes,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      maxSendQueueBytes: config.maxSendQueueBytes,
    });
    const address = await server.listen();
    const running = server;
    const app = http;
    const systemStores = stores;
    let closing: Promise<void> | undefined;
    return {
      url: baseUrl(config.host, address.port),
      port: address.port,
      server: running,
      channelLayer,
      apiKey,
      close() {
        closing ??= (async () => {
          await running.close();
          await app.close();
          await channelLayer.close();
          await systemStores.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await server?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
    await channelLayer.close().catch(() => undefined);
    await stores?.close().catch(() => undefined);
    throw err;
  }
}
