#!/usr/bin/env node
// `npm run send -- "hi"`: seed 002's backend push, short form. Sends the chat event
// {type: 'chat.message', payload: {message, username: 'server'}} to the single room at ws/chat/
// (group chat_chat_room) through `switchboard send`, which publishes through Redis when
// CHANNEL_LAYER_URL is set and otherwise asks the running server (publish API, SWITCHBOARD_API_KEY
// or ./data/api-key).
//
// Usage: npm run send -- [--room <name>] [--as <username>] <message...>
//   --room lobby   sends to ws/chat/lobby/ (group chat_lobby) instead
//   --as <name>    the name shown with the message (default "server")
// Any other option (--url, --api-key, --channel-layer-url, ...) is passed on to `switchboard send`.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('error: dist/src/cli/main.js is missing; run "npm run build" first');
  process.exit(1);
}

const args = process.argv.slice(2);
const words = [];
const passOn = [];
let group = 'chat_chat_room';
let username = 'server';
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--room' || arg === '--as') {
    const value = args[++i];
    if (value === undefined) {
      console.error(`error: ${arg} needs a value`);
      process.exit(2);
    }
    if (arg === '--room') group = `chat_${value}`;
    else username = value;
  } else if (arg.startsWith('--')) {
    passOn.push(arg);
    if (!arg.includes('=') && args[i + 1] !== undefined && !args[i + 1].startsWith('--')) passOn.push(args[++i]);
  } else {
    words.push(arg);
  }
}
const message = words.join(' ');
if (message.trim() === '') {
  console.error('usage: npm run send -- [--room <name>] [--as <username>] <message...>   e.g. npm run send -- "hi"');
  process.exit(2);
}

const data = JSON.stringify({ payload: { message, username } });
const result = spawnSync(process.execPath, [cli, 'send', '--group', group, '--type', 'chat.message', '--data', data, ...passOn], { stdio: 'inherit' });
process.exit(result.status ?? 1);
