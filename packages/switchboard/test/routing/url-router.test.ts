/** Unit tests for URLRouter, path() and rePath(). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CookieMiddleware, createScope, InvalidRouteError, URLRouter, WebsocketConsumer, path, rePath, type PathParams, type ResolvedConsumer, type Scope, type WebsocketApplication } from 'switchboard';

class A extends WebsocketConsumer<{ roomName: string }> {}
class B extends WebsocketConsumer<{ id: number }> {}
class C extends WebsocketConsumer {}

const scopeFor = (p: string) => createScope({ path: p });

describe('URLRouter', () => {
  it('routes a path() pattern and captures typed kwargs', async () => {
    const router = new URLRouter([path('ws/chat/<roomName>/', A), path('ws/item/<int:id>/', B)]);
    const r = await router.resolve(scopeFor('/ws/chat/lobby/'));
    assert.equal(r?.consumer, A);
    assert.deepEqual(r?.scope.urlRoute.kwargs, { roomName: 'lobby' });
    const r2 = await router.resolve(scopeFor('/ws/item/42/'));
    assert.equal(r2?.consumer, B);
    assert.strictEqual(r2?.scope.urlRoute.kwargs.id, 42);
  });

  it('returns null when no route matches (404)', async () => {
    const router = new URLRouter([path('ws/chat/<roomName>/', A)]);
    assert.equal(await router.resolve(scopeFor('/ws/chat/')), null);
    assert.equal(await router.resolve(scopeFor('/ws/chat/a/b/')), null);
    assert.equal(await router.resolve(scopeFor('/other/')), null);
  });

  it('routes rePath() patterns with named groups as the seeds write them', async () => {
    const router = new URLRouter([rePath(/^ws\/chat\/(?<roomName>\w+)\/$/, A), rePath('^ws/pos/(\\d+)/(\\d+)/$', C)]);
    const r = await router.resolve(scopeFor('/ws/chat/room_1/'));
    assert.deepEqual(r?.scope.urlRoute.kwargs, { roomName: 'room_1' });
    const r2 = await router.resolve(scopeFor('/ws/pos/3/4/'));
    assert.deepEqual(r2?.scope.urlRoute.args, ['3', '4']);
    assert.equal(await router.resolve(scopeFor('/ws/chat/bad room/')), null);
  });

  it('nests routers, consuming the matched prefix and merging kwargs', async () => {
    const inner = new URLRouter([path('rooms/<roomName>/', A)]);
    const router = new URLRouter([path('ws/<tenant>/', inner)]);
    const r = await router.resolve(scopeFor('/ws/acme/rooms/lobby/'));
    assert.equal(r?.consumer, A);
    assert.deepEqual(r?.scope.urlRoute.kwargs, { tenant: 'acme', roomName: 'lobby' });
    assert.equal(r?.scope.pathRemaining, '');
  });

  it('routes through middleware that wraps a nested router, as AuthMiddlewareStack(URLRouter(...)) does', async () => {
    const tagged = (inner: WebsocketApplication): WebsocketApplication => ({
      resolve: (scope: Scope): Promise<ResolvedConsumer | null> | ResolvedConsumer | null => inner.resolve({ ...scope, headers: { ...scope.headers, 'x-tag': 'seen' } }),
    });
    const router = new URLRouter([
      path('ws/', new CookieMiddleware(new URLRouter([path('chat/<roomName>/', A)]))),
      path('api/<int:version>/', tagged(new URLRouter([path('items/<int:id>/', B)]))),
      path('exact/', new CookieMiddleware(C)),
    ]);
    const r = await router.resolve(createScope({ path: '/ws/chat/lobby/', headers: { cookie: 'a=1' } }));
    assert.equal(r?.consumer, A);
    assert.deepEqual(r?.scope.urlRoute.kwargs, { roomName: 'lobby' });
    assert.deepEqual(r?.scope.cookies, { a: '1' }, 'the middleware ran');
    assert.equal(r?.scope.pathRemaining, '');
    const r2 = await router.resolve(scopeFor('/api/2/items/7/'));
    assert.equal(r2?.consumer, B);
    assert.deepEqual(r2?.scope.urlRoute.kwargs, { version: 2, id: 7 });
    assert.equal(r2?.scope.headers['x-tag'], 'seen');
    // Middleware around a consumer is still an endpoint: the whole path must match.
    assert.equal((await router.resolve(scopeFor('/exact/')))?.consumer, C);
    assert.equal(await router.resolve(scopeFor('/exact/extra/')), null);
    assert.equal(await router.resolve(scopeFor('/ws/chat/')), null, 'no inner route: 404');
  });

  it('tries the next route when a nested router does not match', async () => {
    const router = new URLRouter([path('ws/', new URLRouter([path('a/', C)])), path('ws/c/', C)]);
    assert.equal((await router.resolve(scopeFor('/ws/c/')))?.consumer, C);
  });

  it('rejects bad patterns with InvalidRouteError', () => {
    assert.throws(() => path('ws/<float:x>/', C), (e: unknown) => e instanceof InvalidRouteError && e.code === 'SB_ERR_INVALID_ROUTE' && /unknown converter "float"/.test(e.message));
    assert.throws(() => path('ws/<a>/<a>/', C), InvalidRouteError);
    assert.throws(() => rePath('ws/(unclosed', C), InvalidRouteError);
    assert.throws(() => new URLRouter([{} as never]), TypeError);
  });

  it('types kwargs from the pattern', () => {
    // @ts-expect-error the pattern does not capture roomName, which A needs
    path('ws/lobby/', A);
    path('ws/<roomName>/<int:page>/', A);
    const params: PathParams<'ws/<int:id>/<name>/'> = { id: 1, name: 'x' };
    assert.equal(params.id, 1);
    // @ts-expect-error a string is not an int parameter
    const bad: PathParams<'ws/<int:id>/'> = { id: 'x' };
    void bad;
  });
});
