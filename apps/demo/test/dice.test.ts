/** Dice game rooms: DiceGameConsumer (one process, two over Redis, the seed's protocol) and the game pages. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { after, before, describe, it } from 'node:test';
import { CookieMiddleware, InMemoryChannelLayer, URLRouter, createScope, path, silentLogger, type Scope } from 'switchboard';
import { RedisChannelLayer } from 'switchboard/redis';
import { ConsumerFailedError, WebsocketCommunicator } from 'switchboard/testing';
import { GuestMiddleware, processGuestIdentity } from '../accounts/guest-identity.js';
import { DiceGameConsumer, SEED_GREETING, playerFromScope, type GameMessageFrame, type GameStateFrame } from '../consumers/dice.js';
import { winner } from '../game/game-state.js';
import { MemoryGameStore, RedisGameStore } from '../game/game-store.js';
import { MemoryReadingsStore } from '../iot/readings-store.js';
import { registerSystemPages } from '../systems-http.js';
import { systemRoutes } from '../systems-routes.js';
import { REDIS_URL, redisAvailable } from '@switchboard/test-support';
import { guestCookie } from './guest-cookie.js';
import { DEMO_ROOT } from './paths.js';

const alice = { id: 'guest:guest-alice1', name: 'guest-alice1' };
const bob = { id: 'guest:guest-bob222', name: 'guest-bob222' };

// ---- the consumer ----------------------------------------------------------------------------

type Frame = { type: string; [key: string]: unknown };

describe('DiceGameConsumer', () => {
  const layer = new InMemoryChannelLayer();
  const dice: number[] = [];
  // Board of 10; dice from `dice` when scripted, else the real crypto die.
  const store = new MemoryGameStore({ boardSize: 10, rollDie: () => dice.shift() ?? 1 + Math.floor(Math.random() * 6) });
  const app = new CookieMiddleware(new GuestMiddleware(new URLRouter(systemRoutes({ readingsStore: new MemoryReadingsStore(), gameStore: store })), processGuestIdentity()));
  const open: WebsocketCommunicator[] = [];
  after(async () => {
    await Promise.all(open.map((c) => c.disconnect()));
    await layer.close();
  });

  /** Connects as the guest `name` (no name: no cookie) and reads the three greeting frames. */
  async function enter(room: string, name?: string): Promise<{ c: WebsocketCommunicator; you: { id: string; name: string }; state: GameStateFrame }> {
    const c = new WebsocketCommunicator(app, `/ws/game/${room}/`, { channelLayer: layer, headers: name ? { cookie: guestCookie(name) } : {} });
    open.push(c);
    assert.equal((await c.connect()).accepted, true);
    const hello = await c.receiveJson<{ type: 'hello'; room: string; you: { id: string; name: string } }>();
    assert.equal(hello.type, 'hello');
    assert.equal(hello.room, decodeURIComponent(room));
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
    for (const content of [{ action: 'cheat' }, { action: 'fly', message: 'not a seed frame: it has an action' }, [1], 'roll', null]) {
      await c.sendJson(content);
      await expectError(c, /send \{"action": "join"\}/);
    }
    await c.sendJson({ action: 'join' });
    assert.equal((await change(c))[0].message, 'guest-dave44 joined');
  });

  it("speaks the seed's protocol: a {message} frame rolls (joining, then a new game, as needed), every frame has the seed's fields", async () => {
    const room = 'seed-protocol';
    const c = new WebsocketCommunicator(app, `/ws/game/${room}/`, { channelLayer: layer, headers: { cookie: guestCookie('guest-seed01') } });
    open.push(c);
    assert.equal((await c.connect()).accepted, true);
    const seedFields = (f: Frame): void => {
      assert.equal(typeof f['message'], 'string', JSON.stringify(f));
      assert.ok(f['gameStatus'] === 0 || f['gameStatus'] === 1, JSON.stringify(f));
      assert.equal(typeof f['position'], 'number', JSON.stringify(f));
    };
    const hello = await c.receiveJson<Frame>();
    seedFields(hello);
    const greeting = await c.receiveJson<Frame>();
    assert.equal(greeting['message'], SEED_GREETING);
    assert.equal(greeting['gameStatus'], 1);
    assert.ok(Number(greeting['position']) >= 1 && Number(greeting['position']) <= 6, 'a die, as the seed casts on connect');
    seedFields(await c.receiveJson<Frame>()); // state
    // The seed page's first frame (its values are the client's: ignored, the server rolls).
    dice.push(4, 6);
    await c.sendJson({ message: 'game start', gameStatus: 1, position: 6 });
    const [joined, afterJoin] = await change(c);
    assert.equal(joined.message, 'guest-seed01 joined');
    seedFields(afterJoin as unknown as Frame);
    const [rolled, afterRoll] = await change(c);
    assert.equal(rolled.position, 4);
    assert.equal(rolled.gameStatus, 1);
    assert.equal(afterRoll.position, 4);
    assert.match(afterRoll.message, /guest-seed01's turn/);
    await c.sendJson({ message: 'game start', position: 1 });
    const [won, over] = await change(c);
    assert.equal(won.position, 6);
    assert.equal(won.gameStatus, 0, 'the seed sees gameStatus 0 at the end');
    assert.equal(over.gameStatus, 0);
    assert.match(over.message, /game over: guest-seed01 won/);
    // Once over, the next seed frame starts a new game and rolls in it.
    dice.push(2);
    await c.sendJson({ message: 'again' });
    const [started, fresh] = await change(c);
    assert.match(started.message, /game 2 started/);
    assert.equal(fresh.gameStatus, 1);
    const [again] = await change(c);
    assert.equal(again.position, 2);
    assert.equal(again.to, 2);
  });

  it('takes the player name from the login, else the signed guest cookie, else a fresh guest name', () => {
    const base = createScope({ path: '/ws/game/x/' });
    const withUser: Scope = { ...base, user: { id: 42, username: 'erin', isAuthenticated: true } };
    assert.deepEqual(playerFromScope(withUser), { id: 'user:42', name: 'erin' });
    // GuestMiddleware puts a correctly signed cookie's name in scope.extensions.guestName.
    const anonymous: Scope = { ...base, extensions: { guestName: 'guest-frank9' }, user: { id: null, username: '', isAuthenticated: false } };
    assert.deepEqual(playerFromScope(anonymous), { id: 'guest:guest-frank9', name: 'guest-frank9' });
    // The bare cookie is not enough: it must have been checked.
    for (const cookie of ['guest-frank9', 'admin', 'guest-UPPER', 'guest-<b>x</b>', 'guest-ab']) {
      const p = playerFromScope({ ...base, cookies: { sb_guest: cookie } });
      assert.match(p.name, /^guest-[a-z0-9]{4,12}$/);
      assert.notEqual(p.name, cookie);
    }
    // A user who registered a guest-looking name is not that guest.
    const lookalike = playerFromScope({ ...base, extensions: { guestName: 'guest-frank9' }, user: { id: 5, username: 'guest-frank9', isAuthenticated: true } });
    assert.notEqual(lookalike.id, 'guest:guest-frank9');
  });

  it('plays a forged guest cookie (a name without its signature) as someone new', async () => {
    const room = 'forged';
    const { you } = await enter(room, 'guest-gina77');
    const forger = new WebsocketCommunicator(app, `/ws/game/${room}/`, { channelLayer: layer, headers: { cookie: 'sb_guest=guest-gina77' } });
    open.push(forger);
    assert.equal((await forger.connect()).accepted, true);
    const hello = await forger.receiveJson<{ you: { id: string; name: string } }>();
    assert.equal(you.name, 'guest-gina77');
    assert.notEqual(hello.you.name, 'guest-gina77');
    assert.notEqual(hello.you.id, you.id);
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

  it('refuses a name that is not a room name before the handshake', async () => {
    for (const room of ['bad.room', 'x'.repeat(65), encodeURIComponent('a b')]) {
      const c = new WebsocketCommunicator(app, `/ws/game/${room}/`, { channelLayer: layer });
      const result = await c.connect();
      assert.equal(result.accepted, false);
      assert.equal(result.status, 403);
    }
  });

  it('plays in a room with a Unicode name, in its encoded group', async () => {
    const room = '骰子房';
    const { c, you } = await enter(encodeURIComponent(room), 'guest-uni123');
    assert.equal(you.name, 'guest-uni123');
    await c.sendJson({ action: 'join' });
    const [message, state] = await change(c);
    assert.equal(message.message, 'guest-uni123 joined');
    assert.equal(state.room, room);
  });

  it('fails loudly when routed without a store', async () => {
    const c = new WebsocketCommunicator(new URLRouter([path('ws/game/<room>/', DiceGameConsumer)]), '/ws/game/x/', { channelLayer: layer, logger: silentLogger() });
    // The communicator surfaces what connect() threw (a real server answers 500 and logs it).
    await assert.rejects(c.connect(), (err: unknown) => err instanceof ConsumerFailedError && /has no store: route DiceGameConsumer\.with\(\{ store \}\)/.test(err.message));
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
      apps.push(new CookieMiddleware(new GuestMiddleware(new URLRouter(systemRoutes({ readingsStore: new MemoryReadingsStore(), gameStore: store })), processGuestIdentity())));
    }
  });

  after(async () => {
    await Promise.all(open.map((c) => c.disconnect()));
    await stores[0]?.clear();
    await layers[0]?.flush();
    await Promise.all([...layers.map((l) => l.close()), ...clients.map((c) => c.quit())]);
  });

  async function enter(process: 0 | 1, room: string, name: string): Promise<WebsocketCommunicator> {
    const c = new WebsocketCommunicator(apps[process]!, `/ws/game/${room}/`, { channelLayer: layers[process]!, headers: { cookie: guestCookie(name) } });
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
    assert.match(res.headers['set-cookie'] as string, /^sb_guest=guest-[a-z0-9]+\.[A-Za-z0-9_-]{22};.*HttpOnly/i);
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
