// Random word page (SEEDS.md system 1): plain browser JavaScript, no build step.
// As the seed's page: each {"message": "<word>"} from ws/any_url/ replaces the text of <p id="one">.
// Text goes in with textContent, never as HTML.
'use strict';

(function () {
  var target = document.getElementById('one');
  var statusLine = document.getElementById('one-status');
  var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  var socket = new WebSocket(scheme + location.host + '/ws/any_url/');
  var received = 0;

  function setStatus(text, bad) {
    statusLine.textContent = text;
    statusLine.className = bad ? 'status bad' : 'status';
  }

  socket.onopen = function () {
    setStatus('connected: a new word every 2 seconds', false);
  };

  socket.onmessage = function (event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (err) {
      setStatus('unreadable message from the server', true);
      return;
    }
    if (data && typeof data.message === 'string') {
      received += 1;
      target.textContent = data.message;
      target.dataset.count = String(received);
      setStatus('word ' + received + ' of 100', false);
    }
  };

  socket.onclose = function (event) {
    setStatus('disconnected (close code ' + event.code + '); reload the page for a new stream', event.code !== 1000);
  };
})();
