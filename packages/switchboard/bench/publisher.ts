/**
 * The sender of the cross-process fan-out scenarios, in a process of its own (on the load
 * generator's core): `node publisher.js <switchboard|socketio> <options JSON>`. Announces
 * `{ok:'ready'}`, then answers `{cmd:'broadcast', count, rate, first}` → `{ok:'sent', ms}` and
 * `{cmd:'cpu'}` → `{ok:'cpu', us}` (its own CPU time so far, as bench/server-host.ts).
 *
 * - `switchboard`: its own `RedisChannelLayer` with the server's prefix; a broadcast is
 *   `layer.groupSend('bench', {type: 'chat.message', ...message})`.
 * - `socketio`: a Socket.IO server (no HTTP listener, no clients) on `@socket.io/redis-adapter`
 *   with the server's key; a broadcast is `io.to('bench').emit('chat', message)`, which the
 *   adapter PUBLISHes for every other server on the key.
 */
import { Server } from 'socket.io';
import { drive, type Broadcast } from './drive.js';
import { serve } from './ipc.js';
import { chat } from './scenarios/messages.js';
import { redisAdapter } from './scenarios/socketio.js';
import { natural, redisLayer } from './scenarios/switchboard.js';
import type { ScenarioOptions } from './scenarios/types.js';

const [kind, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as ScenarioOptions;

async function open(): Promise<{ broadcast: Broadcast; close(): Promise<void> }> {
  if (kind === 'switchboard') {
    const layer = await redisLayer(options.redisUrl, options.redisPrefix);
    return { broadcast: (i) => natural(layer, i), close: () => layer.close() };
  }
  if (kind === 'socketio') {
    const adapter = await redisAdapter(options.redisUrl);
    const io = new Server({ adapter: adapter.adapter, serveClient: false });
    return {
      broadcast: (i) => void io.to('bench').emit('chat', chat(i)),
      close: async () => {
        await io.close();
        await adapter.close();
      },
    };
  }
  throw new Error('usage: publisher.js <switchboard|socketio> <options JSON>');
}

const sender = await open();
serve(async (msg) => {
  if (msg.cmd === 'broadcast') return { ok: 'sent', ms: await drive(sender.broadcast, Number(msg.count), Number(msg.rate), Number(msg.first ?? 0)) };
  if (msg.cmd === 'cpu') {
    const { user, system } = process.cpuUsage();
    return { ok: 'cpu', us: user + system };
  }
  if (msg.cmd === 'exit') {
    await sender.close();
    process.exit(0);
  }
  throw new Error(`unknown command ${msg.cmd}`);
});
process.send!({ ok: 'ready' });
