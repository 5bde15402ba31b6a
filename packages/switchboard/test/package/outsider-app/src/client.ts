/**
 * The client SDK in Node: two chat users on `ws` (alice and bob), then a socket to a path with no
 * route, which must give up with 404. Prints one JSON line; exits 1 when it does not finish in time.
 * Usage: node dist/client.js ws://127.0.0.1:<port>
 */
import { SwitchboardSocket, type Events, type SwitchboardSocketOptions } from 'switchboard/client';
import { WebSocket } from 'ws';
import type { ChatLine } from './app.js';

const base = process.argv[2];
if (base === undefined) throw new Error('usage: node dist/client.js ws://127.0.0.1:<port>');
const options: SwitchboardSocketOptions = { WebSocketImpl: WebSocket, minDelayMs: 20, maxDelayMs: 100, maxAttempts: 5 };
const result: { alice: ChatLine[]; bob: ChatLine[]; refused?: Events['giveup']; errors: string[] } = { alice: [], bob: [], errors: [] };
setTimeout(() => {
  console.log(JSON.stringify(result));
  process.exit(1);
}, 15_000).unref();

function join(user: 'alice' | 'bob'): Promise<SwitchboardSocket> {
  const socket = new SwitchboardSocket(`${base}/ws/chat/lobby/`, options);
  socket.on('message', (message) => result[user].push(message as ChatLine));
  socket.on('error', (e) => result.errors.push(`${user}: ${e.message}`));
  return new Promise((resolve) => socket.on('open', () => resolve(socket)));
}

const [alice, bob] = await Promise.all([join('alice'), join('bob')]);
const bothGotIt = new Promise<void>((resolve) => {
  const check = () => {
    if (result.alice.length === 1 && result.bob.length === 1) resolve();
  };
  alice.on('message', check);
  bob.on('message', check);
});
alice.sendJson({ user: 'alice', text: 'hello from Node' });
await bothGotIt;

const nowhere = new SwitchboardSocket(`${base}/ws/nowhere/`, options);
result.refused = await new Promise<Events['giveup']>((resolve) => nowhere.on('giveup', resolve));
alice.close();
bob.close();
console.log(JSON.stringify(result));
