/**
 * WebSocket routes and shared state of three seed systems: the word stream (`ws/any_url/`, alias
 * `ws/words/`), the IoT chart (`ws/two_url/`, `ws/iot/<sensor>/`) and the dice rooms
 * (`ws/game/<room>/`). The demo's router includes them with `...systemRoutes(deps)`.
 *
 * State that must be the same on every process (recent sensor readings, game rooms) lives in Redis
 * when the demo runs on the Redis channel layer, in memory otherwise: {@link createSystemStores}
 * decides from `CHANNEL_LAYER_URL`, the same variable that picks the layer, so the two can never
 * disagree (a memory store behind a Redis layer would show each process its own game).
 */
import type { Redis } from 'ioredis';
import { ConfigError, path, type Route } from 'switchboard';
import type { ConfigVariable } from './config.js';
import { DiceGameConsumer } from './consumers/dice.js';
import type { RoomDirectory } from './consumers/room-directory.js';
import { SensorConsumer, SimulatedSensorConsumer } from './consumers/iot.js';
import { streamOptions, WordStreamConsumer, type TimedStreamOptions } from './consumers/words.js';
import { createGameStore, type GameStore } from './game/game-store.js';
import { IOT_MIN_API_KEY_LENGTH } from './iot/ingest-api.js';
import { createReadingsStore, type ReadingsStore } from './iot/readings-store.js';

/** What the routes need. */
export interface SystemDeps {
  readingsStore: ReadingsStore;
  gameStore: GameStore;
  /** Word stream timing; default every 2000 ms, 100 words. */
  wordStream?: TimedStreamOptions;
  /** Simulated sensor timing; default every 2000 ms, 100 values. */
  simulatedSensor?: TimedStreamOptions;
  /** Where open dice rooms are counted for the `/game/` page. Default: nowhere. */
  gameRooms?: RoomDirectory;
}

/**
 * The routes, in the order they should be tried:
 * `ws/any_url/`, `ws/words/` → WordStreamConsumer; `ws/two_url/` → SimulatedSensorConsumer;
 * `ws/iot/<sensor>/` → SensorConsumer (bound to the readings store);
 * `ws/game/<room>/` → DiceGameConsumer (bound to the game store).
 */
export function systemRoutes(deps: SystemDeps): Route[] {
  const words = WordStreamConsumer.with(streamOptions(deps.wordStream));
  const simulated = SimulatedSensorConsumer.with(streamOptions(deps.simulatedSensor));
  return [
    path('ws/any_url/', words, 'words'),
    path('ws/words/', words, 'words-alias'),
    path('ws/two_url/', simulated, 'iot-simulated'),
    path('ws/iot/<sensor>/', SensorConsumer.with({ store: deps.readingsStore }), 'iot-sensor'),
    path('ws/game/<room>/', DiceGameConsumer.with({ store: deps.gameStore, rooms: deps.gameRooms ?? null }), 'dice-game'),
  ];
}

/** The systems' own settings. */
export interface SystemsConfig {
  /** Key sensors must send; `undefined` turns ingestion off (the API answers 503). */
  readonly iotApiKey: string | undefined;
  /** Squares on a dice board. */
  readonly gameBoardSize: number;
}

/** Variables {@link loadSystemsConfig} reads, as rows for the README's configuration table. */
export const SYSTEMS_CONFIG_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'IOT_API_KEY',
    default: '(unset)',
    meaning: `key sensors send as \`Authorization: Bearer <key>\` to POST /api/iot/<sensor>/readings, at least ${IOT_MIN_API_KEY_LENGTH} characters; unset turns ingestion off (503)`,
  },
  { name: 'GAME_BOARD_SIZE', default: '20', meaning: 'squares on a dice game board, 2 to 1000' },
];

/**
 * Reads the systems' variables.
 * @throws {@link ConfigError} naming the variable: a key shorter than 16 characters, or a board
 *   size that is not a whole number from 2 to 1000.
 */
export function loadSystemsConfig(env: Readonly<Record<string, string | undefined>> = process.env): SystemsConfig {
  const key = env.IOT_API_KEY?.trim();
  if (key !== undefined && key !== '' && key.length < IOT_MIN_API_KEY_LENGTH) {
    throw new ConfigError('IOT_API_KEY', `the key is ${key.length} characters; use at least ${IOT_MIN_API_KEY_LENGTH}, e.g. IOT_API_KEY=$(openssl rand -hex 24)`);
  }
  const rawBoard = env.GAME_BOARD_SIZE?.trim();
  let gameBoardSize = 20;
  if (rawBoard !== undefined && rawBoard !== '') {
    const n = /^[0-9]+$/.test(rawBoard) ? Number(rawBoard) : NaN;
    if (!Number.isSafeInteger(n) || n < 2 || n > 1000) {
      throw new ConfigError('GAME_BOARD_SIZE', `${JSON.stringify(rawBoard)} is not a whole number from 2 to 1000; e.g. GAME_BOARD_SIZE=20`);
    }
    gameBoardSize = n;
  }
  return { iotApiKey: key === '' ? undefined : key, gameBoardSize };
}

/** The stores, and how to release them. */
export interface SystemStores {
  readonly readingsStore: ReadingsStore;
  readonly gameStore: GameStore;
  /** The Redis client both stores share, when on Redis. */
  readonly redis: Redis | undefined;
  /** Closes the stores and the Redis client. */
  close(): Promise<void>;
}

/** Options of {@link createSystemStores}. */
export interface CreateSystemStoresOptions {
  /** `redis://…` / `rediss://…` (the demo passes `CHANNEL_LAYER_URL`); unset → in-memory stores. */
  redisUrl?: string | undefined;
  /** Key prefix in Redis. Default `sb:demo:`. */
  prefix?: string;
  /** Squares on a dice board. Default 20. */
  gameBoardSize?: number;
  /** Variable named in errors. Default `CHANNEL_LAYER_URL`. */
  variable?: string;
}

/**
 * Creates the readings and game stores: on Redis (one shared ioredis client, connected and
 * checked with `PING` now) when `redisUrl` is set, in memory otherwise.
 * @throws {@link ConfigError} when Redis cannot be reached, at start-up rather than on the first
 *   reading.
 */
export async function createSystemStores(options: CreateSystemStoresOptions = {}): Promise<SystemStores> {
  const { redisUrl, prefix = 'sb:demo:', gameBoardSize = 20, variable = 'CHANNEL_LAYER_URL' } = options;
  let redis: Redis | undefined;
  if (redisUrl !== undefined && redisUrl !== '' && redisUrl !== 'memory://') {
    // Loaded only when used, as the framework loads its Redis layer.
    const { Redis: RedisClient } = await import('ioredis');
    const client = new RedisClient(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3, connectTimeout: 5000 });
    client.on('error', () => undefined); // reported through the failing commands; avoids unhandled 'error' events
    try {
      await client.connect();
      await client.ping();
    } catch (err) {
      client.disconnect();
      throw new ConfigError(variable, `cannot reach Redis for the demo's game and sensor stores: ${(err as Error).message}`);
    }
    redis = client;
  }
  const readingsStore = createReadingsStore({ redis, prefix });
  const gameStore = createGameStore({ redis, prefix, boardSize: gameBoardSize });
  return {
    readingsStore,
    gameStore,
    redis,
    async close() {
      await readingsStore.close();
      await gameStore.close();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}
