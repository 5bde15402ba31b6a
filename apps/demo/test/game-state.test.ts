/** The dice game's rules (game/game-state.ts) and both stores, atomic turns across handles (game/game-store.ts). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { after, before, describe, it } from 'node:test';
import { MAX_PLAYERS, createGame, currentPlayer, join as joinGame, leave, newGame, parseGameState, roll, winner, type GameResult, type GameState } from '../game/game-state.js';
import { MemoryGameStore, RedisGameStore, type GameStore } from '../game/game-store.js';
import { REDIS_URL, redisAvailable } from '@switchboard/test-support';

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
