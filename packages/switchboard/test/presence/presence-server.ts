/**
 * A server process for the cross-process presence test: a room with the presence feature on
 * Redis (layer and store under PRESENCE_PREFIX, short TTLs). The key is the `user` query
 * parameter. Prints `port <n>` once it listens.
 */
import { JsonWebsocketConsumer, presence, ProtocolTypeRouter, silentLogger, SwitchboardServer, URLRouter, path, type Scope } from 'switchboard';
import { RedisChannelLayer, RedisPresenceStore } from 'switchboard/redis';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';
const prefix = process.env['PRESENCE_PREFIX'] ?? 'sb:presence-test:';
const store = new RedisPresenceStore({ url, prefix, ttlMs: 1_500, refreshIntervalMs: 300 });
const layer = await RedisChannelLayer.fromUrl(url, { prefix });

const userOf = (scope: Scope): string | null => new URLSearchParams(scope.queryString).get('user');

class RoomConsumer extends JsonWebsocketConsumer {
  override features = [presence({ store, group: 'room', key: userOf, info: (scope) => ({ name: userOf(scope) }), sweepIntervalMs: 200 })];
}

const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket: new URLRouter([path('ws/room/', RoomConsumer)]) }), { port: 0, channelLayer: layer, logger: silentLogger() });
const { port } = await server.listen();
process.stdout.write(`port ${port}\n`);
process.on('SIGTERM', () => {
  void server.close().then(async () => {
    await store.close();
    await layer.close();
    process.exit(0);
  });
});
