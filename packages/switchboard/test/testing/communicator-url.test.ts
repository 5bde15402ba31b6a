/** WebsocketCommunicator given a full URL (Channels' communicator takes one through urlparse). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebsocketConsumer } from 'switchboard';
import { WebsocketCommunicator } from 'switchboard/testing';

class Accept extends WebsocketConsumer {}

async function scopeOf(target: string): Promise<{ path: string; rawPath: string; queryString: string }> {
  const c = new WebsocketCommunicator(Accept, target, { channelLayer: null });
  assert.equal((await c.connect()).accepted, true);
  const { path, rawPath, queryString } = c.consumer!.scope;
  await c.disconnect();
  return { path, rawPath, queryString };
}

describe('WebsocketCommunicator request target', () => {
  it('takes the path and query of a full URL and drops its fragment', async () => {
    assert.deepEqual(await scopeOf('ws://testserver/ws/chat/?room=a%20b&x=1#top'), { path: '/ws/chat/', rawPath: '/ws/chat/', queryString: 'room=a%20b&x=1' });
    assert.deepEqual(await scopeOf('wss://user:pw@example.com:8443/ws/caf%C3%A9/'), { path: '/ws/café/', rawPath: '/ws/caf%C3%A9/', queryString: '' });
    assert.deepEqual(await scopeOf('ws://testserver?since=1'), { path: '/', rawPath: '/', queryString: 'since=1' });
  });

  it('keeps a plain path as it is, without its fragment', async () => {
    assert.deepEqual(await scopeOf('/ws/chat/?a=1#frag'), { path: '/ws/chat/', rawPath: '/ws/chat/', queryString: 'a=1' });
    assert.deepEqual(await scopeOf('/ws/plain/'), { path: '/ws/plain/', rawPath: '/ws/plain/', queryString: '' });
  });
});
