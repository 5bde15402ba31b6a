/** Dice game rooms: the rules, both stores (atomic turns), DiceGameConsumer, and the game pages. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { after, before, describe, it } from 'node:test';
import { CookieMiddleware, InMemoryChannelLayer, URLRouter, createScope, path, type Scope } from 'switchboard';
import { RedisChannelLayer } from 'switchboard/redis';
import { WebsocketCommunicator } from 'switchboard/testing';
import { DiceGameConsumer, playerFromScope, type GameMessageFrame, type GameStateFrame } from '../consumers/dice.js';
import { MAX_PLAYERS, createGame, currentPlayer, join as joinGame, leave, newGame, parseGameState, roll, winner, type GameResult, type GameState } from '../game/game-state.js';
import { MemoryGameStore, RedisGameStore, type GameStore } from '../game/game-store.js';
import { MemoryReadingsStore } from '../iot/readings-store.js';
import { registerSystemPages } from '../systems-http.js';
import { systemRoutes } from '../systems-routes.js';
import { REDIS_URL, redisAvailable } from '@switchboard/test-support';
import { DEMO_ROOT } from './paths.js';

const alice = { id: 'guest:guest-alice1', name: 'guest-alice1' };
const bob = { id: 'guest:guest-bob222', name: 'guest-bob222' };
const carol = { id: 'user:7', name: 'carol' };

/** The state of an accepted action (fails the test for a refused one). */
function ok(result: GameResult): GameState {
  assert.equal(result.ok, true, result.ok ? '' : `refused: ${result.message}`);
  return result.state;
}

describe('game rules (game-state.ts)', () => {
  it('starts empty, waiting, on a board of 20', () => {
    const s = createGame();
    assert.equal(s.boardSize, 20);
    assert.deepEqual(s.players, []);
    assert.equal(s.status, 'waiting');
    assert.equal(currentPlayer(s), null);
    assert.throws(() => createGame(1), RangeError);
  });

  it('takes turns in join order and wraps around', () => {
    let s = createGame(100);
    s = ok(joinGame(s, alice));
    s = ok(joinGame(s, bob));
    s = ok(joinGame(s, carol));
    assert.deepEqual(s.players.map((p) => p.id), [alice.id, bob.id, carol.id]);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = currentPlayer(s)!;
      order.push(p.name);
      s = ok(roll(s, p.id, 1));
    }
    assert.deepEqual(order, ['guest-alice1', 'guest-bob222', 'carol', 'guest-alice1', 'guest-bob222', 'carol']);
    assert.deepEqual(s.players.map((p) => p.position), [2, 2, 2]);
    assert.equal(s.status, 'playing');
  });

  it('ignores a repeated join and refuses a ninth player', () => {
    let s = ok(joinGame(createGame(), alice));
    const again = joinGame(s, alice);
    assert.ok(again.ok && again.change.kind === 'none');
    assert.equal(again.state, s, 'same state object: nothing changed');
    for (let i = 1; i < MAX_PLAYERS; i++) s = ok(joinGame(s, { id: `guest:g${i}`, name: `g${i}` }));
    const full = joinGame(s, { id: 'guest:late', name: 'late' });
    assert.ok(!full.ok && full.code === 'room_full');
  });

  it('refuses out-of-turn rolls and spectators without changing anything', () => {
    const s = ok(joinGame(ok(joinGame(createGame(), alice)), bob));
    const outOfTurn = roll(s, bob.id, 3);
    assert.ok(!outOfTurn.ok);
    assert.equal(outOfTurn.code, 'not_your_turn');
    assert.match(outOfTurn.message, /guest-alice1's turn/);
    assert.equal(outOfTurn.state, s);
    const spectator = roll(s, carol.id, 3);
    assert.ok(!spectator.ok && spectator.code === 'not_a_player');
    const spectatorNew = newGame(s, carol.id);
    assert.ok(!spectatorNew.ok && spectatorNew.code === 'not_a_player');
  });

  it('ends the game when a player reaches or passes the last square', () => {
    let s = ok(joinGame(ok(joinGame(createGame(10), alice)), bob));
    s = ok(roll(s, alice.id, 6));
    s = ok(roll(s, bob.id, 6));
    const win = roll(s, alice.id, 5); // 6 + 5 = 11: past the end
    assert.ok(win.ok && win.change.kind === 'rolled' && win.change.won);
    s = win.state;
    assert.equal(s.status, 'over');
    assert.equal(s.players[0]!.position, 10, 'stops on the last square');
    assert.deepEqual(winner(s), { ...alice, position: 10 });
    assert.equal(currentPlayer(s), null);
    const late = roll(s, bob.id, 1);
    assert.ok(!late.ok && late.code === 'game_over');
  });

  it('starts a new game only once the game is over, same players, all back to 0', () => {
    let s = ok(joinGame(ok(joinGame(createGame(3), alice)), bob));
    const early = newGame(s, alice.id);
    assert.ok(!early.ok && early.code === 'game_in_progress');
    s = ok(roll(s, alice.id, 6));
    s = ok(newGame(s, bob.id));
    assert.equal(s.status, 'waiting');
    assert.equal(s.gameNumber, 2);
    assert.equal(s.winnerId, null);
    assert.deepEqual(s.players.map((p) => [p.id, p.position]), [[alice.id, 0], [bob.id, 0]]);
    assert.equal(currentPlayer(s)!.id, alice.id);
  });

  it('passes the turn on when a player leaves', () => {
    let s = createGame(100);
    for (const p of [alice, bob, carol]) s = ok(joinGame(s, p));
    s = ok(roll(s, alice.id, 1)); // bob's turn
    const bobLeft = ok(leave(s, bob.id));
    assert.equal(currentPlayer(bobLeft)!.id, carol.id, 'the leaver had the turn: the next player gets it');
    const aliceLeft = ok(leave(s, alice.id));
    assert.equal(currentPlayer(aliceLeft)!.id, bob.id, 'an earlier player left: the turn stays with bob');
    const carolLeft = ok(leave(ok(roll(s, bob.id, 1)), carol.id));
    assert.equal(currentPlayer(carolLeft)!.id, alice.id, 'the last in order left on their turn: wraps to the first');
    const empty = ok(leave(ok(leave(ok(leave(s, alice.id)), bob.id)), carol.id));
    assert.equal(empty.status, 'waiting');
    assert.ok(!leave(empty, alice.id).ok);
  });

  it('counts versions and refuses impossible dice', () => {
    const s = ok(joinGame(createGame(), alice));
    assert.equal(s.version, 1);
    assert.equal(ok(roll(s, alice.id, 2)).version, 2);
    assert.throws(() => roll(s, alice.id, 0), RangeError);
    assert.throws(() => roll(s, alice.id, 7), RangeError);
  });

  it('reads back its own JSON and nothing else', () => {
    const s = ok(joinGame(createGame(), alice));
    assert.deepEqual(parseGameState(JSON.stringify(s)), s);
    for (const bad of ['', 'null', '[]', '{"boardSize": 20}', '{']) assert.equal(parseGameState(bad), null, bad);
  });
});

/** Behaviour every GameStore has. `make` returns two handles on the same rooms (two processes). */
function storeSuite(name: string, make: () => Promise<[GameStore, GameStore]>, cleanup: () => Promise<void>): void {
  describe(name, () => {
    let a: GameStore;
    let b: GameStore;
    before(async () => {
      [a, b] = await make();
    });
    after(cleanup);

    it('returns a fresh game for an unknown room', async () => {
      const s = await a.get('unknown-room');
      assert.equal(s.status, 'waiting');
      assert.deepEqual(s.players, []);
    });

    it('shares rooms between handles and rolls 1..6', async () => {
      ok(await a.join('shared', alice));
      ok(await b.join('shared', bob));
      assert.deepEqual((await b.get('shared')).players.map((p) => p.id), [alice.id, bob.id]);
      const rolled = await b.roll('shared', alice.id);
      assert.ok(rolled.ok && rolled.change.kind === 'rolled');
      assert.ok(rolled.change.roll.die >= 1 && rolled.change.roll.die <= 6);
      assert.equal((await a.get('shared')).players[0]!.position, rolled.change.roll.die);
    });

    it('lets exactly one of two concurrent rolls of the same turn through', async () => {
      for (let round = 0; round < 10; round++) {
        const room = `double-${round}`;
        ok(await a.join(room, alice));
        ok(await a.join(room, bob));
        const before = await a.get(room);
        const results = await Promise.all([a.roll(room, alice.id), b.roll(room, alice.id), a.roll(room, alice.id), b.roll(room, alice.id)]);
        const accepted = results.filter((r) => r.ok);
        assert.equal(accepted.length, 1, `round ${round}: ${results.map((r) => (r.ok ? 'ok' : r.code)).join(', ')}`);
        for (const r of results) if (!r.ok) assert.equal(r.code, 'not_your_turn');
        const after = await b.get(room);
        assert.equal(after.version, before.version + 1);
        assert.equal(currentPlayer(after)!.id, bob.id);
      }
    });

    it('loses no join when many players join at once through both handles', async () => {
      const players = Array.from({ length: MAX_PLAYERS }, (_, i) => ({ id: `guest:p${i}`, name: `p${i}` }));
      const results = await Promise.all(players.map((p, i) => (i % 2 ? a : b).join('crowd', p)));
      assert.ok(results.every((r) => r.ok));
      const s = await a.get('crowd');
      assert.deepEqual(new Set(s.players.map((p) => p.id)), new Set(players.map((p) => p.id)));
      assert.equal(s.version, MAX_PLAYERS);
    });

    it('changes nothing for a refused action', async () => {
      ok(await a.join('refused', alice));
      const before = await a.get('refused');
      const r = await b.roll('refused', carol.id);
      assert.ok(!r.ok && r.code === 'not_a_player');
      assert.deepEqual(await a.get('refused'), before);
    });
  });
}

storeSuite(
  'MemoryGameStore',
  async () => {
    const store = new MemoryGameStore();
    return [store, store];
  },
  async () => {},
);

describe('RedisGameStore', { skip: !redisAvailable() && `Redis unreachable at ${REDIS_URL}` }, () => {
  const prefix = `sbtest:${randomUUID().slice(0, 8)}:`;
  const clients: Redis[] = [];
  storeSuite(
    'on two Redis connections (two processes)',
    async () => {
      const [c1, c2] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
      clients.push(c1, c2);
      return [new RedisGameStore(c1, { prefix }), new RedisGameStore(c2, { prefix })];
    },
    async () => {
      await new RedisGameStore(clients[0]!, { prefix }).clear();
      await Promise.all(clients.map((c) => c.quit()));
    },
  );
});

// ---- the consumer ----------------------------------------------------------------------------

type Frame = { type: string; [key: string]: unknown };

describe('DiceGameConsumer', () => {
  const layer = new InMemoryChannelLayer();
  const dice: number[] = [];
  // Board of 10; dice from `dice` when scripted, else the real crypto die.
  const store = new MemoryGameStore({ boardSize: 10, rollDie: () => dice.shift() ?? 1 + Math.floor(Math.random() * 6) });
  const app = new CookieMiddleware(new URLRouter(systemRoutes({ readingsStore: new MemoryReadingsStore(), gameStore: store })));
  const open: WebsocketCommunicator[] = [];
  after(async () => {
    await Promise.all(open.map((c) => c.disconnect()));
    await layer.close();
  });

  /** Connects as the guest `name` (no name: no cookie) and reads the three greeting frames. */
  async function enter(room: string, name?: string): Promise<{ c: WebsocketCommunicator; you: { id: string; name: string }; state: GameStateFrame }> {
    const c = new WebsocketCommunicator(app, `/ws/game/${room}/`, { channelLayer: layer, headers: name ? { cookie: `sb_guest=${name}` } : {} });
    open.push(c);
    assert.equal((await c.connect()).accepted, true);
    const hello = await c.receiveJson<{ type: 'hello'; room: string; you: { id: string; name: string } }>();
    assert.equal(hello.type, 'hello');
    assert.equal(hello.room, room);
    const greeting = await c.receiveJson<GameMessageFrame>();
    assert.equal(greeting.type, 'game');
    assert.equal(typeof greeting.message, 'string');
    assert.ok(greeting.gameStatus === 0 || greeting.gameStatus === 1);
    assert.equal(typeof greeting.position, 'number');
    const state = await c.receiveJson<GameStateFrame>();
    assert.equal(state.type, 'state');
    return { c, you: hello.you, state };
  }

  /** The next two frames of a change: the seed-style message, then the state. */
  async function change(c: WebsocketCommunicator): Promise<[GameMessageFrame, GameStateFrame]> {
    const message = await c.receiveJson<GameMessageFrame>();
    assert.equal(message.type, 'game', JSON.stringify(message));
    const state = await c.receiveJson<GameStateFrame>();
    assert.equal(state.type, 'state', JSON.stringify(state));
    return [message, state];
  }

  async function expectError(c: WebsocketCommunicator, pattern: RegExp): Promise<void> {
    const frame = await c.receiveJson<Frame>();
    assert.equal(frame.type, 'error', JSON.stringify(frame));
    assert.equal(frame.code, 'SB_ERR_BAD_REQUEST');
    assert.match(String(frame.message), pattern);
  }

  it('plays a full game between two players, refusing an out-of-turn roll and a spectator', async () => {
    const room = 'full-game';
    const a = await enter(room, 'guest-alice1');
    const b = await enter(room, 'guest-bob222');
    const spectator = await enter(room, 'guest-carol3');
    assert.deepEqual(a.you, alice);
    assert.deepEqual(a.state.players, []);
    const everyone = [a.c, b.c, spectator.c];

    await a.c.sendJson({ action: 'join' });
    for (const c of everyone) assert.equal((await change(c))[0].message, 'guest-alice1 joined');
    await b.c.sendJson({ action: 'join' });
    for (const c of everyone) {
      const [, state] = await change(c);
      assert.deepEqual(state.players.map((p) => p.name), ['guest-alice1', 'guest-bob222']);
      assert.equal(state.turn, alice.id);
      assert.equal(state.gameStatus, 1);
    }
    const versionBefore = (await store.get(room)).version;

    // Out of turn: an error frame to bob only, no state change.
    await b.c.sendJson({ action: 'roll' });
    await expectError(b.c, /not your turn: it is guest-alice1's turn/);
    // A spectator: error frames, no state change.
    await spectator.c.sendJson({ action: 'roll' });
    await expectError(spectator.c, /join the game first/);
    await spectator.c.sendJson({ action: 'new_game' });
    await expectError(spectator.c, /join the game first/);
    for (const c of [a.c, b.c]) assert.equal(await c.receiveNothing(), true);
    assert.equal((await store.get(room)).version, versionBefore);

    // Alice 6 → 6, Bob 3 → 3, Alice 5 → 11: reaches the end of a 10-square board and wins.
    dice.push(6, 3, 5);
    await a.c.sendJson({ action: 'roll' });
    for (const c of everyone) {
      const [message, state] = await change(c);
      assert.deepEqual(
        { message: message.message, gameStatus: message.gameStatus, position: message.position, player: message.player, from: message.from, to: message.to },
        { message: 'guest-alice1 rolled 6: square 0 → 6', gameStatus: 1, position: 6, player: alice, from: 0, to: 6 },
      );
      assert.equal(state.turn, bob.id);
    }
    await b.c.sendJson({ action: 'roll' });
    for (const c of everyone) assert.equal((await change(c))[0].position, 3);
    await a.c.sendJson({ action: 'roll' });
    for (const c of everyone) {
      const [message, state] = await change(c);
      assert.equal(message.gameStatus, 0);
      assert.equal(message.position, 5);
      assert.deepEqual(message.winner, alice);
      assert.match(message.message, /guest-alice1 wins/);
      assert.equal(state.status, 'over');
      assert.equal(state.gameStatus, 0);
      assert.deepEqual(state.winner, alice);
      assert.equal(state.turn, null);
      assert.deepEqual(state.players.map((p) => p.position), [10, 3]);
    }

    // Over: no more rolls; a player starts a new game.
    await b.c.sendJson({ action: 'roll' });
    await expectError(b.c, /the game is over/);
    await b.c.sendJson({ action: 'new_game' });
    for (const c of everyone) {
      const [message, state] = await change(c);
      assert.equal(message.message, 'game 2 started by guest-bob222');
      assert.equal(message.gameStatus, 1);
      assert.equal(state.gameNumber, 2);
      assert.equal(state.status, 'waiting');
      assert.deepEqual(state.players.map((p) => p.position), [0, 0]);
      assert.equal(state.turn, alice.id);
    }

    // Game 2 with the real die: alternate until someone wins; every roll is 1..6.
    let over = false;
    for (let turn = 0; !over && turn < 40; turn++) {
      const mover = turn % 2 === 0 ? a.c : b.c;
      await mover.sendJson({ action: 'roll' });
      for (const c of everyone) {
        const [message, state] = await change(c);
        assert.ok(message.position >= 1 && message.position <= 6);
        over = state.gameStatus === 0;
        if (over) assert.ok(state.winner !== null && message.winner !== undefined);
      }
    }
    assert.ok(over, 'the game ended');
  });

  it('answers unknown actions and non-objects with an error frame and keeps the connection', async () => {
    const { c } = await enter('bad-actions', 'guest-dave44');
    for (const content of [{ action: 'cheat' }, { message: 'game start' }, [1], 'roll', null]) {
      await c.sendJson(content);
      await expectError(c, /send \{"action": "join"\}/);
    }
    await c.sendJson({ action: 'join' });
    assert.equal((await change(c))[0].message, 'guest-dave44 joined');
  });

  it('takes the player name from the login, else the guest cookie, else a fresh guest name', () => {
    const base = createScope({ path: '/ws/game/x/' });
    const withUser: Scope = { ...base, user: { id: 42, username: 'erin', isAuthenticated: true } };
    assert.deepEqual(playerFromScope(withUser), { id: 'user:42', name: 'erin' });
    const anonymous: Scope = { ...base, cookies: { sb_guest: 'guest-frank9' }, user: { id: null, username: '', isAuthenticated: false } };
    assert.deepEqual(playerFromScope(anonymous), { id: 'guest:guest-frank9', name: 'guest-frank9' });
    for (const cookie of ['admin', 'guest-UPPER', 'guest-<b>x</b>', 'guest-ab']) {
      const p = playerFromScope({ ...base, cookies: { sb_guest: cookie } });
      assert.match(p.name, /^guest-[a-z0-9]{4,12}$/);
      assert.notEqual(p.name, cookie);
    }
    // A user who registered a guest-looking name is not that guest.
    const lookalike = playerFromScope({ ...base, cookies: { sb_guest: 'guest-frank9' }, user: { id: 5, username: 'guest-frank9', isAuthenticated: true } });
    assert.notEqual(lookalike.id, 'guest:guest-frank9');
  });

  it('removes a player when their last connection to the room closes', async () => {
    const room = 'leaving';
    const a1 = await enter(room, 'guest-alice1');
    const a2 = await enter(room, 'guest-alice1'); // a second tab
    const b = await enter(room, 'guest-bob222');
    await a1.c.sendJson({ action: 'join' });
    for (const c of [a1.c, a2.c, b.c]) await change(c);
    await a1.c.disconnect();
    assert.equal(await b.c.receiveNothing(), true, 'alice still has a tab open');
    await a2.c.disconnect();
    const [message, state] = await change(b.c);
    assert.equal(message.message, 'guest-alice1 left');
    assert.deepEqual(state.players, []);
  });

  it('refuses a room name outside [A-Za-z0-9_-]{1,64} before the handshake', async () => {
    for (const room of ['bad.room', 'x'.repeat(65)]) {
      const c = new WebsocketCommunicator(app, `/ws/game/${room}/`, { channelLayer: layer });
      const result = await c.connect();
      assert.equal(result.accepted, false);
      assert.equal(result.status, 403);
    }
  });

  it('fails loudly when routed without a store', async () => {
    const c = new WebsocketCommunicator(new URLRouter([path('ws/game/<room>/', DiceGameConsumer)]), '/ws/game/x/', { channelLayer: layer });
    const result = await c.connect();
    assert.equal(result.accepted, false);
    assert.equal(result.status, 500);
  });
});

describe('DiceGameConsumer across two processes over Redis', { skip: !redisAvailable() && `Redis unreachable at ${REDIS_URL}` }, () => {
  // Two "processes": each its own Redis channel layer, Redis client and game store, sharing only
  // Redis (same key prefix). Alice plays on process 1, Bob and a spectator on process 2.
  const prefix = `sbtest${randomUUID().slice(0, 8)}:`;
  const dice: number[] = [];
  const rollDie = (): number => dice.shift() ?? 1 + Math.floor(Math.random() * 6);
  const layers: RedisChannelLayer[] = [];
  const clients: Redis[] = [];
  const open: WebsocketCommunicator[] = [];
  const apps: CookieMiddleware[] = [];
  const stores: RedisGameStore[] = [];

  before(async () => {
    for (let i = 0; i < 2; i++) {
      layers.push(await RedisChannelLayer.fromUrl(REDIS_URL, { prefix }));
      const client = new Redis(REDIS_URL);
      clients.push(client);
      const store = new RedisGameStore(client, { prefix, boardSize: 10, rollDie });
      stores.push(store);
      apps.push(new CookieMiddleware(new URLRouter(systemRoutes({ readingsStore: new MemoryReadingsStore(), gameStore: store }))));
    }
  });

  after(async () => {
    await Promise.all(open.map((c) => c.disconnect()));
    await stores[0]?.clear();
    await layers[0]?.flush();
    await Promise.all([...layers.map((l) => l.close()), ...clients.map((c) => c.quit())]);
  });

  async function enter(process: 0 | 1, room: string, name: string): Promise<WebsocketCommunicator> {
    const c = new WebsocketCommunicator(apps[process]!, `/ws/game/${room}/`, { channelLayer: layers[process]!, headers: { cookie: `sb_guest=${name}` } });
    open.push(c);
    assert.equal((await c.connect()).accepted, true);
    for (const type of ['hello', 'game', 'state']) assert.equal((await c.receiveJson<Frame>()).type, type);
    return c;
  }

  async function change(c: WebsocketCommunicator): Promise<[GameMessageFrame, GameStateFrame]> {
    const message = await c.receiveJson<GameMessageFrame>({ timeoutMs: 2_000 });
    assert.equal(message.type, 'game', JSON.stringify(message));
    const state = await c.receiveJson<GameStateFrame>({ timeoutMs: 2_000 });
    assert.equal(state.type, 'state', JSON.stringify(state));
    return [message, state];
  }

  it('plays one game between players on different processes, refusing an out-of-turn roll', async () => {
    const room = 'two-processes';
    const a = await enter(0, room, 'guest-alice1');
    const b = await enter(1, room, 'guest-bob222');
    const spectator = await enter(1, room, 'guest-carol3');
    const everyone = [a, b, spectator];

    await a.sendJson({ action: 'join' });
    for (const c of everyone) assert.equal((await change(c))[0].message, 'guest-alice1 joined');
    await b.sendJson({ action: 'join' });
    for (const c of everyone) assert.deepEqual((await change(c))[1].players.map((p) => p.name), ['guest-alice1', 'guest-bob222']);

    // Bob (process 2) out of turn: an error to him only; process 1's state is unchanged.
    const version = (await stores[0]!.get(room)).version;
    await b.sendJson({ action: 'roll' });
    const error = await b.receiveJson<Frame>();
    assert.equal(error.type, 'error');
    assert.match(String(error.message), /not your turn: it is guest-alice1's turn/);
    for (const c of [a, spectator]) assert.equal(await c.receiveNothing(), true);
    assert.equal((await stores[0]!.get(room)).version, version);

    // Alice 6 (process 1), Bob 3 (process 2), Alice 5: wins on a board of 10.
    dice.push(6, 3, 5);
    const versions: number[][] = [];
    for (const mover of [a, b, a]) {
      await mover.sendJson({ action: 'roll' });
      const seen = await Promise.all(everyone.map((c) => change(c)));
      versions.push(seen.map(([, state]) => state.version));
      for (const [message, state] of seen) assert.deepEqual(state, seen[0]![1], `same state everywhere: ${message.message}`);
    }
    for (const v of versions) assert.equal(new Set(v).size, 1, 'every client saw the same version');
    const final = await stores[1]!.get(room);
    assert.equal(final.status, 'over');
    assert.deepEqual(final.players.map((p) => p.position), [10, 3]);
    assert.equal(winner(final)?.id, alice.id);

    // A new game started on process 2 reaches process 1.
    await b.sendJson({ action: 'new_game' });
    for (const c of everyone) {
      const [message, state] = await change(c);
      assert.equal(message.message, 'game 2 started by guest-bob222');
      assert.equal(state.gameStatus, 1);
      assert.equal(state.turn, alice.id);
    }
  });
});

describe('game pages', () => {
  let app: FastifyInstance;
  before(async () => {
    const eta = new Eta({ views: join(DEMO_ROOT, 'views'), autoEscape: true });
    app = Fastify({ logger: false });
    await registerSystemPages(app, { render: (view, data) => eta.render(view, data) });
    await app.ready();
  });
  after(() => app.close());

  it('serves a room page that names the room for the script', async () => {
    const res = await app.inject({ url: '/game/lobby/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /data-room="lobby"/);
    assert.match(res.body, /<script type="module" src="\/static\/game.js">/);
    assert.match(res.headers['set-cookie'] as string, /^sb_guest=guest-[a-z0-9]+;.*HttpOnly/i);
  });

  it('picks a room from the form, and refuses a bad name with 400', async () => {
    assert.match((await app.inject({ url: '/game/' })).body, /<form method="get" action="\/game\/"/);
    const go = await app.inject({ url: '/game/?room=lobby' });
    assert.equal(go.statusCode, 303);
    assert.equal(go.headers.location, '/game/lobby/');
    const bad = await app.inject({ url: '/game/?room=%3Cscript%3E' });
    assert.equal(bad.statusCode, 400);
    assert.ok(!bad.body.includes('<script>'), 'the bad name is escaped');
    const badPath = await app.inject({ url: '/game/bad.name/' });
    assert.equal(badPath.statusCode, 400);
    assert.match(badPath.body, /not a valid room name/);
    const noSlash = await app.inject({ url: '/game/lobby' });
    assert.equal(noSlash.statusCode, 301);
    assert.equal(noSlash.headers.location, '/game/lobby/');
  });
});
