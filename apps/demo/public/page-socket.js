// What the demo's page scripts share (ES module): the WebSocket URL of a path on this site, and
// how a page shows the state of its SwitchboardSocket (the framework's browser client, imported
// by each page from /client/switchboard-client.js). Reconnecting, backoff and the close-code
// policy are the SDK's; this file only shows them. Text goes in with textContent, never as HTML.

/** `ws://<this host><path>`, `wss://` on an https page. */
export function socketUrl(path) {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
}

/** Sets the status line; `bad` styles it as a problem. */
export function setStatus(line, text, bad) {
  line.textContent = text;
  line.className = bad ? 'status bad' : 'status';
}

/** Appends a line to a read-only textarea log (as text) and scrolls to it. */
export function appendLine(log, line) {
  log.value += line + '\n';
  log.scrollTop = log.scrollHeight;
}

/** "disconnected (close code 4401, members only: …)" for the SDK's close event. */
export function closeText(close) {
  return 'disconnected (close code ' + close.code + (close.reason ? ', ' + close.reason : '') + ')';
}

/**
 * Shows `socket`'s state on the page:
 * - `root.dataset.state` is the SDK's state: connecting, open, reconnecting or closed;
 *   `root.dataset.closeCode` the last close code;
 * - the status line says "connecting…", then `openText()` once open; after a close, that the SDK
 *   is reconnecting, or, after a final close code (4400, 4401, 4403, …), `finalText(close)` when
 *   it returns text, else "… reload the page to reconnect";
 * - `onChange(state)`, when given, runs after each change (pages enable their buttons there).
 */
export function showSocketState(socket, { root, status, openText, finalText, onChange }) {
  function show(state) {
    root.dataset.state = state;
    if (state === 'connecting') setStatus(status, 'connecting…', false);
    else if (state === 'open') setStatus(status, openText(), false);
    if (onChange) onChange(state);
  }
  // The SDK emits `close` before it moves to reconnecting or closed.
  socket.on('close', function (close) {
    root.dataset.closeCode = String(close.code);
    if (close.willReconnect) setStatus(status, closeText(close) + '; reconnecting…', true);
    else setStatus(status, (finalText && finalText(close)) || closeText(close) + '; reload the page to reconnect', true);
  });
  socket.on('state', show);
  show(socket.state);
}
