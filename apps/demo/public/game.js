// Dice game room page (SEEDS.md system 4): an ES module on the framework's browser client.
// Sends {"action": "join" | "roll" | "new_game" | "leave"} on ws/game/<room>/; the server rolls
// the die and answers every member with the seed's {"message", "gameStatus", "position"} and a
// {type: "state"} frame (players, squares, whose turn). Errors (out of turn, ...) come as
// {type: "error", message}. Text goes in with textContent / textarea.value, never as HTML.
import { SwitchboardSocket } from '/client/switchboard-client.js';
import { appendLine, setStatus, showSocketState, socketUrl } from './page-socket.js';

const root = document.getElementById('game');
const room = root.dataset.room;
const youLine = document.getElementById('game-you');
const turnLine = document.getElementById('game-turn');
const statusLine = document.getElementById('game-status');
const tbody = document.querySelector('#game-players tbody');
const board = document.getElementById('game-board');
const playersEmpty = document.getElementById('game-players-empty');
const dieFace = document.getElementById('game-die');
const TOKEN_COLORS = ['#4f46e5', '#db2777', '#0891b2', '#ca8a04', '#16a34a', '#9333ea', '#ea580c', '#475569'];
const log = document.getElementById('game-log');
const buttons = {
  join: document.getElementById('game-join'),
  roll: document.getElementById('game-roll'),
  new_game: document.getElementById('game-new'),
  leave: document.getElementById('game-leave'),
};
let you = null;
let state = null;

function cell(text) {
  var td = document.createElement('td');
  td.textContent = text;
  return td;
}

// The board: a start square (0) and squares 1..boardSize, each with the tokens of the players on it.
// Cells are rebuilt only when the size changes; tokens on every render.
function renderBoard() {
  var size = state.boardSize;
  if (board.childElementCount !== size + 1) {
    while (board.firstChild) board.removeChild(board.firstChild);
    for (var square = 0; square <= size; square++) {
      var li = document.createElement('li');
      li.dataset.square = String(square);
      li.className = square === 0 ? 'start' : square === size ? 'goal' : '';
      var label = document.createElement('span');
      label.textContent = square === 0 ? 'start' : square === size ? size + ' ★' : String(square);
      var tokens = document.createElement('span');
      tokens.className = 'tokens';
      li.appendChild(label);
      li.appendChild(tokens);
      board.appendChild(li);
    }
  }
  var cells = board.children;
  for (var i = 0; i < cells.length; i++) {
    var t = cells[i].querySelector('.tokens');
    while (t.firstChild) t.removeChild(t.firstChild);
    cells[i].classList.toggle('last-roll', !!(state.lastTo !== undefined && state.lastTo === i));
  }
  state.players.forEach(function (p, index) {
    var cell = cells[Math.min(p.position, size)];
    if (!cell) return;
    var token = document.createElement('span');
    token.className = 'token' + (you && p.id === you.id ? ' you' : '');
    token.style.background = TOKEN_COLORS[index % TOKEN_COLORS.length];
    token.textContent = (p.name.replace(/^guest-/, '')[0] || '?').toUpperCase();
    token.title = p.name + ' on square ' + p.position;
    cell.querySelector('.tokens').appendChild(token);
  });
}

function isPlayer() {
  return !!(state && you && state.players.some(function (p) { return p.id === you.id; }));
}

function render() {
  var open = socket.state === 'open';
  var playing = isPlayer();
  buttons.join.disabled = !open || playing;
  buttons.leave.disabled = !open || !playing;
  buttons.roll.disabled = !open || !playing || !state || state.turn !== you.id;
  buttons.new_game.disabled = !open || !playing || !state || state.status !== 'over';
  if (!state) return;
  root.dataset.status = state.status;
  root.dataset.gameStatus = String(state.gameStatus);
  renderBoard();
  playersEmpty.hidden = state.players.length > 0;
  tbody.parentNode.hidden = state.players.length === 0;
  dieFace.textContent = state.position ? String(state.position) : '';
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
    var lastTo = state ? state.lastTo : undefined;
    state = data;
    if (data.position && lastTo !== undefined) state.lastTo = lastTo;
  } else if (data.type === 'error') {
    setStatus(statusLine, data.message, true);
    return;
  } else if (data.greeting) {
    // The seed's greeting, 游戏开始 ("game start"), with how the room stands.
    appendLine(log, data.message + ' (game start): ' + data.text);
  } else if (typeof data.message === 'string') {
    appendLine(log, data.message);
    if (state && typeof data.to === 'number') state.lastTo = data.to;
  }
  render();
}

// Each (re)connection starts with a hello and the room's current state.
const socket = new SwitchboardSocket(socketUrl('/ws/game/' + encodeURIComponent(room) + '/'));
showSocketState(socket, { root: root, status: statusLine, openText: function () { return 'connected to room ' + room; }, onChange: render });
socket.on('message', function (data) {
  if (data && typeof data === 'object') onFrame(data);
});

Object.keys(buttons).forEach(function (action) {
  buttons[action].addEventListener('click', function () {
    // Not queued while disconnected: a roll is only meant for the game as it is now.
    if (socket.state !== 'open') return;
    setStatus(statusLine, 'connected to room ' + room, false);
    socket.sendJson({ action: action });
  });
});

