/**
 * The demo database (demo/db/) on SQLite (a temporary file) and on PostgreSQL (a temporary
 * database `sbtest_<random>`, dropped afterwards; skipped when PostgreSQL is unreachable unless
 * REQUIRE_SERVICES=1).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, JsonWebsocketConsumer, type ScopeUser } from 'switchboard';
import { WebsocketCommunicator } from 'switchboard/testing';
import { openDatabase, parseDatabaseUrl, type Database } from '../db/database.js';
import { LoggedInUserRepository } from '../db/logged-in-users.js';
import { ChatMessageRepository } from '../db/messages.js';
import { migrateDown, migrateToLatest } from '../db/migrations.js';
import { DatabaseSessionStore, hashSessionKey } from '../db/sessions.js';
import { DatabaseUserStore } from '../db/user-store.js';
import { InvalidPasswordError, InvalidUsernameError, UserRepository, UsernameTakenError, hashPassword, verifyPassword } from '../db/users.js';
import { ANONYMOUS_USER, AuthMiddlewareStack, AuthSignals, login, logout } from 'switchboard';
import { DATABASE_URL, postgresAvailable, tempPostgresDatabase } from '@switchboard/test-support';

interface Target {
  database: Database;
  cleanup(): Promise<void>;
}

async function openSqlite(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'sbtest-'));
  const database = await openDatabase(`sqlite:${join(dir, 'nested', 'test.sqlite3')}`);
  return {
    database,
    async cleanup() {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(): Promise<Target> {
  const temp = await tempPostgresDatabase('sbtest');
  let database: Database;
  try {
    database = await openDatabase(temp.url, { poolSize: 4 });
  } catch (err) {
    await temp.drop();
    throw err;
  }
  return {
    database,
    async cleanup() {
      await database.close();
      await temp.drop();
    },
  };
}

/** Cheaper scrypt for tests (the brief's lower bound). */
const FAST = { scrypt: { log2N: 14, r: 8, p: 1 } };

class WhoAmIConsumer extends JsonWebsocketConsumer {
  override connect(): void {
    this.accept();
    this.sendJson({ user: this.scope.user });
  }
}

const targets: Array<[string, () => Promise<Target>, string | false]> = [
  ['SQLite', openSqlite, false],
  ['PostgreSQL', openPostgres, postgresAvailable() ? false : `PostgreSQL at ${DATABASE_URL} is unreachable`],
];

for (const [name, open, skip] of targets) {
  describe(`demo database on ${name}`, { skip }, () => {
    let t: Target;
    let users: UserRepository;
    const clock = { t: Date.now(), now: () => clock.t };
    let sessions: DatabaseSessionStore;
    let loggedIn: LoggedInUserRepository;

    before(async () => {
      t = await open();
      users = new UserRepository(t.database.db, FAST);
      sessions = new DatabaseSessionStore(t.database.db, { now: clock.now });
      loggedIn = new LoggedInUserRepository(t.database.db, { now: clock.now });
    });
    after(async () => {
      await t?.cleanup();
    });

    describe('migrations', () => {
      it('are applied by openDatabase, idempotent, and reversible', async () => {
        const { db } = t.database;
        assert.deepEqual(await migrateToLatest(db), []);
        assert.deepEqual(await migrateDown(db), ['0001_initial']);
        const tables = (await db.introspection.getTables()).map((x) => x.name);
        for (const table of ['users', 'sessions', 'logged_in_users', 'chat_messages']) assert.ok(!tables.includes(table), table);
        assert.deepEqual(await migrateToLatest(db), ['0001_initial']);
        const after = (await db.introspection.getTables()).map((x) => x.name);
        for (const table of ['users', 'sessions', 'logged_in_users', 'chat_messages']) assert.ok(after.includes(table), table);
      });
    });

    describe('UserRepository', () => {
      it('creates a user and verifies the password', async () => {
        const alice = await users.create('alice', 'correct horse');
        assert.equal(alice.username, 'alice');
        assert.equal(typeof alice.id, 'number');
        assert.equal(typeof alice.createdAt, 'number');
        assert.deepEqual(await users.authenticate('alice', 'correct horse'), alice);
        assert.deepEqual(await users.getById(alice.id), alice);
        assert.deepEqual(await users.getByUsername('ALICE'), alice);
      });

      it('stores a salted scrypt hash, never the password', async () => {
        const rows = await t.database.db.selectFrom('users').select(['password_hash']).where('username', '=', 'alice').execute();
        assert.match(rows[0]!.password_hash, /^scrypt\$14\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
        assert.ok(!rows[0]!.password_hash.includes('correct horse'));
        const [a, b] = [await hashPassword('same', FAST.scrypt), await hashPassword('same', FAST.scrypt)];
        assert.notEqual(a, b);
        assert.equal(await verifyPassword('same', a), true);
        assert.equal(await verifyPassword('same', 'scrypt$99$8$1$xx$yy'), false);
      });

      it('answers the same for a wrong password and an unknown user, after the same work', async () => {
        assert.equal(await users.authenticate('alice', 'wrong password'), null);
        assert.equal(await users.authenticate('nobody', 'correct horse'), null);
        assert.equal(await users.authenticate('bad name!', 'correct horse'), null);
        assert.equal(await users.authenticate({}, undefined), null);
        // The same work on every path: one scrypt verification, with the cost parameters of a
        // real hash (an unknown or malformed name verifies a dummy hash; without it, it would
        // answer about 100x faster and tell the names that exist). Counted, not timed.
        const costs: string[] = [];
        const counting = new UserRepository(t.database.db, {
          ...FAST,
          verify: (password, stored) => {
            costs.push(stored.split('$').slice(0, 4).join('$'));
            return verifyPassword(password, stored);
          },
        });
        for (const [username, password] of [['alice', 'wrong password'], ['nobody', 'correct horse'], ['bad name!', 'correct horse'], [{}, undefined]] as const) {
          costs.length = 0;
          assert.equal(await counting.authenticate(username, password), null);
          assert.deepEqual(costs, ['scrypt$14$8$1'], `${JSON.stringify(username)}: one scrypt of the same cost`);
        }
      });

      it('refuses a duplicate username, ignoring case', async () => {
        await assert.rejects(users.create('alice', 'another password'), (err: unknown) => err instanceof UsernameTakenError && err.code === 'SB_ERR_USERNAME_TAKEN');
        await assert.rejects(users.create('Alice', 'another password'), UsernameTakenError);
      });

      it('lets the unique index decide between two sign-ups racing for one name', async () => {
        const results = await Promise.allSettled([users.create('dave', 'long enough password'), users.create('Dave', 'long enough password')]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.ok(rejected?.reason instanceof UsernameTakenError, String(rejected?.reason));
        await t.database.db.deleteFrom('users').where('username', 'in', ['dave', 'Dave']).execute();
      });

      it('enforces the username and password rules', async () => {
        for (const bad of ['', 'a'.repeat(33), 'white space', '<script>', 'ünï']) {
          await assert.rejects(users.create(bad, 'long enough password'), InvalidUsernameError, bad);
        }
        await assert.rejects(users.create('bob', 'short'), InvalidPasswordError);
        await assert.rejects(users.create('bob_the.builder-2', 'bob_the.builder-2'), InvalidPasswordError);
        assert.equal((await users.create('bob_the.builder-2', 'long enough password')).username, 'bob_the.builder-2');
      });

      it('lists users by name, ignoring case', async () => {
        await users.create('Zed', 'long enough password');
        await users.create('carol', 'long enough password');
        assert.deepEqual((await users.list()).map((u) => u.username), ['alice', 'bob_the.builder-2', 'carol', 'Zed']);
      });
    });

    describe('DatabaseSessionStore', () => {
      it('saves and loads, storing only the SHA-256 of the key', async () => {
        const key = await sessions.save(null, { n: 1, nested: { ok: true } }, 60_000);
        assert.match(key, /^[A-Za-z0-9_-]{43}$/);
        assert.deepEqual(await sessions.load(key), { n: 1, nested: { ok: true } });
        const rows = await t.database.db.selectFrom('sessions').select('id_hash').execute();
        const hashes = rows.map((r) => r.id_hash);
        assert.ok(!hashes.includes(key));
        assert.ok(hashes.includes(createHash('sha256').update(key).digest('hex')));
        assert.equal(await sessions.save(key, { n: 2 }, 60_000), key);
        assert.deepEqual(await sessions.load(key), { n: 2 });
      });

      it('loads null for unknown and malformed keys, and never adopts them', async () => {
        assert.equal(await sessions.load('x'.repeat(43)), null);
        assert.equal(await sessions.load("'; drop table sessions; --"), null);
        const key = await sessions.save('x'.repeat(43), { a: 1 }, 60_000);
        assert.notEqual(key, 'x'.repeat(43));
      });

      it('rotates: the old key stops working, the new one has the data', async () => {
        const key = await sessions.save(null, { cart: 3 }, 60_000);
        const next = await sessions.rotate(key);
        assert.ok(next && next !== key);
        assert.equal(await sessions.load(key), null);
        assert.deepEqual(await sessions.load(next), { cart: 3 });
        assert.equal(await sessions.rotate(key), null);
      });

      it('expires sessions and purges them', async () => {
        const key = await sessions.save(null, { a: 1 }, 1_000);
        clock.t += 999;
        assert.deepEqual(await sessions.load(key), { a: 1 });
        clock.t += 1;
        assert.equal(await sessions.load(key), null);
        assert.equal(await sessions.rotate(key), null);
        assert.notEqual(await sessions.save(key, { a: 2 }, 1_000), key);
        assert.ok((await sessions.purgeExpired()) >= 1);
        const left = await t.database.db.selectFrom('sessions').select('id_hash').where('id_hash', '=', hashSessionKey(key)).execute();
        assert.equal(left.length, 0);
      });

      it('destroys sessions', async () => {
        const key = await sessions.save(null, { a: 1 }, 60_000);
        await sessions.destroy(key);
        assert.equal(await sessions.load(key), null);
        await sessions.destroy(key);
        await sessions.destroy('malformed');
      });
    });

    describe('login, logout and logged_in_users', () => {
      it('tracks logged-in sessions through the auth signals, across rotation and logout', async () => {
        const signals = new AuthSignals();
        signals.on('user.logged_in', (e) => loggedIn.add(Number(e.user.id), e.sessionKey));
        const alice = (await users.getByUsername('alice'))!;
        const aliceUser: ScopeUser = { id: alice.id, username: alice.username, isAuthenticated: true };
        const anon = await sessions.save(null, {}, 60_000);
        const s1 = await login({ session: { key: anon, data: {} } }, aliceUser, { store: sessions, signals, ttlMs: 60_000 });
        assert.equal(await loggedIn.isLoggedIn(alice.id), true);
        // A second browser: two rows; logging out of one leaves alice logged in.
        const s2 = await login({}, aliceUser, { store: sessions, signals, ttlMs: 60_000 });
        await logout({ session: s1 }, { store: sessions, signals, user: aliceUser });
        assert.equal(await loggedIn.isLoggedIn(alice.id), true);
        assert.deepEqual([...(await loggedIn.loggedInUserIds())], [alice.id]);
        const statuses = await loggedIn.usersWithStatus();
        assert.deepEqual(
          statuses.map((s) => [s.username, s.isLoggedIn]),
          [
            ['alice', true],
            ['bob_the.builder-2', false],
            ['carol', false],
            ['Zed', false],
          ],
        );
        // Rotation moves the session; the row of the old key goes with it (cascade).
        const s3 = await sessions.rotate(s2.key!);
        assert.equal(await loggedIn.isLoggedIn(alice.id), false);
        await loggedIn.add(alice.id, s3!);
        assert.equal(await loggedIn.isLoggedIn(alice.id), true);
        // Expiry counts as logged out even before the purge.
        clock.t += 60_000;
        assert.equal(await loggedIn.isLoggedIn(alice.id), false);
        await sessions.purgeExpired();
        assert.equal(await loggedIn.removeSession(s3!), null);
      });

      it('puts the database user in the WebSocket scope through AuthMiddlewareStack', async () => {
        const app = new AuthMiddlewareStack(WhoAmIConsumer, { sessions, users: new DatabaseUserStore(users) });
        const carol = (await users.getByUsername('carol'))!;
        const s = await login({}, { id: carol.id, username: carol.username, isAuthenticated: true }, { store: sessions, signals: new AuthSignals() });
        const ask = async (cookie: string) => {
          const c = new WebsocketCommunicator(app, '/ws/', { headers: { cookie }, channelLayer: null });
          assert.equal((await c.connect()).accepted, true);
          const { user } = await c.receiveJson<{ user: ScopeUser }>();
          await c.disconnect();
          return user;
        };
        assert.deepEqual(await ask(`sessionid=${s.key}`), { id: carol.id, username: 'carol', isAuthenticated: true });
        assert.deepEqual(await ask(`sessionid=${'A'.repeat(43)}`), ANONYMOUS_USER);
        assert.deepEqual(await ask('sessionid=../../etc'), ANONYMOUS_USER);
        assert.equal(await new DatabaseUserStore(users).getById('1; drop table users'), null);
      });
    });

    describe('ChatMessageRepository', () => {
      it('returns the last N messages of a room, oldest first', async () => {
        const messages = new ChatMessageRepository(t.database.db);
        const at = 1_700_000_000_000;
        for (let i = 0; i < 60; i++) await messages.add({ room: 'lobby', username: i % 2 ? 'alice' : 'guest-1', message: `m${i}`, createdAt: at });
        await messages.add({ room: 'other', username: 'bob', message: '<b>not here</b>' });
        const recent = await messages.recent('lobby', 50);
        assert.equal(recent.length, 50);
        assert.deepEqual(
          recent.map((m) => m.message),
          Array.from({ length: 50 }, (_, i) => `m${i + 10}`),
        );
        assert.equal(recent[0]!.createdAt, at);
        assert.equal(recent[0]!.room, 'lobby');
        assert.deepEqual((await messages.recent('other')).map((m) => m.message), ['<b>not here</b>']);
        assert.deepEqual(await messages.recent('empty'), []);
        await assert.rejects(messages.recent('lobby', 0), RangeError);
      });
    });
  });
}

describe('parseDatabaseUrl', () => {
  it('defaults to the SQLite file and accepts postgres and sqlite URLs', () => {
    assert.deepEqual(parseDatabaseUrl(undefined), { dialect: 'sqlite', path: './data/switchboard.sqlite3' });
    assert.deepEqual(parseDatabaseUrl('  '), { dialect: 'sqlite', path: './data/switchboard.sqlite3' });
    assert.equal(parseDatabaseUrl('postgres://u:p@db:5432/app').dialect, 'postgres');
    assert.equal(parseDatabaseUrl('postgresql://db/app').dialect, 'postgres');
    assert.deepEqual(parseDatabaseUrl('sqlite:///tmp/x.sqlite3'), { dialect: 'sqlite', path: '/tmp/x.sqlite3' });
    assert.deepEqual(parseDatabaseUrl('sqlite:./a.db'), { dialect: 'sqlite', path: './a.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { dialect: 'sqlite', path: ':memory:' });
  });

  it('throws ConfigError naming DATABASE_URL for anything else', () => {
    for (const bad of ['mysql://db/app', 'redis://localhost', '/tmp/file.sqlite3', 'sqlite:', 'postgres://']) {
      assert.throws(() => parseDatabaseUrl(bad), (err: unknown) => err instanceof ConfigError && err.variable === 'DATABASE_URL', bad);
    }
  });

  it('fails at start-up with ConfigError when PostgreSQL cannot be reached, without the password', async () => {
    await assert.rejects(openDatabase('postgres://u:secret@127.0.0.1:1/none'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.variable, 'DATABASE_URL');
      assert.ok(!err.message.includes('secret'), err.message);
      return true;
    });
  });
});
