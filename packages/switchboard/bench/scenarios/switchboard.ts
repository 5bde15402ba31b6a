/**
 * The Switchboard scenarios: a `SwitchboardServer` with the default options (heartbeat on, as an
 * app runs it) on the in-memory layer unless said otherwise.
 *
 * - `sb-idiom`: the README's idiom, `chatMessage(e) { this.sendJson(e.payload) }`: every member
 *   gets the same object, and the server sends a broadcast with `layer.groupSend`.
 * - `sb-natural`: the natural handler, a fresh object per recipient,
 *   `this.sendJson({ message: e.message, username: e.username })`.
 * - `sb-redis`: `sb-natural` on `RedisChannelLayer` ('switchboard/redis'); the broadcasts come
 *   from another process (bench/publisher.ts, its own layer): PUBLISH → Redis → this server's
 *   subscription → local fan-out.
 * - `sb-idle`: a consumer that joins one group (`lobby`) and waits: the usual app shape.
 * - `sb-rooms`: the README's chat consumer: `receiveJson` checks the message and `groupSend`s it
 *   to its room (`ws/chat/<room>/`); each member's `chatMessage` does `sendJson`.
 * - `sb-shared-deflate`: `sb-idiom` with the ~1 KB reading and the server options of
 *   {@link SHARED_COMPRESSION}.
 */
import {
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  SwitchboardServer,
  URLRouter,
  path,
  type ChannelLayer,
  type EventHandlers,
  type LayerEvent,
  type RouteKwargs,
  type ServerOptions,
} from 'switchboard';
import { chat, reading, type ChatMessage } from './messages.js';
import type { StartServer } from './types.js';

/** The chat events of these scenarios: the idiom wraps the message, the natural one spreads it. */
interface BenchEvents {
  'chat.message': ChatMessage;
  'chat.wrapped': { payload: object };
}

class IdiomConsumer extends JsonWebsocketConsumer<RouteKwargs, BenchEvents> {
  override groups = ['bench'];
  chatWrapped(event: LayerEvent<BenchEvents, 'chat.wrapped'>): void {
    this.sendJson(event.payload);
  }
}

class NaturalConsumer extends JsonWebsocketConsumer<RouteKwargs, BenchEvents> {
  override groups = ['bench'];
  chatMessage(event: LayerEvent<BenchEvents, 'chat.message'>): void {
    this.sendJson({ message: event.message, username: event.username });
  }
}

class IdleConsumer extends JsonWebsocketConsumer {
  override groups = ['lobby'];
}

class ChatConsumer extends JsonWebsocketConsumer<{ room: string }, BenchEvents> implements Pick<EventHandlers<BenchEvents>, 'chatMessage'> {
  readonly room = `chat_${this.scope.urlRoute.kwargs.room}`;
  override groups = [this.room];

  override async receiveJson(content: unknown): Promise<void> {
    if (typeof content !== 'object' || content === null || !('message' in content) || typeof content.message !== 'string') return;
    const username = 'username' in content && typeof content.username === 'string' ? content.username : '';
    await this.groupSend(this.room, { type: 'chat.message', message: content.message, username });
  }

  chatMessage(event: LayerEvent<BenchEvents, 'chat.message'>): void {
    this.sendJson({ message: event.message, username: event.username });
  }
}

/** The server options of the shared-compression scenario (the runner prints how many receivers negotiated deflate). */
const SHARED_COMPRESSION: Partial<ServerOptions> = { sharedCompression: true };

function scenario(
  clientPath: string,
  router: URLRouter,
  send: ((layer: ChannelLayer, i: number, message: 'chat' | 'reading') => Promise<unknown>) | undefined,
  layerOf: (o: Parameters<StartServer>[0]) => Promise<ChannelLayer> = async () => new InMemoryChannelLayer(),
  extra: Partial<ServerOptions> = {},
): StartServer {
  return async (options) => {
    const layer = await layerOf(options);
    const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket: router }), { port: 0, channelLayer: layer, ...extra });
    const { port } = await server.listen();
    return {
      port,
      path: clientPath,
      protocol: 'ws',
      broadcast: send && ((i) => send(layer, i, options.message)),
      open: () => server.stats.connectionsOpen,
      close: async () => {
        await server.close();
        await layer.close();
      },
    };
  };
}

/** The Redis channel layer of a run (the server's and, in bench/publisher.ts, the sender's). */
export async function redisLayer(redisUrl: string, prefix: string): Promise<ChannelLayer> {
  const { RedisChannelLayer } = await import('switchboard/redis');
  // Capacity above a saturation burst: the bench measures fan-out, not drops.
  return RedisChannelLayer.fromUrl(redisUrl, { prefix, capacity: 10_000 });
}

const wrapped = (layer: ChannelLayer, i: number, message: 'chat' | 'reading'): Promise<unknown> =>
  layer.groupSend('bench', { type: 'chat.wrapped', payload: message === 'reading' ? reading(i) : chat(i) });

/** The broadcast of the natural handler (and of the Redis publisher): the message's fields in the event. */
export const natural = (layer: ChannelLayer, i: number): Promise<unknown> => layer.groupSend('bench', { type: 'chat.message', ...chat(i) });

/** The Switchboard scenarios by name. */
export const switchboardScenarios: Record<string, StartServer> = {
  'sb-idiom': scenario('/ws/bench/', new URLRouter([path('ws/bench/', IdiomConsumer)]), wrapped),
  'sb-natural': scenario('/ws/bench/', new URLRouter([path('ws/bench/', NaturalConsumer)]), natural),
  'sb-redis': scenario('/ws/bench/', new URLRouter([path('ws/bench/', NaturalConsumer)]), undefined, (o) => redisLayer(o.redisUrl, o.redisPrefix)),
  'sb-idle': scenario('/ws/lobby/', new URLRouter([path('ws/lobby/', IdleConsumer)]), undefined),
  'sb-rooms': scenario('/ws/chat/{room}/', new URLRouter([path('ws/chat/<slug:room>/', ChatConsumer)]), undefined),
  'sb-shared-deflate': scenario('/ws/bench/', new URLRouter([path('ws/bench/', IdiomConsumer)]), wrapped, undefined, SHARED_COMPRESSION),
};
