/**
 * The dice game's rules (SEEDS.md system 4, seed 000 example 2), as pure functions over plain
 * JSON-serialisable state: no I/O, no randomness (the die is an argument), so the same code runs
 * behind the in-memory and the Redis store (demo/game/game-store.ts) and in unit tests.
 *
 * The seed only relays a random 1..6 to the room; the game it leaves open is finished here:
 * - players join a room and take turns in join order (at most {@link MAX_PLAYERS});
 * - everyone starts before square 1 (position 0); a roll of 1..6 moves the player whose turn it is;
 * - the first to reach or pass the last square (`boardSize`, default 20) wins; the game is over;
 * - a player then starts a new game: same players, same order, everyone back to 0.
 * A player may join at any time (they start at 0 and take turns after those already in) and may
 * leave (their turn passes on). Spectators (connections that did not join) can only join.
 */

/** Squares on the board by default. */
export const DEFAULT_BOARD_SIZE = 20;
/** Most players in one room. */
export const MAX_PLAYERS = 8;

/** A participant. `id` is stable (`user:<id>` or `guest:<name>`); `name` is what others see. */
export interface Player {
  readonly id: string;
  readonly name: string;
  /** 0 before the first roll, `boardSize` at the end. */
  readonly position: number;
}

/** The last roll, for the room's log. */
export interface LastRoll {
  readonly playerId: string;
  readonly die: number;
  readonly from: number;
  readonly to: number;
}

/**
 * The state of one room. `status`: `waiting` (no roll yet in this game), `playing`, `over`.
 * `version` grows with every change; stores use it to detect concurrent updates.
 */
export interface GameState {
  readonly boardSize: number;
  readonly players: readonly Player[];
  /** Index into `players` of whose turn it is (meaningless while there are no players). */
  readonly turn: number;
  readonly status: 'waiting' | 'playing' | 'over';
  /** The winner's id once `status` is `over`. */
  readonly winnerId: string | null;
  readonly lastRoll: LastRoll | null;
  /** Games started in this room, from 1. */
  readonly gameNumber: number;
  readonly version: number;
}

/** Why an action was refused; the message is shown to the player. */
export type GameRuleCode = 'not_a_player' | 'not_your_turn' | 'game_over' | 'game_in_progress' | 'room_full';

/** What an action did: the new state and what happened, or why nothing happened. */
export type GameResult =
  | { readonly ok: true; readonly state: GameState; readonly change: GameChange }
  | { readonly ok: false; readonly state: GameState; readonly code: GameRuleCode; readonly message: string };

/** A change, for the room's announcements. `none` when the action changed nothing (a repeated join). */
export type GameChange =
  | { readonly kind: 'none' }
  | { readonly kind: 'joined'; readonly player: Player }
  | { readonly kind: 'left'; readonly player: Player }
  | { readonly kind: 'rolled'; readonly player: Player; readonly roll: LastRoll; readonly won: boolean }
  | { readonly kind: 'new_game'; readonly by: Player };

/** A player's identity, before they join. */
export interface PlayerIdentity {
  readonly id: string;
  readonly name: string;
}

/**
 * A fresh room.
 * @throws RangeError when `boardSize` is not a whole number from 2 to 1000.
 */
export function createGame(boardSize = DEFAULT_BOARD_SIZE): GameState {
  if (!Number.isSafeInteger(boardSize) || boardSize < 2 || boardSize > 1000) {
    throw new RangeError(`createGame: boardSize must be a whole number from 2 to 1000, got ${boardSize}`);
  }
  return { boardSize, players: [], turn: 0, status: 'waiting', winnerId: null, lastRoll: null, gameNumber: 1, version: 0 };
}

function refuse(state: GameState, code: GameRuleCode, message: string): GameResult {
  return { ok: false, state, code, message };
}

function changed(state: GameState, next: Omit<GameState, 'version'>, change: GameChange): GameResult {
  return { ok: true, state: { ...next, version: state.version + 1 }, change };
}

/** The player whose turn it is, or `null` when nobody can roll (no players, or the game is over). */
export function currentPlayer(state: GameState): Player | null {
  if (state.status === 'over' || state.players.length === 0) return null;
  return state.players[state.turn] ?? null;
}

/** The winner, once the game is over. */
export function winner(state: GameState): Player | null {
  return state.winnerId === null ? null : (state.players.find((p) => p.id === state.winnerId) ?? null);
}

/** Adds `who` at the end of the turn order (position 0). Joining twice changes nothing. */
export function join(state: GameState, who: PlayerIdentity): GameResult {
  if (state.players.some((p) => p.id === who.id)) return { ok: true, state, change: { kind: 'none' } };
  if (state.players.length >= MAX_PLAYERS) return refuse(state, 'room_full', `this room is full (${MAX_PLAYERS} players); watch, or pick another room`);
  const player: Player = { id: who.id, name: who.name, position: 0 };
  return changed(state, { ...state, players: [...state.players, player] }, { kind: 'joined', player });
}

/** Removes player `id`; if it was their turn, it passes to the next player. */
export function leave(state: GameState, id: string): GameResult {
  const index = state.players.findIndex((p) => p.id === id);
  if (index === -1) return refuse(state, 'not_a_player', 'you are not playing in this room');
  const player = state.players[index]!;
  const players = state.players.filter((_, i) => i !== index);
  // Players after the leaver move up one place; the turn index follows whoever had the turn, and
  // when the leaver had it, the next player (now at the same index) gets it.
  let turn = index < state.turn ? state.turn - 1 : state.turn;
  if (turn >= players.length) turn = 0;
  let { status, winnerId } = state;
  if (players.length === 0) {
    status = 'waiting';
    winnerId = null;
  }
  return changed(state, { ...state, players, turn, status, winnerId }, { kind: 'left', player });
}

/**
 * Moves player `id` by `die` (1..6, rolled by the caller with `crypto.randomInt(1, 7)`).
 * Refused for a spectator, out of turn, or once the game is over.
 * @throws RangeError for a die outside 1..6 (a caller bug, not a player error).
 */
export function roll(state: GameState, id: string, die: number): GameResult {
  if (!Number.isInteger(die) || die < 1 || die > 6) throw new RangeError(`roll: die must be 1..6, got ${die}`);
  const index = state.players.findIndex((p) => p.id === id);
  if (index === -1) return refuse(state, 'not_a_player', 'join the game first: spectators cannot roll');
  if (state.status === 'over') return refuse(state, 'game_over', 'the game is over; start a new game');
  if (index !== state.turn) {
    return refuse(state, 'not_your_turn', `not your turn: it is ${state.players[state.turn]?.name ?? 'someone else'}'s turn`);
  }
  const player = state.players[index]!;
  const to = Math.min(player.position + die, state.boardSize);
  const moved: Player = { ...player, position: to };
  const players = state.players.map((p, i) => (i === index ? moved : p));
  const won = to >= state.boardSize;
  const lastRoll: LastRoll = { playerId: id, die, from: player.position, to };
  return changed(
    state,
    {
      ...state,
      players,
      lastRoll,
      status: won ? 'over' : 'playing',
      winnerId: won ? id : null,
      turn: won ? state.turn : (state.turn + 1) % players.length,
    },
    { kind: 'rolled', player: moved, roll: lastRoll, won },
  );
}

/**
 * Starts a new game once the current one is over: same players and order, all back to 0, the
 * first player's turn. Only a player may start it; refused while a game is in progress.
 */
export function newGame(state: GameState, id: string): GameResult {
  const by = state.players.find((p) => p.id === id);
  if (by === undefined) return refuse(state, 'not_a_player', 'join the game first: spectators cannot start a game');
  if (state.status !== 'over') return refuse(state, 'game_in_progress', 'a game is in progress; finish it first');
  return changed(
    state,
    {
      ...state,
      players: state.players.map((p) => ({ ...p, position: 0 })),
      turn: 0,
      status: 'waiting',
      winnerId: null,
      lastRoll: null,
      gameNumber: state.gameNumber + 1,
    },
    { kind: 'new_game', by: { ...by, position: 0 } },
  );
}

/** An action, as stores apply it. `die` is drawn by the store before applying a roll. */
export type GameAction =
  | { readonly kind: 'join'; readonly player: PlayerIdentity }
  | { readonly kind: 'leave'; readonly playerId: string }
  | { readonly kind: 'roll'; readonly playerId: string; readonly die: number }
  | { readonly kind: 'new_game'; readonly playerId: string };

/** Applies `action` to `state`. */
export function applyAction(state: GameState, action: GameAction): GameResult {
  switch (action.kind) {
    case 'join':
      return join(state, action.player);
    case 'leave':
      return leave(state, action.playerId);
    case 'roll':
      return roll(state, action.playerId, action.die);
    case 'new_game':
      return newGame(state, action.playerId);
  }
}

/**
 * Parses state read back from a store; `null` for anything that is not a game state (a corrupt or
 * foreign value is treated as a fresh room rather than crashing every connection to it).
 */
export function parseGameState(json: string): GameState | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const s = v as Partial<GameState>;
  if (
    typeof s.boardSize !== 'number' ||
    !Array.isArray(s.players) ||
    typeof s.turn !== 'number' ||
    (s.status !== 'waiting' && s.status !== 'playing' && s.status !== 'over') ||
    typeof s.version !== 'number' ||
    typeof s.gameNumber !== 'number'
  ) {
    return null;
  }
  return s as GameState;
}
