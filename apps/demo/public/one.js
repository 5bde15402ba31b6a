// Random word page (SEEDS.md system 1): an ES module on the framework's browser client.
// As the seed's page: each {"message": "<word>"} from ws/any_url/ replaces the text of <p id="one">.
// Each connection gets a stream of its own (data-total words, one every data-every), so after a
// reconnect (a server restart) the count starts again. Text goes in with textContent, never as HTML.
import { SwitchboardSocket } from '/client/switchboard-client.js';
import { setStatus, showSocketState, socketUrl } from './page-socket.js';

const stream = document.getElementById('one-stream');
const target = document.getElementById('one');
const statusLine = document.getElementById('one-status');
let received = 0;

const socket = new SwitchboardSocket(socketUrl('/ws/any_url/'));
showSocketState(socket, { root: stream, status: statusLine, openText: () => 'connected: a new word every ' + stream.dataset.every });
socket.on('open', () => {
  received = 0;
});
socket.on('message', (data) => {
  if (data && typeof data.message === 'string') {
    received += 1;
    target.textContent = data.message;
    target.classList.remove('waiting');
    target.dataset.count = String(received);
    setStatus(statusLine, 'word ' + received + ' of ' + stream.dataset.total, false);
  }
});
