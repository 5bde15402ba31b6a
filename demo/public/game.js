// Dice game room page (SEEDS.md system 4): plain browser JavaScript, no build step.
// Sends {"action": "join" | "roll" | "new_game" | "leave"} on ws/game/<room>/; the server rolls
// the die and answers every member with the seed's {"message", "gameStatus", "position"} and a
// {type: "state"} frame (players, squares, whose turn). Errors (out of turn, ...) come as
// {type: "error", message}. Text goes in with textContent / textarea.value, never as HTML.
'use strict';

(function () {
  var root = document.getElementById('game');
  var room = root.dataset.room;
  var youLine = document.getElementById('game-you');
  var turnLine = document.getElementById('game-turn');
  var statusLine = document.getElementById('game-status');
  var tbody = document.querySelector('#game-players tbody');
  var log = document.getElementById('game-log');
  var buttons = {
    join: document.getElementById('game-join'),
    roll: document.getElementById('game-roll'),
    new_game: document.getElementById('game-new'),
    leave: document.getElementById('game-leave'),
  };
  var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  var url = scheme + location.host + '/ws/game/' + encodeURIComponent(room) + '/';
  var RETRY_CODES = [1001, 1006, 1011, 1012, 1013];
  var MAX_DELAY_MS = 30000;
  var attempt = 0;
  var socket = null;
  var you = null;
  var state = null;

  function setStatus(text, bad) {
    statusLine.textContent = text;
    statusLine.className = bad ? 'status bad' : 'status';
  }

  function append(line) {
    log.value += line + '\n';
    log.scrollTop = log.scrollHeight;
  }

  function cell(text) {
    var td = document.createElement('td');
    td.textContent = text;
    return td;
  }

  function isPlayer() {
    return !!(state && you && state.players.some(function (p) { return p.id === you.id; }));
  }

  function render() {
    var open = socket && socket.readyState === WebSocket.OPEN;
    var playing = isPlayer();
    buttons.join.disabled = !open || playing;
    buttons.leave.disabled = !open || !playing;
    buttons.roll.disabled = !open || !playing || !state || state.turn !== you.id;
    buttons.new_game.disabled = !open || !playing || !state || state.status !== 'over';
    if (!state) return;
    root.dataset.status = state.status;
    root.dataset.gameStatus = String(state.gameStatus);
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    state.players.forEach(function (p) {
      var tr = document.createElement('tr');
      var name = p.name + (you && p.id === you.id ? ' (you)' : '') + (p.id === state.turn ? ' ← turn' : '');
      tr.appendChild(cell(name));
      tr.appendChild(cell(p.position + ' / ' + state.boardSize));
      var td = document.createElement('td');
      var bar = document.createElement('progress');
      bar.max = state.boardSize;
      bar.value = p.position;
      td.appendChild(bar);
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
    var text;
    if (state.status === 'over') {
      text = 'Game over: ' + (state.winner ? state.winner.name : 'someone') + ' won.' + (playing ? ' Start a new game?' : '');
    } else if (state.players.length === 0) {
      text = 'No players yet: join the game.';
    } else {
      var current = state.players.filter(function (p) { return p.id === state.turn; })[0];
      text = current && you && current.id === you.id ? 'Your turn: roll the die!' : 'Waiting for ' + (current ? current.name : '…') + ' to roll.';
      if (!playing) text += ' You are watching; join to play.';
    }
    turnLine.textContent = text;
  }

  function onFrame(data) {
    if (data.type === 'hello' && data.you) {
      you = data.you;
      state = null; // a new connection: accept whatever state the server has now
      youLine.textContent = 'You are ' + you.name + '.';
    } else if (data.type === 'state') {
      // Several server processes may announce changes; never go back to an older version.
      if (state && data.version < state.version) return;
      state = data;
    } else if (data.type === 'error') {
      setStatus(data.message, true);
      return;
    } else if (typeof data.message === 'string') {
      append(data.message);
    }
    render();
  }

  function connect() {
    setStatus('connecting…', false);
    root.dataset.state = 'connecting';
    socket = new WebSocket(url);
    socket.onopen = function () {
      attempt = 0;
      root.dataset.state = 'open';
      setStatus('connected to room ' + room, false);
      render();
    };
    socket.onmessage = function (event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (err) {
        setStatus('unreadable message from the server', true);
        return;
      }
      if (data && typeof data === 'object') onFrame(data);
    };
    socket.onclose = function (event) {
      root.dataset.state = 'closed';
      render();
      var text = 'disconnected (close code ' + event.code + (event.reason ? ', ' + event.reason : '') + ')';
      if (RETRY_CODES.indexOf(event.code) !== -1) {
        var delay = Math.random() * Math.min(MAX_DELAY_MS, 500 * Math.pow(2, attempt));
        attempt += 1;
        setStatus(text + '; reconnecting in ' + Math.ceil(delay / 1000) + ' s', true);
        setTimeout(connect, delay);
      } else {
        setStatus(text + '; reload the page to reconnect', true);
      }
    };
  }

  Object.keys(buttons).forEach(function (action) {
    buttons[action].addEventListener('click', function () {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      setStatus('connected to room ' + room, false);
      socket.send(JSON.stringify({ action: action }));
    });
  });

  connect();
})();
