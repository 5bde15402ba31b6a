/**
 * The scenarios without a framework, on `ws` alone: the yardsticks every other server is read
 * against.
 *
 * - `bare`: the usual loop, `JSON.stringify` once per broadcast and `ws.send(text)` per socket
 *   (framed and written per socket).
 * - `framed`: the best hand-written loop: framed once per broadcast (RFC 6455 §5.2, unmasked),
 *   the same bytes written to every socket, each socket corked until the next tick so a tick's
 *   frames leave in one write. Switchboard's fan-out path without the framework (it reaches into
 *   `ws`'s private `_socket`).
 * - `bare-rooms`: many small rooms by hand: a `Map` of room → sockets from the URL
 *   (`/room/<n>`), each client message parsed, checked and sent with `ws.send` to its room.
 * - `bare-deflate`: `bare` with permessage-deflate (RFC 7692) negotiated per socket, `ws`'s
 *   defaults (context takeover) and `threshold: 0`: each message compressed once per socket.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer, type PerMessageDeflateOptions } from 'ws';
import { chat, reading } from './messages.js';
import type { Hosted, ScenarioOptions, StartServer } from './types.js';

/** `ws`'s Sender (exported at run time, missing from @types/ws). */
const Sender = (wsModule as unknown as { Sender: { frame(data: Buffer, o: object): Buffer[] } }).Sender;

async function listen(perMessageDeflate: boolean | PerMessageDeflateOptions): Promise<{ wss: WebSocketServer; port: number; close(): Promise<void> }> {
  const server = createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    wss,
    port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.close();
    },
  };
}

const messageOf = (options: ScenarioOptions): ((i: number) => object) => (options.message === 'reading' ? reading : chat);

function fanOut(perMessageDeflate: boolean | PerMessageDeflateOptions, loop: (wss: WebSocketServer, text: string) => void): StartServer {
  return async (options) => {
    const { wss, port, close } = await listen(perMessageDeflate);
    const message = messageOf(options);
    return { port, path: '/', protocol: 'ws', broadcast: (i) => loop(wss, JSON.stringify(message(i))), open: () => wss.clients.size, close };
  };
}

const usualLoop = (wss: WebSocketServer, text: string): void => {
  for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(text);
};

const framedLoop = (wss: WebSocketServer, text: string): void => {
  const parts = Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false });
  const frame = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  for (const ws of wss.clients) {
    if (ws.readyState !== WebSocket.OPEN) continue;
    const socket = (ws as unknown as { _socket: Socket })._socket;
    if (socket.writableCorked === 0) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    socket.write(frame);
  }
};

/** Many small rooms by hand: the room from `/room/<n>`, each message checked and sent to the room. */
const bareRooms: StartServer = async () => {
  const { wss, port, close } = await listen(false);
  const rooms = new Map<string, Set<WebSocket>>();
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const room = /^\/room\/(\d+)$/.exec(req.url ?? '')?.[1];
    if (room === undefined) return ws.close(1008, 'no room');
    let members = rooms.get(room);
    if (!members) rooms.set(room, (members = new Set()));
    members.add(ws);
    ws.on('message', (data: Buffer) => {
      let content: unknown;
      try {
        content = JSON.parse(data.toString());
      } catch {
        return ws.close(1007, 'not JSON');
      }
      if (typeof content !== 'object' || content === null || !('message' in content) || typeof content.message !== 'string') return;
      const text = JSON.stringify({ message: content.message, username: 'username' in content ? content.username : '' });
      for (const member of members) if (member.readyState === WebSocket.OPEN) member.send(text);
    });
    ws.on('close', () => members.delete(ws));
  });
  const hosted: Hosted = { port, path: '/room/{room}', protocol: 'ws', open: () => wss.clients.size, close };
  return hosted;
};

/** The `ws` scenarios by name. */
export const wsScenarios: Record<string, StartServer> = {
  bare: fanOut(false, usualLoop),
  framed: fanOut(false, framedLoop),
  'bare-rooms': bareRooms,
  'bare-deflate': fanOut({ threshold: 0 }, usualLoop),
};
