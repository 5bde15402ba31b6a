/**
 * Assembles the demo: database (migrated at start), channel layer, presence, accounts, Fastify
 * pages, WebSocket routes and one Switchboard server. `demo/server.ts` runs it from the command
 * line; tests start it on port 0.
 */
import { getChannelLayer, InMemoryHistoryStore, InMemoryPresenceStore, ProtocolTypeRouter, silentLogger, SwitchboardServer, type ChannelLayer, type HistoryStore, type Logger, type PresenceStore } from 'switchboard';
import { registerSwitchboardMetrics } from 'switchboard/metrics';
import { createAccounts, type AccountRateLimits, type Accounts } from './accounts/accounts.js';
import { GuestIdentity } from './accounts/guest-identity.js';
import { CHAT_ROOMS_GROUP, GAME_ROOMS_GROUP, RoomDirectory } from './consumers/room-directory.js';
import { resolveSecretKey } from './accounts/secret-key.js';
import { resolveApiKey, type ApiKey } from './api/api-key.js';
import { registerMetricsApi } from './api/metrics.js';
import { registerPublishApi } from './api/publish.js';
import type { DemoConfig } from './config.js';
import type { TimedStreamOptions } from './consumers/words.js';
import { openDatabase, type Database } from './db/database.js';
import type { ScryptParams } from './db/users.js';
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
  /**
   * The database, as a `DATABASE_URL` value (`sqlite::memory:` for a throw-away one in tests).
   * Default: `config.databaseUrl`, else the SQLite file `./data/switchboard.sqlite3`.
   */
  databaseUrl?: string;
  /** CSRF signing key. Default: `config.secretKey`, else `data/secret-key` (generated at first start). */
  secretKey?: string;
  /** Account settings tests lower: scrypt cost (default N = 2^15) and rate limits. */
  accounts?: { scrypt?: ScryptParams; rateLimits?: Partial<AccountRateLimits> };
  /** Key prefix of the Redis presence and history stores and rate limits. Default `sb:demo:`. */
  redisPrefix?: string;
  /**
   * The word stream's timing (`ws/any_url/`, `/one/`): a word every `intervalMs`, `count` words.
   * Default every 2000 ms, 100 words, as the seed; tests shorten it.
   * @throws RangeError from `startDemo` for an interval that is not 1 to 2^31-1 ms or a negative count.
   */
  wordStream?: TimedStreamOptions;
}

/** A running demo. */
export interface RunningDemo {
  /** Base URL, e.g. `http://127.0.0.1:8000/` (the bound port, so useful with `port: 0`). */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  readonly server: SwitchboardServer;
  readonly channelLayer: ChannelLayer;
  /** Chat history for recovery after reconnect: in Redis when the layer is, else in memory. */
  readonly history: HistoryStore;
  /** The publish API's key and where it came from (`generated` on the first start). */
  readonly apiKey: ApiKey;
  /** The open, migrated database. */
  readonly database: Database;
  /** Users, sessions, presence, limits. */
  readonly accounts: Accounts;
  /** Signs and checks the guest-name cookie (on the secret key). */
  readonly guests: GuestIdentity;
  /**
   * `ALLOWED_ORIGINS` as given to the server's origin check (`[]` when unset): origins allowed
   * besides the ones that always pass (the page's own host, `localhost`, no `Origin`).
   */
  readonly allowedOrigins: readonly string[];
  /**
   * Graceful shutdown: stop accepting, close sockets with 1001 and wait for the consumers, then
   * close Fastify, presence, the channel layer and the database. Safe to call more than once.
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
 *   Redis unreachable), the database cannot be opened (`DATABASE_URL`) or the secret key is unusable
 *   (`SECRET_KEY`); `MigrationFailedError` when a migration fails; the listen error (`EADDRINUSE`,
 *   `EACCES`) when the port cannot be bound. Whatever was started is closed before it throws.
 */
export async function startDemo(config: DemoConfig, options: StartDemoOptions = {}): Promise<RunningDemo> {
  const logger = options.logger ?? silentLogger();
  const apiKey = await resolveApiKey(options.apiKey === undefined ? {} : { env: { SWITCHBOARD_API_KEY: options.apiKey } });
  const secretKey = options.secretKey ?? config.secretKey ?? (await resolveSecretKey({ env: {} })).key;
  // Explicit URL: `undefined` would make getChannelLayer fall back to process.env, which may not be
  // the environment this config was loaded from.
  const channelLayer = await getChannelLayer({ url: config.channelLayerUrl ?? 'memory://' });
  let http: Awaited<ReturnType<typeof createHttpApp>> | undefined;
  let server: SwitchboardServer | undefined;
  let stores: SystemStores | undefined;
  let database: Database | undefined;
  let accounts: Accounts | undefined;
  let history: HistoryStore | undefined;
  // Guest names are signed with SECRET_KEY, so every process of the site honours the same cookies.
  const guests = new GuestIdentity(secretKey);
  try {
    database = await openDatabase(options.databaseUrl ?? config.databaseUrl, { onPoolError: (err) => logger.warn({ err }, 'database: an idle PostgreSQL connection failed; the pool replaces it') });
    logger.info({ database: database.description }, `database: ${database.dialect}, migrated`);
    // Who is online must agree across processes: in Redis when the layer is.
    // So is the chat history a reconnecting page recovers from.
    let presence: PresenceStore;
    const redisPrefix = options.redisPrefix ?? 'sb:demo:';
    if (config.channelLayerUrl) {
      const { RedisHistoryStore, RedisPresenceStore } = await import('switchboard/redis');
      presence = new RedisPresenceStore({ url: config.channelLayerUrl, prefix: redisPrefix });
      history = new RedisHistoryStore({ url: config.channelLayerUrl, prefix: redisPrefix });
    } else {
      presence = new InMemoryPresenceStore();
      history = new InMemoryHistoryStore();
    }
    accounts = await createAccounts({
      database,
      channelLayer,
      presence,
      secretKey,
      logger,
      ...(options.accounts?.scrypt ? { scrypt: options.accounts.scrypt } : {}),
      ...(options.accounts?.rateLimits ? { rateLimits: options.accounts.rateLimits } : {}),
      // Log-in and sign-up budgets shared by every process, like presence.
      ...(config.channelLayerUrl ? { redis: { url: config.channelLayerUrl, prefix: redisPrefix } } : {}),
    });
    // Widens the server's own origin check, which always admits the page's own host and localhost.
    const origins = config.allowedOrigins ?? [];
    const systems = options.systems ?? loadSystemsConfig();
    // Sensor readings and dice rooms: in Redis when the layer is (every process must see the same
    // rooms and history), in memory otherwise.
    stores = await createSystemStores({ redisUrl: config.channelLayerUrl, gameBoardSize: systems.gameBoardSize });
    // The index pages list the rooms with people in them, from presence (shared across processes on Redis).
    const rooms = { chat: new RoomDirectory(presence, CHAT_ROOMS_GROUP), game: new RoomDirectory(presence, GAME_ROOMS_GROUP) };
    http = await createHttpApp({ iot: { channelLayer, store: stores.readingsStore, apiKey: systems.iotApiKey }, accounts, wordStream: options.wordStream, guests, rooms, trustProxy: config.trustProxy, logger });
    await registerPublishApi(http, { channelLayer, apiKey: apiKey.key, logger });
    // GET /metrics; the server's counters join it below, once the server exists.
    const metrics = registerMetricsApi(http, { apiKey: apiKey.key });
    await http.ready();
    const router = new ProtocolTypeRouter({
      http: http.routing,
      websocket: createWebsocketApplication(
        { readingsStore: stores.readingsStore, gameStore: stores.gameStore, wordStream: options.wordStream, gameRooms: rooms.game },
        {
          sessions: accounts.sessions,
          users: accounts.userStore,
          presence,
          messages: accounts.messages,
          statuses: accounts.statuses,
          statusOf: accounts.statusOf,
          chatRooms: rooms.chat,
        },
        { guests },
      ),
    });
    server = new SwitchboardServer(router, {
      host: config.host,
      port: config.port,
      channelLayer,
      history,
      logger,
      allowedOrigins: origins,
      maxPayloadBytes: config.maxPayloadBytes,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      maxSendQueueBytes: config.maxSendQueueBytes,
      // Behind a proxy (TRUST_PROXY) every client has the proxy's TCP address: a per-address cap
      // on handshakes in progress would make them all share 128, and a reconnect storm after a
      // deploy would get 429s. The proxy limits its clients; maxConnections still bounds the total.
      ...(config.trustProxy === false ? {} : { maxPendingHandshakesPerIp: Infinity }),
    });
    registerSwitchboardMetrics(metrics, { server, channelLayer });
    const address = await server.listen();
    const running = server;
    const app = http;
    const systemStores = stores;
    const db = database;
    const acc = accounts;
    const chatHistory = history;
    let closing: Promise<void> | undefined;
    return {
      url: baseUrl(config.host, address.port),
      port: address.port,
      server: running,
      channelLayer,
      history: chatHistory,
      apiKey,
      database: db,
      accounts: acc,
      guests,
      allowedOrigins: origins,
      close() {
        closing ??= (async () => {
          await running.close();
          await app.close();
          // After the consumers' disconnect(): they remove their presence and notify through the layer.
          await acc.close();
          await channelLayer.close();
          await chatHistory.close();
          await systemStores.close();
          await db.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await server?.close().catch(() => undefined);
    await http?.close().catch(() => undefined);
    await channelLayer.close().catch(() => undefined);
    await stores?.close().catch(() => undefined);
    await accounts?.close().catch(() => undefined);
    await history?.close().catch(() => undefined);
    await database?.close().catch(() => undefined);
    throw err;
  }
}
