/**
 * The application `npm run bench:reliability` attacks: four routes on one SwitchboardServer with
 * the in-memory layer (default capacity, 100) and an in-memory history store.
 *
 * - `ws/json/`: a strict JSON consumer. `{message: string}` is echoed; anything else is a
 *   `BadRequestError` (an error frame, not counted); requests `echo` are answered with their data.
 * - `ws/raw/`: a plain `WebsocketConsumer` echoing text and binary frames.
 * - `ws/feed/`: members of group `feed`, the bystanders' route: every `feed.item` is forwarded.
 * - `ws/burst/`: members of group `burst` whose own frames take `delayMs` (a database insert)
 *   before `groupSendWithHistory`: issue 10 item 1's busy sender.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BadRequestError, InMemoryChannelLayer, InMemoryHistoryStore, JsonWebsocketConsumer, ProtocolTypeRouter, SwitchboardServer, URLRouter } from 'switchboard';
import { WebsocketConsumer, path, silentLogger, withPosition, type LayerEvent, type ReceivedFrame } from 'switchboard';

interface BenchEvents {
  'feed.item': { readonly payload: { readonly n: number } };
  'burst.message': { readonly payload: { readonly from: string; readonly n: number } };
}

/** Accepts `{message: string}` only; requests of type `echo` get their data back. */
class StrictJsonConsumer extends JsonWebsocketConsumer {
  override receiveJson(content: unknown): void {
    const message = (content as { message?: unknown } | null)?.message;
    if (typeof message !== 'string') throw new BadRequestError('"message" must be a string');
    this.sendJson({ message });
  }
  onEcho(data: unknown): unknown {
    return data ?? null;
  }
}

/** Echoes every frame as it came. */
class RawEchoConsumer extends WebsocketConsumer {
  override receive(frame: ReceivedFrame): void {
    this.send(frame.text ?? frame.bytes!);
  }
}

/** A member of `feed` that only listens. */
class FeedConsumer extends JsonWebsocketConsumer<Record<string, never>, BenchEvents> {
  override groups = ['feed'];
  feedItem(event: LayerEvent<BenchEvents, 'feed.item'>): void {
    this.sendJson(event.payload);
  }
}

/** A member of `burst` that sends too: each of its frames waits `delayMs` before publishing. */
class BusyMemberConsumer extends JsonWebsocketConsumer<Record<string, never>, BenchEvents, { delayMs: number }> {
  override groups = ['burst'];
  override async receiveJson(content: unknown): Promise<void> {
    const { from, n } = (content ?? {}) as { from?: unknown; n?: unknown };
    if (typeof from !== 'string' || typeof n !== 'number') throw new BadRequestError('{from: string, n: number} expected');
    await sleep(this.args.delayMs);
    await this.groupSendWithHistory('burst', { type: 'burst.message', payload: { from, n } });
  }
  burstMessage(event: LayerEvent<BenchEvents, 'burst.message'>): void {
    this.sendJson(withPosition(event, event.payload));
  }
}

/** The routes the fuzz part sends to, relative to the server's base URL. */
export const ROUTES = ['ws/json/', 'ws/raw/', 'ws/feed/', 'ws/burst/'] as const;

/** A running bench server and what it runs on. */
export interface BenchApp {
  readonly server: SwitchboardServer;
  readonly layer: InMemoryChannelLayer;
  readonly base: string;
  close(): Promise<void>;
}

/** Starts the bench application on a free loopback port. */
export async function startBenchApp(options: { burstDelayMs: number }): Promise<BenchApp> {
  const layer = new InMemoryChannelLayer();
  const history = new InMemoryHistoryStore();
  const router = new URLRouter([
    path('ws/json/', StrictJsonConsumer),
    path('ws/raw/', RawEchoConsumer),
    path('ws/feed/', FeedConsumer),
    path('ws/burst/', BusyMemberConsumer.with({ delayMs: options.burstDelayMs })),
  ]);
  // silentLogger: the fuzz makes handlers throw on purpose (1011); thousands of stacks on stderr
  // would bury the figures.
  const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket: router }), { port: 0, channelLayer: layer, history, logger: silentLogger() });
  const { port } = await server.listen();
  return {
    server,
    layer,
    base: `ws://127.0.0.1:${port}/`,
    async close() {
      await server.close();
      await history.close();
      await layer.close();
    },
  };
}
