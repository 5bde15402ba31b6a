// Who is online (SEEDS.md system 5, seed 003): an ES module on the framework's browser client.
// The socket is on the page's own path, as in the seed: ws://host/users/. Each message is the
// seed's {"username": "...", "is_logged_in": true|false} (logged in: "Online"), plus "active"
// (a page of the site open now: the "active now" marker); the matching <li> is updated, or added
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
  const active = document.createElement('span');
  active.className = 'user-active';
  li.appendChild(name);
  li.appendChild(status);
  li.appendChild(active);
  list.appendChild(li);
  const empty = document.getElementById('users-empty');
  if (empty) empty.remove();
  return li;
}

function show(username, online, active) {
  const li = itemFor(username);
  li.dataset.online = online ? 'true' : 'false';
  li.dataset.active = active ? 'true' : 'false';
  li.querySelector('.user-status').textContent = online ? 'Online' : 'Offline';
  li.querySelector('.user-active').textContent = active ? 'active now' : '';
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
    show(data.username, data.is_logged_in, data.active === true);
  }
});
