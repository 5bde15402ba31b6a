/**
 * An outsider's app, on the installed `switchboard` package only: a chat on URLRouter, a consumer
 * whose handler throws (a bug the server must show), and the pages that load the client SDK.
 * Served by `npx switchboard serve ./dist/app.js` (the default export) or by ./server.ts.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { JsonWebsocketConsumer, ProtocolTypeRouter, URLRouter, path, type AppDefinition, type LayerMessage } from 'switchboard';

/** What a chat client sends and receives. */
export interface ChatLine {
  user: string;
  text: string;
}

class ChatConsumer extends JsonWebsocketConsumer<{ room: string }> {
  override groups = [`chat_${this.scope.urlRoute.kwargs.room}`];

  override async receiveJson(content: unknown): Promise<void> {
    const { user, text } = content as Partial<Record<keyof ChatLine, unknown>>;
    if (typeof user !== 'string' || typeof text !== 'string') return;
    const line: ChatLine = { user, text };
    await this.channelLayer!.groupSend(this.groups[0]!, { type: 'chat.message', ...line });
  }

  chatMessage(event: LayerMessage): void {
    this.sendJson({ user: event['user'], text: event['text'] });
  }
}

class BoomConsumer extends JsonWebsocketConsumer {
  override receiveJson(): void {
    throw new Error('outsider boom: a bug in a handler');
  }
}

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: fileURLToPath(new URL('../public/index.html', import.meta.url)), type: 'text/html' },
  '/prebuilt.html': { file: fileURLToPath(new URL('../public/prebuilt.html', import.meta.url)), type: 'text/html' },
  '/page.js': { file: fileURLToPath(new URL('../public/page.js', import.meta.url)), type: 'text/javascript' },
  // The SDK as one prebuilt ES module file, for a page without a bundler.
  '/switchboard-client.js': { file: fileURLToPath(import.meta.resolve('switchboard/client/bundle')), type: 'text/javascript' },
};

function http(req: IncomingMessage, res: ServerResponse): void {
  const served = FILES[new URL(req.url ?? '/', 'http://localhost').pathname];
  if (served === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  readFile(served.file).then(
    (body) => res.writeHead(200, { 'content-type': `${served.type}; charset=utf-8` }).end(body),
    () => res.writeHead(500).end(),
  );
}

export const application = new ProtocolTypeRouter({
  http,
  websocket: new URLRouter([path('ws/chat/<room>/', ChatConsumer), path('ws/boom/', BoomConsumer)]),
});

const app: AppDefinition = { application };
export default app;
