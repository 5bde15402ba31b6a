/**
 * What `npm run bench` runs: each scenario's label, the server it starts (bench/scenarios) and
 * how it is measured. `role` marks the yardsticks the other rows are divided by.
 */
import type { Group } from './config.js';

export interface Case {
  readonly group: Group;
  readonly label: string;
  /** A key of bench/scenarios/index.ts. */
  readonly server: string;
  /** The broadcasts come from bench/publisher.ts of this kind, not from the server. */
  readonly publisher?: 'switchboard' | 'socketio';
  /** The receivers offer permessage-deflate. */
  readonly deflate?: boolean;
  /** `bare`: the ratio base of its group; `framed`: the second one (fan-out, compression). */
  readonly role?: 'bare' | 'framed';
  readonly note: string;
}

const fanOut = (group: 'rate' | 'saturation'): Case[] => [
  { group, label: 'bare ws loop', server: 'bare', role: 'bare', note: 'ws.send(text) per socket' },
  { group, label: 'ws framed once + cork', server: 'framed', role: 'framed', note: 'hand-written best case' },
  { group, label: 'socket.io io.to(room).emit', server: 'socketio', note: 'Socket.IO 4, websocket transport' },
  { group, label: 'switchboard idiom', server: 'sb-idiom', note: 'sendJson(e.payload)' },
  { group, label: 'switchboard natural handler', server: 'sb-natural', note: 'sendJson({message, username})' },
];

export const plan: readonly Case[] = [
  ...fanOut('rate'),
  ...fanOut('saturation'),
  { group: 'saturation', label: 'socket.io + redis adapter', server: 'socketio-redis', publisher: 'socketio', note: 'emit from another process' },
  { group: 'saturation', label: 'switchboard redis', server: 'sb-redis', publisher: 'switchboard', note: 'groupSend from another process' },
  { group: 'idle', label: 'bare ws', server: 'bare', role: 'bare', note: 'WebSocketServer, no deflate' },
  { group: 'idle', label: 'socket.io', server: 'socketio', note: 'joined one room' },
  { group: 'idle', label: 'switchboard', server: 'sb-idle', note: 'consumer in one group, heartbeat on' },
  { group: 'rooms', label: 'bare ws room map', server: 'bare-rooms', role: 'bare', note: 'Map room → sockets, ws.send' },
  { group: 'rooms', label: 'socket.io rooms', server: 'socketio-rooms', note: 'io.to(room).emit' },
  { group: 'rooms', label: 'switchboard chat consumer', server: 'sb-rooms', note: 'receiveJson → groupSend → sendJson' },
  { group: 'compression', label: 'ws framed once, uncompressed', server: 'framed', role: 'framed', deflate: true, note: 'deflate offered, not accepted' },
  { group: 'compression', label: 'bare ws per-socket deflate', server: 'bare-deflate', role: 'bare', deflate: true, note: 'compressed once per socket' },
  { group: 'compression', label: 'switchboard idiom, uncompressed', server: 'sb-idiom', deflate: true, note: 'no sharedCompression' },
  { group: 'compression', label: 'switchboard shared compression', server: 'sb-shared-deflate', deflate: true, note: 'sharedCompression: true, one deflate per broadcast' },
];
