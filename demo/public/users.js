// Who is online (SEEDS.md system 5, seed 003): plain browser JavaScript, no build step.
// The socket is on the page's own path, as in the seed: ws://host/users/. Each message is the
// seed's {"username": "...", "is_logged_in": true|false}; the matching <li> is updated, or added
// for a user who signed up after the page was rendered. Usernames go in as text (textContent) and
// are compared as strings (dataset), never put into HTML or a selector.
'use strict';

(function () {
  var list = document.getElementById('users');
  var statusLine = document.getElementById('users-status');
  var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  var url = scheme + location.host + '/users/';

  // Close codes after which reconnecting can help; the others (4401 logged out, ...) are final.
  var RETRY_CODES = [1001, 1006, 1011, 1012, 1013];
  var MAX_DELAY_MS = 30000;
  var attempt = 0;

  function setStatus(text, bad) {
    statusLine.textContent = text;
    statusLine.className = bad ? 'status bad' : 'status';
  }

  function itemFor(username) {
    var items = list.children;
    for (var i = 0; i < items.length; i++) {
      if (items[i].dataset.username === username) return items[i];
    }
    var li = document.createElement('li');
    li.dataset.username = username;
    var name = document.createElement('span');
    name.className = 'name';
    name.textContent = username;
    var status = document.createElement('span');
    status.className = 'user-status';
    li.appendChild(name);
    li.appendChild(document.createTextNode(': '));
    li.appendChild(status);
    list.appendChild(li);
    return li;
  }

  function show(username, online) {
    var li = itemFor(username);
    li.dataset.online = online ? 'true' : 'false';
    li.querySelector('.user-status').textContent = online ? 'Online' : 'Offline';
  }

  function connect() {
    var socket = new WebSocket(url);
    list.dataset.state = 'connecting';
    socket.onopen = function () {
      attempt = 0;
      list.dataset.state = 'open';
      setStatus('live', false);
    };
    socket.onmessage = function (e) {
      var data;
      try {
        data = JSON.parse(e.data);
      } catch (err) {
        setStatus('unreadable message from the server', true);
        return;
      }
      if (data && typeof data.username === 'string' && typeof data.is_logged_in === 'boolean') {
        show(data.username, data.is_logged_in);
      }
    };
    socket.onclose = function (e) {
      list.dataset.state = 'closed';
      list.dataset.closeCode = String(e.code);
      if (e.code === 4401) {
        setStatus('logged out (close code 4401); log in again to see who is online', true);
      } else if (RETRY_CODES.indexOf(e.code) !== -1) {
        var delay = Math.random() * Math.min(MAX_DELAY_MS, 500 * Math.pow(2, attempt));
        attempt += 1;
        setStatus('disconnected (close code ' + e.code + '); reconnecting in ' + Math.ceil(delay / 1000) + ' s', true);
        setTimeout(connect, delay);
      } else {
        setStatus('disconnected (close code ' + e.code + '); reload the page to reconnect', true);
      }
    };
  }

  connect();
})();
