/**
 * `switchboard-demo send [--room <name>] [--as <username>] <message...>`: seed 002's backend push,
 * short form (`npm run send -- "hi"`). Sends `{type: 'chat.message', payload: {message, username}}`
 * to the room's group (`chat_chat_room`, the single room at `ws/chat/`, by default) through the
 * framework's `switchboard send`:
 * - with `CHANNEL_LAYER_URL=redis://…`, through Redis;
 * - otherwise through the running demo's publish API (`http://$HOST:$PORT/api/publish`) with the
 *   key from `SWITCHBOARD_API_KEY` or `./data/api-key` (handed over in the environment, never on
 *   a command line, where `ps` would show it).
 * Other options (`--url`, `--channel-layer-url`, `--timeout-ms`) are passed on.
 *
 * Exit codes: those of `switchboard send` (0 sent, 1 could not send, 2 bad arguments).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { API_KEY_FILE } from '../api/api-key.js';
import { defaultServerUrl } from './server-url.js';

/** The framework's `switchboard` command, from the installed package's `bin`. */
export function switchboardBin(): string {
  const pkgUrl = import.meta.resolve('switchboard/package.json');
  const pkg = JSON.parse(readFileSync(fileURLToPath(pkgUrl), 'utf8')) as { bin?: Record<string, string> };
  const bin = pkg.bin?.['switchboard'];
  if (bin === undefined) throw new Error('the installed switchboard package has no "switchboard" bin');
  return fileURLToPath(new URL(bin, pkgUrl));
}

/** The publish API key: `SWITCHBOARD_API_KEY`, else `./data/api-key` (what the server printed at its first start). */
function apiKey(env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env['SWITCHBOARD_API_KEY']?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(resolve('data', API_KEY_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

interface SendFlags {
  room: string;
  as: string;
  url?: string;
  channelLayerUrl?: string;
  timeoutMs?: string;
}

/** The `send` subcommand. */
export function createSendCommand(): Command {
  return new Command('send')
    .description('send a chat message to a room from outside any connection (seed 002\'s send_message)')
    .argument('<message...>', 'the message; words are joined with spaces')
    .option('--room <name>', 'room to send to: ws/chat/<name>/ (group chat_<name>)', 'chat_room')
    .option('--as <username>', 'the name shown with the message', 'server')
    .option('--url <url>', 'the demo server (default http://$HOST:$PORT, PORT default 8000), when CHANNEL_LAYER_URL is unset')
    .option('--channel-layer-url <url>', 'publish through this Redis layer instead of the server')
    .option('--timeout-ms <ms>', 'how long to wait for the server or Redis')
    .action(async (words: string[], flags: SendFlags) => {
      const message = words.join(' ');
      if (message.trim() === '') {
        process.stderr.write('error: the message is empty; e.g. npm run send -- "hi"\n');
        process.exitCode = 2;
        return;
      }
      const args = ['send', '--group', `chat_${flags.room}`, '--type', 'chat.message', '--data', JSON.stringify({ payload: { message, username: flags.as } })];
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (flags.channelLayerUrl !== undefined) args.push('--channel-layer-url', flags.channelLayerUrl);
      if (flags.timeoutMs !== undefined) args.push('--timeout-ms', flags.timeoutMs);
      const viaRedis = (flags.channelLayerUrl ?? env['CHANNEL_LAYER_URL'] ?? '').trim() !== '';
      if (!viaRedis) {
        const base = flags.url ?? defaultServerUrl(env);
        args.push('--url', new URL('api/publish', base.endsWith('/') ? base : `${base}/`).href);
        const key = apiKey(env);
        if (key === undefined) {
          process.stderr.write(`error: no API key: set SWITCHBOARD_API_KEY to the key the server printed at its first start, or run from the server's directory to use ./data/${API_KEY_FILE}\n`);
          process.exitCode = 1;
          return;
        }
        env['SWITCHBOARD_PUBLISH_TOKEN'] = key;
      }
      const child = spawn(process.execPath, [switchboardBin(), ...args], { stdio: 'inherit', env });
      process.exitCode = await new Promise<number>((done) => child.on('exit', (code) => done(code ?? 1)));
    });
}
