// Who is online (SEEDS.md system 5, seed 003): an ES module on the framework's browser client.
// The socket is on the page's own path, as in the seed: ws://host/users/. Each message is the
// seed's {"username": "...", "is_logged_in": true|false}; the matching <li> is updated, or added
// for a user who signed up after the page was rendered. Usernames go in as text (textContent) and
// are compared as strings (dataset), never put into HTML or a selector.
import { SwitchboardSocket } from '/client/switchboard-client.js';
import { showSocketState, socketUrl } from './page-socket.js';

const list = document.getElementById('users');
const statusLine = document.getElementById('users-status');

function itemFor(username) {
  const items = list.children;
  for (let i = 0; i < items.length; i++) {
    if (items[i].dataset.username === username) return items[i];
  }
  const li = document.createElement('li');
  li.dataset.username = username;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = username;
  const status = document.createElement('span');
  status.className = 'user-status';
  li.appendChild(name);
  li.appendChild(document.createTextNode(': '));
  li.appendChild(status);
  list.appendChild(li);
  return li;
}

function show(username, online) {
  const li = itemFor(username);
  li.dataset.online = online ? 'true' : 'false';
  li.querySelector('.user-status').textContent = online ? 'Online' : 'Offline';
}

const socket = new SwitchboardSocket(socketUrl('/users/'));
showSocketState(socket, {
  root: list,
  status: statusLine,
  openText: () => 'live',
  // 4401: this session logged out (here or in another tab); the SDK does not come back.
  finalText: (close) => (close.code === 4401 ? 'logged out (close code 4401); log in again to see who is online' : undefined),
});
socket.on('message', (data) => {
  if (data && typeof data.username === 'string' && typeof data.is_logged_in === 'boolean') {
    show(data.username, data.is_logged_in);
  }
});
