// Chat room page (SEEDS.md system 3): an ES module on the framework's browser client
// (SwitchboardSocket: reconnects by close code with backoff, queues what is sent meanwhile).
// Wire protocol as in the seeds: send {"message": "..."}; receive {"message", "username"}.
// Messages go into the textarea as text (textarea.value), never as HTML.
import { SwitchboardSocket } from '/client/switchboard-client.js';
import { appendLine, setStatus, showSocketState, socketUrl } from './page-socket.js';

const root = document.getElementById('chat');
const log = document.getElementById('chat-log');
const input = document.getElementById('chat-message-input');
const button = document.getElementById('chat-message-submit');
const statusLine = document.getElementById('chat-status');
const counter = document.getElementById('chat-char-count');
// The server refuses longer messages (MAX_MESSAGE_CHARS, in code points); the input has no
// maxlength, which would cut a long paste silently: it says how long the text is instead.
const maxChars = Number(counter.dataset.max) || 2000;

function charCount(text) {
  return Array.from(text).length;
}

function showCount() {
  const n = charCount(input.value);
  const over = n > maxChars;
  counter.textContent = n === 0 ? '' : over ? n + ' / ' + maxChars + ' characters: ' + (n - maxChars) + ' too many, shorten it' : n > maxChars * 0.8 ? n + ' / ' + maxChars : '';
  counter.className = over ? 'char-count over' : 'char-count';
  button.disabled = over;
  return !over;
}
input.addEventListener('input', showCount);
const roomName = JSON.parse(document.getElementById('room-name').textContent);

// The id of the last stored message shown: after an outage longer than the server's history
// window, the server continues from the database after it (`after=`), exactly once.
let lastId = null;
const socket = new SwitchboardSocket(socketUrl('/ws/chat/' + encodeURIComponent(roomName) + '/'), {
  // `presence`: this page shows who is here (seed pages, which would print the frames, do not ask).
  params: () => (lastId === null ? { presence: '1' } : { presence: '1', after: String(lastId) }),
});

// Who is here: the SDK keeps the room's presence list (one entry per name, several tabs once).
const here = document.getElementById('chat-presence');
socket.on('presence', () => {
  const names = [...socket.presence.keys()].sort();
  here.replaceChildren(...names.map((name) => Object.assign(document.createElement('li'), { textContent: name })));
  here.dataset.count = String(names.length);
});
// A final close (4401 members only, 4403, 4400) shows its code and reason, as any other.
showSocketState(socket, { root, status: statusLine, openText: () => 'connected to room ' + roomName });

// After a reconnect the server either fills the gap from its history (the missed messages
// follow, nothing else) or says it could not (`recovered: false`) and continues from the database
// after `lastId`. Only a page that had no stored message yet gets the room's recent ones again:
// start its log over so none shows twice.
socket.on('recovery', (recovery) => {
  if (!recovery.recovered && lastId === null) log.value = '';
});

socket.on('message', (data) => {
  if (data && data.type === 'error') {
    setStatus(statusLine, 'error ' + data.code + ': ' + data.message, true);
  } else if (data && typeof data.message === 'string') {
    if (typeof data.id === 'number') lastId = Math.max(lastId ?? 0, data.id);
    appendLine(log, (typeof data.username === 'string' ? data.username : '?') + ': ' + data.message);
  }
});

function sendMessage() {
  const message = input.value;
  if (message.trim() === '') return;
  if (!showCount()) {
    setStatus(statusLine, 'not sent: the message has ' + charCount(message) + ' characters, at most ' + maxChars + ' are allowed', true);
    return;
  }
  if (socket.state === 'closed') {
    setStatus(statusLine, 'not connected; the message was not sent (reload the page to reconnect)', true);
    return;
  }
  // Queued by the SDK while reconnecting, sent once the socket is open again.
  socket.sendJson({ message });
  if (socket.state !== 'open') setStatus(statusLine, 'reconnecting; the message will be sent once connected', true);
  input.value = '';
  showCount();
  input.focus();
}

input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.isComposing) {
    e.preventDefault();
    sendMessage();
  }
});
button.addEventListener('click', sendMessage);
