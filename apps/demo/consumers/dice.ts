/**
 * Dice game rooms (SEEDS.md system 4, seed 000 example 2): `ws/game/<room>/`, group `game_<room>`.
 *
 * The seed relays `{"message", "gameStatus", "position"}` with a random 1..6 for every message
 * anyone sends. Here the server runs the game (demo/game/game-state.ts): clients send
 * `{"action": "join" | "roll" | "new_game" | "leave"}`; the server rolls the die
 * (`crypto.randomInt(1, 7)`), checks the turn atomically in the store (demo/game/game-store.ts),
 * and tells the room.
 *
 * The seed's own page speaks too: it sends `{"message": …}` (with `gameStatus` and `position`,
 * which the server ignores: it rolls the die itself). Such a **seed frame** is a roll, joining the
 * game first when the sender is not a player yet, and starting a new game first when the last one
 * is over. Every frame below carries the seed's fields `message`, `gameStatus` and `position`, so
 * the seed's `onmessage` reads each one. Frames, all with a `type`:
 *
 * - `{type: 'hello', room, you: {id, name}, message, gameStatus, position}` to the connecting
 *   client: who the server thinks it is.
 * - `{type: 'game', greeting: true, message: '游戏开始', text, gameStatus, position}` next: the
 *   seed's greeting word for word ("game start"); `text` says, in English, how the room stands;
 *   `position` is the die of the room's last roll, or before any roll a die cast for the greeting
 *   as the seed does (it moves no one).
 * - `{type: 'game', message, gameStatus, position, ...}`: what happened. `gameStatus` is 1
 *   while a game runs, 0 once it is over (then `winner: {id, name}` is set); `position` is the die
 *   of the roll the message reports (1..6), 0 for messages that are not about a roll. Roll messages
 *   also carry `player`, `from` and `to` (squares).
 * - `{type: 'state', room, boardSize, players: [{id, name, position}], turn, status, gameStatus,
 *   winner, gameNumber, version, message, position}` after every change; `turn` is the id of the
 *   player to roll, `message` says whose turn it is (or who won), `position` is the last roll's
 *   die (0 before any). Several processes may announce changes of one room; `version` orders them
 *   (ignore a lower one).
 * - `{type: 'error', code: 'SB_ERR_BAD_REQUEST', message}` for a refused action (out of turn, a
 *   spectator rolling, an unknown action): the state does not change.
 *
 * Who plays: `scope.user` when logged in, else the guest name of the signed `sb_guest` cookie (set
 * by the game page), else a fresh guest name for this connection. A player leaves the game when their
 * last connection to the room in this process closes (or on `{"action": "leave"}`).
 */
import { randomInt } from 'node:crypto';
import { BadRequestError, frameRateLimit, JsonWebsocketConsumer, type ConsumerInit, type EventHandlers, type LayerEvent, type Scope } from 'switchboard';
import { currentPlayer, winner, type GameChange, type GameResult, type GameState, type PlayerIdentity } from '../game/game-state.js';
import type { GameStore } from '../game/game-store.js';
import type { RoomDirectory } from './room-directory.js';
import { isValidRoomName, normalizeRoomName, roomGroup } from './room-name.js';
// Guest names are the chat's: one signed cookie, one name per visitor across the demo.
import { guestNameOf } from '../accounts/guest-identity.js';

/**
 * The player a connection plays as: the logged-in user, else the guest name of a correctly signed
 * `sb_guest` cookie (checked by `GuestMiddleware`), else a fresh guest name. Ids are `user:<id>` /
 * `guest:<name>`, so a user who registered a guest-looking name is never the same player as that
 * guest; and a cookie naming a guest without that guest's signature plays as someone new.
 */
export function playerFromScope(scope: Scope): PlayerIdentity {
  const user = scope.user;
  if (user?.isAuthenticated && user.id !== null) return { id: `user:${user.id}`, name: user.username };
  const name = guestNameOf(scope);
  return { id: `guest:${name}`, name };
}

/** The group of a room: `game_<room>`, non-ASCII names encoded (room-name.ts). @throws RangeError for an invalid name. */
export function gameGroup(room: string): string {
  return roomGroup('game_', room);
}

/** The seed-shaped frame. */
export interface GameMessageFrame {
  readonly type: 'game';
  readonly message: string;
  /** 1 while the game runs, 0 once it is over. */
  readonly gameStatus: 0 | 1;
  /** The die of the roll this message reports (1..6); 0 otherwise. */
  readonly position: number;
  readonly player?: { id: string; name: string };
  readonly from?: number;
  readonly to?: number;
  readonly winner?: { id: string; name: string };
  /** Set on the greeting a connection gets first (then `message` is the seed's `游戏开始`). */
  readonly greeting?: true;
  /** The greeting in English: how the room stands. */
  readonly text?: string;
}

/** The seed's greeting, word for word ("game start"). */
export const SEED_GREETING = '游戏开始';

/** The room's state as clients see it. */
export interface GameStateFrame {
  readonly type: 'state';
  readonly room: string;
  readonly boardSize: number;
  readonly players: ReadonlyArray<{ id: string; name: string; position: number }>;
  /** Id of the player to roll; `null` when nobody can (no players, or the game is over). */
  readonly turn: string | null;
  readonly status: GameState['status'];
  readonly gameStatus: 0 | 1;
  readonly winner: { id: string; name: string } | null;
  readonly gameNumber: number;
  readonly version: number;
  /** The seed's field: whose turn it is, or who won, in words. */
  readonly message: string;
  /** The seed's field: the die of the last roll, 0 before any. */
  readonly position: number;
}

/** The events of a game room's group: `game.update` announces a change; every member forwards `frames` as is. */
export interface GameEvents {
  'game.update': { readonly frames: ReadonlyArray<GameMessageFrame | GameStateFrame> };
}

/** The layer event announcing a change to `game_<room>`. */
export type GameUpdateEvent = LayerEvent<GameEvents, 'game.update'>;

/** Init arguments of {@link DiceGameConsumer}: where rooms live. */
export interface DiceGameConsumerArgs {
  readonly store: GameStore;
  /** Where open rooms are counted for the `/game/` index; none: nowhere. */
  readonly rooms?: RoomDirectory | null;
}

function gameStatusOf(state: GameState): 0 | 1 {
  return state.status === 'over' ? 0 : 1;
}

/** How the room stands, in words: who won, whose turn it is, or that players are awaited. */
export function describeState(state: GameState): string {
  const w = winner(state);
  if (state.status === 'over') return `game over: ${w?.name ?? 'someone'} won`;
  if (state.players.length === 0) return 'waiting for players: join the game';
  const current = currentPlayer(state);
  return `game ${state.gameNumber}: ${current?.name ?? 'someone'}'s turn`;
}

/** Builds the state frame for `state`. */
export function stateFrame(room: string, state: GameState): GameStateFrame {
  const w = winner(state);
  return {
    type: 'state',
    room,
    boardSize: state.boardSize,
    players: state.players.map((p) => ({ id: p.id, name: p.name, position: p.position })),
    turn: currentPlayer(state)?.id ?? null,
    status: state.status,
    gameStatus: gameStatusOf(state),
    winner: w === null ? null : { id: w.id, name: w.name },
    gameNumber: state.gameNumber,
    version: state.version,
    message: describeState(state),
    position: state.lastRoll?.die ?? 0,
  };
}

/** The seed-shaped announcement of `change`, or `null` when there is nothing to announce. */
export function messageFrame(change: GameChange, state: GameState): GameMessageFrame | null {
  const status = gameStatusOf(state);
  switch (change.kind) {
    case 'none':
      return null;
    case 'joined':
      return { type: 'game', message: `${change.player.name} joined`, gameStatus: status, position: 0, player: { id: change.player.id, name: change.player.name } };
    case 'left':
      return { type: 'game', message: `${change.player.name} left`, gameStatus: status, position: 0, player: { id: change.player.id, name: change.player.name } };
    case 'new_game':
      return { type: 'game', message: `game ${state.gameNumber} started by ${change.by.name}`, gameStatus: 1, position: 0, player: { id: change.by.id, name: change.by.name } };
    case 'rolled': {
      const { player, roll, won } = change;
      const who = { id: player.id, name: player.name };
      const base = { type: 'game' as const, position: roll.die, player: who, from: roll.from, to: roll.to };
      return won
        ? { ...base, message: `${player.name} rolled ${roll.die} and reached square ${roll.to}: ${player.name} wins!`, gameStatus: 0, winner: who }
        : { ...base, message: `${player.name} rolled ${roll.die}: square ${roll.from} → ${roll.to}`, gameStatus: 1 };
    }
  }
}

type Action = 'join' | 'roll' | 'new_game' | 'leave';
const ACTIONS: ReadonlySet<string> = new Set<Action>(['join', 'roll', 'new_game', 'leave']);

// Open connections per (room, player) in this process, so a player with two tabs open stays in
// the game when one closes.
const openConnections = new Map<string, number>();

/**
 * `ws/game/<room>/`: a dice game room. A name that is not a room name (room-name.ts: letters of
 * any script, digits, `_`, `-`) is refused before the handshake (HTTP 403). Route it with its
 * store: `DiceGameConsumer.with({ store, rooms })`.
 */
export class DiceGameConsumer extends JsonWebsocketConsumer<{ room: string }, GameEvents, DiceGameConsumerArgs> implements EventHandlers<GameEvents> {
  /** Refused actions are error frames; players click a lot, so allow more of them than 5. */
  override badFrameLimit = 50;

  /** Flood protection: a burst of 60 actions, refilled at 6 per second (clicking is slower). */
  override features = [frameRateLimit({ limit: 60, windowMs: 10_000 })];

  /** The room name from the path; validated in the constructor. */
  readonly room: string;
  /** Who this connection plays as. */
  readonly player: PlayerIdentity;
  readonly #valid: boolean;
  #counted = false;

  constructor(init: ConsumerInit<{ room: string }, DiceGameConsumerArgs>) {
    super(init);
    // `room` comes from the client (the URL path): validate it before it names a group or a key.
    this.room = normalizeRoomName(String(init.scope.urlRoute.kwargs.room ?? '')) ?? '';
    this.#valid = isValidRoomName(this.room);
    this.groups = this.#valid ? [gameGroup(this.room)] : [];
    this.player = playerFromScope(init.scope);
  }

  get #store(): GameStore {
    const store = this.args?.store;
    if (store === undefined) throw new Error('DiceGameConsumer has no store: route DiceGameConsumer.with({ store })');
    return store;
  }

  get #connectionKey(): string {
    return `${this.room}\n${this.player.id}`;
  }

  override async connect(): Promise<void> {
    if (!this.#valid) {
      this.close();
      return;
    }
    const state = await this.#store.get(this.room);
    this.accept();
    openConnections.set(this.#connectionKey, (openConnections.get(this.#connectionKey) ?? 0) + 1);
    this.#counted = true;
    await this.#list('enter');
    const gameStatus = gameStatusOf(state);
    // Before any roll, a die for the greeting as the seed casts one; it moves no one.
    const position = state.lastRoll?.die ?? randomInt(1, 7);
    const w = winner(state);
    this.sendJson({ type: 'hello', room: this.room, you: { id: this.player.id, name: this.player.name }, message: `you are ${this.player.name}`, gameStatus, position });
    const greeting: GameMessageFrame = { type: 'game', greeting: true, message: SEED_GREETING, text: describeState(state), gameStatus, position, ...(w ? { winner: { id: w.id, name: w.name } } : {}) };
    this.sendJson(greeting);
    this.sendJson(stateFrame(this.room, state));
  }

  /**
   * Handles `{"action": ...}`. `content` comes from the client: anything but a known action is a
   * {@link BadRequestError} (an error frame), as is an action the rules refuse.
   */
  override async receiveJson(content: unknown): Promise<void> {
    const frame = content !== null && typeof content === 'object' && !Array.isArray(content) ? (content as { action?: unknown; message?: unknown }) : undefined;
    const action = frame?.action;
    if (action === undefined && frame !== undefined && 'message' in frame) {
      await this.#seedRoll();
      return;
    }
    if (typeof action !== 'string' || !ACTIONS.has(action)) {
      throw new BadRequestError('send {"action": "join"}, {"action": "roll"}, {"action": "new_game"} or {"action": "leave"} (or the seed\'s {"message": …}, a roll)');
    }
    await this.#apply(action as Action);
  }

  /**
   * A seed frame: a roll, after joining (not a player yet) or a new game (the last one is over)
   * when needed. Each step is announced as the buttons' are; a refused one (out of turn, a full
   * room) is an error frame.
   */
  async #seedRoll(): Promise<void> {
    let state = await this.#store.get(this.room);
    if (!state.players.some((p) => p.id === this.player.id)) state = await this.#apply('join');
    if (state.status === 'over') await this.#apply('new_game');
    await this.#apply('roll');
  }

  /** Applies one action, announces the change and returns the new state. @throws {@link BadRequestError} when the rules refuse it. */
  async #apply(action: Action): Promise<GameState> {
    const store = this.#store;
    let result: GameResult;
    switch (action as Action) {
      case 'join':
        result = await store.join(this.room, this.player);
        break;
      case 'roll':
        result = await store.roll(this.room, this.player.id);
        break;
      case 'new_game':
        result = await store.newGame(this.room, this.player.id);
        break;
      case 'leave':
        result = await store.leave(this.room, this.player.id);
        break;
    }
    if (!result.ok) throw new BadRequestError(result.message);
    if (result.change.kind === 'none') {
      // A repeated join: nothing changed for the room; refresh this client only.
      this.sendJson(stateFrame(this.room, result.state));
      return result.state;
    }
    await this.#announce(result);
    return result.state;
  }

  /** Forwards a room update (the same frame objects to every member). */
  gameUpdate(event: GameUpdateEvent): void {
    for (const frame of event.frames) this.sendJson(frame);
  }

  /** Counts this connection in the room directory, or stops; a store failure only costs the listing. */
  async #list(how: 'enter' | 'leave'): Promise<void> {
    const rooms = this.args?.rooms ?? null;
    if (rooms === null) return;
    try {
      await rooms[how](this.room, this.channelName);
    } catch (err) {
      this.logger.warn({ err, room: this.room }, 'dice: the room directory (presence) failed; the /game/ list may be off');
    }
  }

  override async disconnect(_code: number): Promise<void> {
    if (!this.#counted) return;
    await this.#list('leave');
    this.#counted = false;
    const key = this.#connectionKey;
    const left = (openConnections.get(key) ?? 1) - 1;
    if (left > 0) {
      openConnections.set(key, left);
      return;
    }
    openConnections.delete(key);
    const result = await this.#store.leave(this.room, this.player.id);
    if (result.ok) await this.#announce(result);
  }

  async #announce(result: Extract<GameResult, { ok: true }>): Promise<void> {
    const frames: Array<GameMessageFrame | GameStateFrame> = [];
    const message = messageFrame(result.change, result.state);
    if (message !== null) frames.push(message);
    frames.push(stateFrame(this.room, result.state));
    if (this.channelLayer) await this.groupSend(gameGroup(this.room), { type: 'game.update', frames });
    else this.gameUpdate({ type: 'game.update', frames });
  }
}
