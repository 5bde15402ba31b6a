/** SessionMiddleware, AuthMiddleware, AuthMiddlewareStack, login/logout and the auth signals. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonWebsocketConsumer, type ScopeSession, type ScopeUser } from 'switchboard';
import { WebsocketCommunicator } from 'switchboard/testing';
import { ANONYMOUS_USER, AuthMiddleware, AuthMiddlewareStack, AuthSignals, SESSION_USER_ID_KEY, getUser, login, logout, type UserStore } from '../../src/middleware/auth.js';
import { CookieMiddleware } from '../../src/middleware/cookies.js';
import { InMemorySessionStore, SessionMiddleware, serializeSessionCookie } from '../../src/middleware/session.js';

/** Sends back what the middleware put in its scope. */
class WhoAmIConsumer extends JsonWebsocketConsumer {
  override connect(): void {
    this.accept();
    this.sendJson({ user: this.scope.user ?? null, session: this.scope.session ?? null, cookies: this.scope.cookies });
  }
}

interface WhoAmI {
  user: ScopeUser | null;
  session: ScopeSession | null;
  cookies: Record<string, string>;
}

class MapUserStore implements UserStore {
  readonly users = new Map<number, ScopeUser>();
  lookups = 0;
  add(id: number, username: string): ScopeUser {
    const user = { id, username, isAuthenticated: true };
    this.users.set(id, user);
    return user;
  }
  async getById(id: string | number): Promise<ScopeUser | null> {
    this.lookups++;
    return this.users.get(Number(id)) ?? null;
  }
}

function setup(now?: () => number) {
  const sessions = new InMemorySessionStore(now ? { now } : {});
  const users = new MapUserStore();
  const alice = users.add(1, 'alice');
  const bob = users.add(2, 'bob');
  const signals = new AuthSignals();
  const app = new AuthMiddlewareStack(WhoAmIConsumer, { sessions, users });
  return { sessions, users, alice, bob, signals, app };
}

async function whoAmI(app: ConstructorParameters<typeof WebsocketCommunicator>[0], headers: Record<string, string> = {}): Promise<WhoAmI> {
  const c = new WebsocketCommunicator(app, '/ws/me/', { headers, channelLayer: null });
  const result = await c.connect();
  assert.equal(result.accepted, true);
  const body = await c.receiveJson<WhoAmI>();
  await c.disconnect();
  return body;
}

describe('AuthMiddlewareStack', () => {
  it('puts the anonymous user and an empty session in the scope when there is no cookie', async () => {
    const { app } = setup();
    const me = await whoAmI(app);
    assert.deepEqual(me.user, { id: null, username: '', isAuthenticated: false });
    assert.deepEqual(me.session, { key: null, data: {} });
  });

  it('puts the session user in the scope for a valid session cookie', async () => {
    const { app, sessions, alice, signals } = setup();
    const session = await login({}, alice, { store: sessions, signals });
    const me = await whoAmI(app, { cookie: `theme=dark; sessionid=${session.key}` });
    assert.deepEqual(me.user, alice);
    assert.equal(me.session?.key, session.key);
    assert.equal(me.session?.data[SESSION_USER_ID_KEY], 1);
    assert.equal(me.cookies['theme'], 'dark');
  });

  it('gives the anonymous user for an unknown session key', async () => {
    const { app } = setup();
    const me = await whoAmI(app, { cookie: 'sessionid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    assert.deepEqual(me.user, ANONYMOUS_USER);
    assert.deepEqual(me.session, { key: null, data: {} });
  });

  it('gives the anonymous user for an expired session', async () => {
    let now = 1_000_000;
    const { app, sessions, alice, signals } = setup(() => now);
    const session = await login({}, alice, { store: sessions, signals, ttlMs: 60_000 });
    assert.deepEqual((await whoAmI(app, { cookie: `sessionid=${session.key}` })).user, alice);
    now += 60_000;
    assert.deepEqual((await whoAmI(app, { cookie: `sessionid=${session.key}` })).user, ANONYMOUS_USER);
  });

  it('gives the anonymous user when the session user no longer exists', async () => {
    const { app, sessions, users, alice, signals } = setup();
    const session = await login({}, alice, { store: sessions, signals });
    users.users.delete(1);
    assert.deepEqual((await whoAmI(app, { cookie: `sessionid=${session.key}` })).user, ANONYMOUS_USER);
  });

  it('gives the anonymous user for a session without a user id, without asking the user store', async () => {
    const { app, sessions, users } = setup();
    const key = await sessions.save(null, { theme: 'dark' }, 60_000);
    const me = await whoAmI(app, { cookie: `sessionid=${key}` });
    assert.deepEqual(me.user, ANONYMOUS_USER);
    assert.deepEqual(me.session, { key, data: { theme: 'dark' } });
    assert.equal(users.lookups, 0);
  });

  it('ignores a malformed cookie header', async () => {
    const { app } = setup();
    const me = await whoAmI(app, { cookie: 'sessionid; ==; %%%' });
    assert.deepEqual(me.user, ANONYMOUS_USER);
  });

  it('reads the session from a custom cookie name', async () => {
    const { sessions, users, alice, signals } = setup();
    const app = new AuthMiddlewareStack(WhoAmIConsumer, { sessions, users, cookieName: 'sb_session' });
    const { key } = await login({}, alice, { store: sessions, signals });
    assert.deepEqual((await whoAmI(app, { cookie: `sessionid=${key}` })).user, ANONYMOUS_USER);
    assert.deepEqual((await whoAmI(app, { cookie: `sb_session=${key}` })).user, alice);
  });
});

describe('AuthMiddleware', () => {
  it('refuses to run without SessionMiddleware outside it', async () => {
    const { users } = setup();
    const c = new WebsocketCommunicator(new AuthMiddleware(WhoAmIConsumer, { users }), '/ws/me/', { channelLayer: null });
    await assert.rejects(c.connect(), (err: Error) => err instanceof TypeError && /SessionMiddleware/.test(err.message));
  });

  it('checks its options at construction', () => {
    assert.throws(() => new AuthMiddleware(WhoAmIConsumer, {} as never), TypeError);
    assert.throws(() => new SessionMiddleware(WhoAmIConsumer, {} as never), TypeError);
  });

  it('works when composed by hand', async () => {
    const { sessions, users, bob, signals } = setup();
    const app = new CookieMiddleware(new SessionMiddleware(new AuthMiddleware(WhoAmIConsumer, { users }), { store: sessions }));
    const { key } = await login({}, bob, { store: sessions, signals });
    assert.deepEqual((await whoAmI(app, { cookie: `sessionid=${key}` })).user, bob);
  });
});

describe('login and logout', () => {
  it('rotates the session key at login and keeps an anonymous session\'s data', async () => {
    const { sessions, alice, signals } = setup();
    const before = await sessions.save(null, { cart: [1, 2] }, 60_000);
    const after = await login({ session: { key: before, data: { cart: [1, 2] } } }, alice, { store: sessions, signals });
    assert.notEqual(after.key, before);
    assert.equal(await sessions.load(before), null);
    assert.deepEqual(await sessions.load(after.key!), { cart: [1, 2], [SESSION_USER_ID_KEY]: 1 });
  });

  it('drops the data of another user\'s session at login', async () => {
    const { sessions, alice, bob, signals } = setup();
    const first = await login({}, alice, { store: sessions, signals });
    await sessions.save(first.key, { ...first.data, secret: 'alice' }, 60_000);
    const second = await login({ session: { key: first.key, data: { ...first.data, secret: 'alice' } } }, bob, { store: sessions, signals });
    assert.deepEqual(await sessions.load(second.key!), { [SESSION_USER_ID_KEY]: 2 });
  });

  it('creates a fresh session when the old one expired', async () => {
    const { sessions, alice, signals } = setup();
    const stale = { key: 'gone-gone-gone', data: {} };
    const s = await login({ session: stale }, alice, { store: sessions, signals });
    assert.notEqual(s.key, stale.key);
    assert.deepEqual(await sessions.load(s.key!), { [SESSION_USER_ID_KEY]: 1 });
  });

  it('refuses to log in the anonymous user', async () => {
    const { sessions } = setup();
    await assert.rejects(login({}, ANONYMOUS_USER, { store: sessions }), TypeError);
  });

  it('shares the session between an HTTP login and the next WebSocket handshake, and logout ends it', async () => {
    const { app, sessions, users, alice, signals } = setup();
    // HTTP side: a handler loads the session from its cookie, verifies the password, logs in.
    const httpSession = await login({ session: { key: null, data: {} } }, alice, { store: sessions, signals });
    assert.match(serializeSessionCookie(httpSession.key), /HttpOnly/);
    assert.deepEqual(await getUser(httpSession, users), alice);
    assert.deepEqual((await whoAmI(app, { cookie: `sessionid=${httpSession.key}` })).user, alice);
    const cleared = await logout({ session: httpSession }, { store: sessions, signals, user: alice });
    assert.deepEqual(cleared, { key: null, data: {} });
    assert.equal(await sessions.load(httpSession.key!), null);
    assert.deepEqual((await whoAmI(app, { cookie: `sessionid=${httpSession.key}` })).user, ANONYMOUS_USER);
  });

  it('emits user.logged_in with the rotated key and user.logged_out with the destroyed key', async () => {
    const { sessions, alice, signals } = setup();
    const events: string[] = [];
    signals.on('user.logged_in', (e) => {
      events.push(`in ${e.user.username} ${e.sessionKey}`);
    });
    const off = signals.on('user.logged_out', async (e) => {
      await Promise.resolve();
      events.push(`out ${e.user.username} ${e.sessionKey}`);
    });
    const s = await login({}, alice, { store: sessions, signals });
    await logout({ session: s, user: alice }, { store: sessions, signals });
    assert.deepEqual(events, [`in alice ${s.key}`, `out alice ${s.key}`]);
    off();
    assert.equal(signals.listenerCount('user.logged_out'), 0);
    await logout({}, { store: sessions, signals });
    assert.equal(events.length, 2);
  });

  it('runs every listener even when one throws, then rejects with its error', async () => {
    const { sessions, alice, signals } = setup();
    let second = false;
    signals.on('user.logged_in', () => {
      throw new Error('listener failed');
    });
    signals.on('user.logged_in', () => {
      second = true;
    });
    await assert.rejects(login({}, alice, { store: sessions, signals }), /listener failed/);
    assert.equal(second, true);
  });
});

describe('InMemorySessionStore', () => {
  it('never adopts a key it did not issue', async () => {
    const store = new InMemorySessionStore();
    const key = await store.save('attacker-chosen', { a: 1 }, 1000);
    assert.notEqual(key, 'attacker-chosen');
    assert.equal(await store.load('attacker-chosen'), null);
    assert.equal(await store.save(key, { a: 2 }, 1000), key);
    assert.deepEqual(await store.load(key), { a: 2 });
  });

  it('rejects a non-positive ttl', async () => {
    await assert.rejects(new InMemorySessionStore().save(null, {}, 0), RangeError);
  });
});

describe('serializeSessionCookie', () => {
  it('sets HttpOnly and SameSite=Lax, and clears the cookie for null', () => {
    const set = serializeSessionCookie('abc', { maxAgeMs: 60_000, secure: true });
    assert.match(set, /^sessionid=abc; Max-Age=60; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    assert.match(serializeSessionCookie(null), /^sessionid=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/);
  });
});
