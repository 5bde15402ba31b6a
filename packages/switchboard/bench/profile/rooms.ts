/**
 * Many small rooms for `valgrind --tool=callgrind` (run through bench/profile/count.ts):
 * `PROFILE_CLIENTS` (1,000) clients in rooms of `ROOM_SIZE` (10), i.e. 100 rooms; every client
 * sends `WARMUP` then `MESSAGES` chat messages (`{"message": …}`), each delivered to its room's
 * members. Per message: ws frame → text → JSON.parse → the room's members → a JSON text frame each.
 *
 * Modes (argv[2]): `bare` (a `ws` server: parse, stringify once, `ws.send(text)` per member) and
 * `switchboard` (`receiveJson` → `groupSend` to the room → each member's `chatMessage` →
 * `sendJson({ message, username })`, the natural handler).
 */
import type { WebSocket } from 'ws';
import { JsonWebsocketConsumer, type LayerMessage } from 'switchboard';
import { measured } from './checkpoint.js';
import { ask, startReceivers, tell } from './ipc.js';
import { bareServer, switchboardServer } from './servers.js';

const mode = process.argv[2] ?? 'switchboard';
const CLIENTS = Number(process.env.PROFILE_CLIENTS ?? 1000);
const ROOM_SIZE = Number(process.env.ROOM_SIZE ?? 10);
const ROOMS = CLIENTS / ROOM_SIZE;
const WARMUP = Number(process.env.WARMUP ?? 20);
const MESSAGES = Number(process.env.MESSAGES ?? 20);
const chat = JSON.stringify({ message: 'hello, room: '.padEnd(64, 'x') });

class RoomConsumer extends JsonWebsocketConsumer {
  readonly room = `room.${String(this.scope.urlRoute.kwargs.room)}`;
  override groups = [this.room];
  override async receiveJson(content: unknown): Promise<void> {
    const { message } = content as { message: string };
    await this.groupSend(this.room, { type: 'chat.message', message, username: 'someone' });
  }
  chatMessage(e: LayerMessage): void {
    this.sendJson({ message: e.message, username: e.username });
  }
}

async function main(): Promise<void> {
  const child = startReceivers();
  if (mode === 'bare') {
    const rooms = new Map<string, Set<WebSocket>>();
    const bare = await bareServer();
    bare.wss.on('connection', (ws, req) => {
      const name = req.url ?? '/';
      let members = rooms.get(name);
      if (members === undefined) rooms.set(name, (members = new Set()));
      members.add(ws);
      const room = members;
      ws.on('message', (data: Buffer) => {
        const { message } = JSON.parse(data.toString()) as { message: string };
        const text = JSON.stringify({ message, username: 'someone' });
        for (const member of room) member.send(text);
      });
    });
    await ask(child, { cmd: 'open', url: `${bare.url}ws/`, count: CLIENTS, rooms: ROOMS }, 'open');
  } else {
    const { url } = await switchboardServer(RoomConsumer);
    await ask(child, { cmd: 'open', url, count: CLIENTS, rooms: ROOMS }, 'open');
  }
  const run = async (perClient: number): Promise<void> => {
    if (perClient === 0) return;
    await ask(child, { cmd: 'expect', total: perClient * CLIENTS * ROOM_SIZE }, 'armed');
    const done = ask(child, { cmd: 'noop' }, 'received');
    tell(child, { cmd: 'send', perClient, text: chat });
    await done;
  };
  await measured(child, run, WARMUP, MESSAGES);
}

void main();
