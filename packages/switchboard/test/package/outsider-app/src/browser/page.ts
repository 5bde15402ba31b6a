/**
 * The page script of public/index.html, bundled by esbuild (platform browser) from
 * `import { SwitchboardSocket } from 'switchboard/client'`: joins the lobby and keeps a log the
 * test reads.
 */
import { SwitchboardSocket, type SocketState } from 'switchboard/client';

interface ChatLine {
  user: string;
  text: string;
}

const log: { state: SocketState; lines: ChatLine[] } = { state: 'connecting', lines: [] };
const socket = new SwitchboardSocket(`${location.origin.replace(/^http/, 'ws')}/ws/chat/lobby/`, { maxAttempts: 5 });
socket.on('state', (state) => {
  log.state = state;
});
socket.on('message', (message) => {
  log.lines.push(message as ChatLine);
  document.body.append(`${(message as ChatLine).user}: ${(message as ChatLine).text}\n`);
});

Object.assign(window, { outsider: { log, say: (text: string) => socket.sendJson({ user: 'esbuild', text }) } });
