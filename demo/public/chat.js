// Chat room page (SEEDS.md system 3): plain browser JavaScript, no build step.
// Wire protocol as in the seeds: send {"message": "..."}; receive {"message", "username"}.
// Messages go into the textarea as text (textarea.value), never as HTML.
'use strict';

(function () {
  var root = document.getElementById('chat');
  var log = document.getElementById('chat-log');
  var input = document.getElementById('chat-message-input');
  var button = document.getElementById('chat-message-submit');
  var statusLine = document.getElementById('chat-status');
  var roomName = JSON.parse(document.getElementById('room-name').textContent);
  var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  var url = scheme + location.host + '/ws/chat/' + encodeURIComponent(roomName) + '/';

  // Close codes after which reconnecting can help (server shutdown/restart/overload, or no close
  // frame at all); the others (4400, 4403, 1008, ...) are final. Same split as src/close-codes.ts.
  var RETRY_CODES = [1001, 1006, 1011, 1012, 1013];
  var MAX_DELAY_MS = 30000;
  var attempt = 0;
  var socket = null;

  function setStatus(text, bad) {
    statusLine.textContent = text;
    statusLine.className = bad ? 'status bad' : 'status';
  }

  function append(line) {
    log.value += line + '\n';
    log.scrollTop = log.scrollHeight;
  }

  function connect() {
    setStatus('connecting…', false);
    socket = new WebSocket(url);
    root.dataset.state = 'connecting';

    socket.onopen = function () {
      attempt = 0;
      root.dataset.state = 'open';
      setStatus('connected to room ' + roomName, false);
    };

    socket.onmessage = function (e) {
      var data;
      try {
        data = JSON.parse(e.data);
      } catch (err) {
        setStatus('unreadable message from the server', true);
        return;
      }
      if (data && data.type === 'error') {
        setStatus('error ' + data.code + ': ' + data.message, true);
        return;
      }
      if (data && typeof data.message === 'string') {
        append((typeof data.username === 'string' ? data.username : '?') + ': ' + data.message);
      }
    };

    socket.onclose = function (e) {
      root.dataset.state = 'closed';
      var text = 'disconnected (close code ' + e.code + (e.reason ? ', ' + e.reason : '') + ')';
      if (RETRY_CODES.indexOf(e.code) !== -1) {
        // Exponential backoff with full jitter, so a restarted server is not hit by every tab at once.
        var delay = Math.random() * Math.min(MAX_DELAY_MS, 500 * Math.pow(2, attempt));
        attempt += 1;
        setStatus(text + '; reconnecting in ' + Math.ceil(delay / 1000) + ' s', true);
        setTimeout(connect, delay);
      } else {
        setStatus(text + '; reload the page to reconnect', true);
      }
    };
  }

  function sendMessage() {
    var message = input.value;
    if (message.trim() === '') return;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      setStatus('not connected; the message was not sent', true);
      return;
    }
    socket.send(JSON.stringify({ message: message }));
    input.value = '';
    input.focus();
  }

  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
  button.addEventListener('click', sendMessage);

  connect();
})();
