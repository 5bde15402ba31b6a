/**
 * Where dice rooms live, with atomic operations: a roll is checked against the turn and applied in
 * one step, so two clicks (or two players on two processes) can never both roll the same turn.
 *
 * - {@link MemoryGameStore}: one process. Each operation reads, applies the rules and writes
 *   synchronously, so nothing interleaves inside it.
 * - {@link RedisGameStore}: several processes. A room is one JSON value in Redis; an operation
 *   reads it, applies the same rules (demo/game/game-state.ts) in TypeScript, and writes the result
 *   with a compare-and-set Lua script that succeeds only if the value is still the one read;
 *   otherwise it reads again and retries. Optimistic, like `WATCH`/`MULTI`, but safe on ioredis'
 *   shared connection (a `WATCH` belongs to the connection, so concurrent operations from one
 *   process would clobber each other's watches), and the rules stay in one language.
 *
 * Why Redis and not the database: the room is hot, short-lived, per-turn state read and written on
 * every click by every process serving the room. The demo already needs Redis to run on several
 * processes (the channel layer), Redis gives atomic compare-and-set in one round trip and expiry of
 * abandoned rooms for free, and nothing about a finished dice game needs to outlive a day. Durable
 * data (users, sessions, chat history) stays in the database.
 */
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { applyAction, createGame, DEFAULT_BOARD_SIZE, parseGameState, type GameAction, type GameResult, type GameState, type PlayerIdentity } from './game-state.js';

/**
 * Dice rooms, keyed by room name. Every operation is atomic with respect to every other operation
 * on the same room, across all processes sharing the backend; a refused action (out of turn,
 * spectator) changes nothing and returns `ok: false` with the reason.
 */
export interface GameStore {
  /** Whether every process sharing the backend sees the same rooms. */
  readonly shared: boolean;
  /** The room's state; a fresh game for a room nobody joined. */
  get(room: string): Promise<GameState>;
  /** Adds a player at the end of the turn order; a repeated join changes nothing. */
  join(room: string, player: PlayerIdentity): Promise<GameResult>;
  /** Removes a player; their turn passes on. */
  leave(room: string, playerId: string): Promise<GameResult>;
  /** Rolls the die (server-side, 1..6) for `playerId` if it is their turn, and moves them. */
  roll(room: string, playerId: string): Promise<GameResult>;
  /** Starts a new game once the current one is over. */
  newGame(room: string, playerId: string): Promise<GameResult>;
  /** Forgets every room (tests). */
  clear(): Promise<void>;
  /** Releases the backend (a Redis store closes its client only if it owns it). */
  close(): Promise<void>;
}

/** Options shared by both stores. */
export interface GameStoreOptions {
  /** Squares on a new room's board. Default 20. */
  boardSize?: number;
  /** Draws a die; default `crypto.randomInt(1, 7)`. Tests pass a fixed sequence. */
  rollDie?: () => number;
}

/** A fair die, from the CSPRNG (players cannot predict it from earlier rolls). */
export function rollDie(): number {
  return randomInt(1, 7);
}

abstract class BaseGameStore implements GameStore {
  abstract readonly shared: boolean;
  protected readonly boardSize: number;
  readonly #rollDie: () => number;

  constructor(options: GameStoreOptions) {
    this.boardSize = options.boardSize ?? DEFAULT_BOARD_SIZE;
    createGame(this.boardSize); // validates boardSize at construction
    this.#rollDie = options.rollDie ?? rollDie;
  }

  /** Applies `action` to the room atomically. */
  protected abstract update(room: string, action: GameAction): Promise<GameResult>;
  abstract get(room: string): Promise<GameState>;
  abstract clear(): Promise<void>;
  abstract close(): Promise<void>;

  join(room: string, player: PlayerIdentity): Promise<GameResult> {
    return this.update(room, { kind: 'join', player });
  }

  leave(room: string, playerId: string): Promise<GameResult> {
    return this.update(room, { kind: 'leave', playerId });
  }

  roll(room: string, playerId: string): Promise<GameResult> {
    return this.update(room, { kind: 'roll', playerId, die: this.#rollDie() });
  }

  newGame(room: string, playerId: string): Promise<GameResult> {
    return this.update(room, { kind: 'new_game', playerId });
  }
}

/**
 * Rooms in this process's memory, at most `maxRooms` (the least recently changed is dropped).
 * A room whose last player left is kept (its `version` keeps growing, which clients rely on).
 */
export class MemoryGameStore extends BaseGameStore {
  readonly shared = false;
  readonly #rooms = new Map<string, GameState>();
  readonly #maxRooms: number;

  /** @param options.maxRooms - rooms kept, default 10_000. */
  constructor(options: GameStoreOptions & { maxRooms?: number } = {}) {
    super(options);
    this.#maxRooms = options.maxRooms ?? 10_000;
  }

  async get(room: string): Promise<GameState> {
    return this.#rooms.get(room) ?? createGame(this.boardSize);
  }

  // Synchronous from read to write: no other operation can run in between.
  protected async update(room: string, action: GameAction): Promise<GameResult> {
    const result = applyAction(this.#rooms.get(room) ?? createGame(this.boardSize), action);
    if (result.ok && result.change.kind !== 'none') {
      this.#rooms.delete(room);
      if (this.#rooms.size >= this.#maxRooms) {
        const oldest = this.#rooms.keys().next().value;
        if (oldest !== undefined) this.#rooms.delete(oldest);
      }
      this.#rooms.set(room, result.state);
    }
    return result;
  }

  async clear(): Promise<void> {
    this.#rooms.clear();
  }

  async close(): Promise<void> {}
}

/** Options of {@link RedisGameStore}. */
export interface RedisGameStoreOptions extends GameStoreOptions {
  /** Key prefix; a room is `<prefix>game:<room>`. Default `sb:demo:`. */
  prefix?: string;
  /** A room expires this long after its last change, in milliseconds. Default 24 h. */
  ttlMs?: number;
  /** Compare-and-set attempts before giving up under contention. Default 50. */
  maxAttempts?: number;
  /** Whether `close()` also closes `redis`. Default `false`. */
  ownsClient?: boolean;
}

/** Thrown when a room stayed contended for `maxAttempts` compare-and-set attempts. */
export class GameStoreContentionError extends Error {
  constructor(room: string, attempts: number) {
    super(`room ${JSON.stringify(room)}: state changed under us ${attempts} times in a row; try again`);
    this.name = 'GameStoreContentionError';
  }
}

// Compare-and-set: writes ARGV[2] with an expiry of ARGV[3] ms only if the key still holds
// ARGV[1] ('' standing for "absent"). KEYS[1] room key. Returns 1 when written.
const CAS_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current == false then current = '' end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/**
 * Rooms in Redis, shared by every process (see the module comment for the concurrency design).
 * One `GET` per refused action; `GET` + one `EVAL` per accepted one, plus one retry per lost race.
 */
export class RedisGameStore extends BaseGameStore {
  readonly shared = true;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #maxAttempts: number;
  readonly #ownsClient: boolean;

  /** @param redis - an ioredis client (not in subscriber mode). */
  constructor(redis: Redis, options: RedisGameStoreOptions = {}) {
    super(options);
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'sb:demo:';
    this.#ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
    this.#maxAttempts = options.maxAttempts ?? 50;
    this.#ownsClient = options.ownsClient ?? false;
  }

  #key(room: string): string {
    return `${this.#prefix}game:${room}`;
  }

  async get(room: string): Promise<GameState> {
    const raw = await this.#redis.get(this.#key(room));
    return (raw === null ? null : parseGameState(raw)) ?? createGame(this.boardSize);
  }

  protected async update(room: string, action: GameAction): Promise<GameResult> {
    const key = this.#key(room);
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      const raw = (await this.#redis.get(key)) ?? '';
      const state = (raw === '' ? null : parseGameState(raw)) ?? createGame(this.boardSize);
      const result = applyAction(state, action);
      if (!result.ok || result.change.kind === 'none') return result;
      const written = await this.#redis.eval(CAS_SCRIPT, 1, key, raw, JSON.stringify(result.state), String(this.#ttlMs));
      if (Number(written) === 1) return result;
      // Lost the race: someone changed the room between our GET and EVAL. Back off a little, with
      // jitter so two losers do not collide again, and re-apply the action to the new state.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 * attempt, 20)));
    }
    throw new GameStoreContentionError(room, this.#maxAttempts);
  }

  async clear(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}game:*`, 'COUNT', 500);
      if (keys.length > 0) await this.#redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#redis.quit().catch(() => undefined);
  }
}

/**
 * Picks the store for the configuration: {@link RedisGameStore} when a Redis client is given (the
 * demo passes one when `CHANNEL_LAYER_URL` is `redis://…`, since players of one room may then be
 * connected to different processes), else {@link MemoryGameStore}.
 */
export function createGameStore(options: { redis?: Redis | undefined } & RedisGameStoreOptions = {}): GameStore {
  const { redis, ...rest } = options;
  return redis ? new RedisGameStore(redis, rest) : new MemoryGameStore(rest);
}
