// IoT live chart page (SEEDS.md system 2): an ES module on the framework's browser client, one
// SwitchboardSocket per line. Chart.js (with the date-fns adapter for the time axis) is served by
// the app from node_modules and loaded (deferred) before this module runs.
//
// Lines:
// - "simulated": the seed's ws/two_url/, {"data": <0..100>} every 2 s, drawn at arrival time.
// - one per sensor named in data-sensors: ws/iot/<sensor>/ sends {type: "history", readings: [...]}
//   first (the recent readings, oldest first), then {type: "reading", seq, value, ts} per reading.
// Each line keeps at most data-window points (the oldest drop off). Readings are deduplicated by
// seq, so a reconnect (which sends the history again) never draws a point twice. After a server
// restart the simulated line starts a new stream of 100 values.
// Text goes in with textContent, never as HTML.
import { SwitchboardSocket } from '/client/switchboard-client.js';
import { socketUrl } from './page-socket.js';

const root = document.getElementById('iot');
const box = document.getElementById('iot-chart-box');
const canvas = document.getElementById('iot-chart');
const statusLine = document.getElementById('iot-status');
const hints = document.getElementById('iot-hints');
const ingestionOff = root.dataset.ingestion === 'off';
const sensors = (root.dataset.sensors || '').split(',').filter(function (s) { return /^[A-Za-z0-9_-]{1,64}$/.test(s); });
const windowPoints = parseInt(root.dataset.window, 10) || 200;
const COLORS = ['#888888', '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#e377c2', '#8c564b'];

if (typeof window.Chart !== 'function') {
  statusLine.textContent = 'Chart.js did not load';
  statusLine.className = 'status bad';
  throw new Error('two.js: Chart.js did not load');
}

// Chart.js sizes the canvas from its container (CSSOM styles are allowed by the page's CSP).
box.style.position = 'relative';
box.style.height = '400px';
box.style.width = '100%';

const lines = {}; // key -> {dataset, seen: {seq: true}, state}
const chart = new window.Chart(canvas, {
  type: 'line',
  data: { datasets: [] },
  options: {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    normalized: true,
    interaction: { mode: 'nearest', intersect: false },
    scales: {
      x: {
        type: 'time',
        time: { minUnit: 'second', tooltipFormat: 'HH:mm:ss.SSS', displayFormats: { second: 'HH:mm:ss', minute: 'HH:mm', hour: 'HH:mm' } },
        ticks: { maxTicksLimit: 8, maxRotation: 0 },
        title: { display: true, text: 'time' },
      },
      y: { title: { display: true, text: 'value' } },
    },
  },
});

function addLine(key, label) {
  var color = COLORS[Object.keys(lines).length % COLORS.length];
  var dataset = { label: label, data: [], borderColor: color, backgroundColor: color, pointRadius: 2, borderWidth: 1.5, tension: 0.2 };
  chart.data.datasets.push(dataset);
  lines[key] = { dataset: dataset, seen: {}, state: 'connecting' };
  return lines[key];
}

// One chart update per animation frame, however many readings arrive.
let updateScheduled = false;
function scheduleUpdate() {
  if (updateScheduled) return;
  updateScheduled = true;
  requestAnimationFrame(function () {
    updateScheduled = false;
    chart.update('none');
    root.dataset.points = String(chart.data.datasets.reduce(function (n, d) { return n + d.data.length; }, 0));
    showHints();
  });
}

// Inserts a point in time order (readings may carry their own, earlier, timestamps) and drops
// the oldest beyond the window.
function addPoint(line, x, y, seq) {
  if (seq !== undefined) {
    if (line.seen[seq]) return;
    line.seen[seq] = true;
    if (line.maxSeq === undefined || seq > line.maxSeq) line.maxSeq = seq;
  }
  var data = line.dataset.data;
  var point = { x: x, y: y, seq: seq };
  var i = data.length;
  while (i > 0 && data[i - 1].x > x) i--;
  data.splice(i, 0, point);
  while (data.length > windowPoints) {
    var old = data.shift();
    if (old.seq !== undefined) delete line.seen[old.seq];
  }
}

function setStatus() {
  var parts = Object.keys(lines).map(function (key) { return lines[key].dataset.label + ': ' + lines[key].state; });
  statusLine.textContent = parts.join(' · ');
  var bad = Object.keys(lines).some(function (key) { return lines[key].state.indexOf('disconnected') === 0; });
  var live = Object.keys(lines).every(function (key) { return lines[key].state === 'live'; });
  statusLine.className = bad ? 'status bad' : live ? 'status live' : 'status';
}

// Under the chart: a line per sensor that has no readings yet, saying how to send some.
function showHints() {
  while (hints.firstChild) hints.removeChild(hints.firstChild);
  Object.keys(lines).forEach(function (key) {
    var line = lines[key];
    if (key === 'simulated' || line.state !== 'live' || line.dataset.data.length > 0) return;
    var p = document.createElement('p');
    p.dataset.sensor = line.dataset.label;
    p.className = 'iot-hint';
    p.textContent = ingestionOff
      ? 'No readings from ' + line.dataset.label + ': ingestion is off on this server (IOT_API_KEY is not set).'
      : 'No readings from ' + line.dataset.label + ' yet: post one to /api/iot/' + line.dataset.label + '/readings (see "Feed a sensor" below), and it appears here at once.';
    hints.appendChild(p);
  });
}

// One socket per line; the line's state shows in the status line: connecting, live, the close
// code while the SDK reconnects, "ended" (1000) or the final close code.
function watch(line, path, onData) {
  const socket = new SwitchboardSocket(socketUrl(path));
  line.state = 'connecting';
  socket.on('open', () => {
    line.state = 'live';
    setStatus();
    showHints();
  });
  socket.on('close', (close) => {
    if (close.willReconnect) line.state = 'disconnected (' + close.code + '), reconnecting';
    else line.state = close.code === 1000 ? 'ended' : 'disconnected (' + close.code + ')';
    setStatus();
  });
  socket.on('message', (data) => {
    if (data && typeof data === 'object') onData(data);
  });
}

// The seed's simulated sensor: 100 values, then the stream ends.
const simulated = addLine('simulated', 'simulated');
watch(simulated, '/ws/two_url/', function (data) {
  if (typeof data.data !== 'number') return;
  addPoint(simulated, Date.now(), data.data);
  scheduleUpdate();
});

sensors.forEach(function (sensor) {
  var line = addLine('sensor:' + sensor, sensor);
  watch(line, '/ws/iot/' + encodeURIComponent(sensor) + '/', function (data) {
    if (data.type === 'history' && Array.isArray(data.readings)) {
      // A history that ends before what we drew means the server forgot (a restart of an
      // in-memory store) and numbers readings from 1 again: start the line over.
      var last = data.readings.length ? data.readings[data.readings.length - 1].seq : 0;
      if (line.maxSeq !== undefined && !(last >= line.maxSeq)) {
        line.dataset.data.length = 0;
        line.seen = {};
        line.maxSeq = undefined;
      }
      data.readings.forEach(function (r) {
        var t = Date.parse(r.ts);
        if (typeof r.value === 'number' && !isNaN(t)) addPoint(line, t, r.value, r.seq);
      });
      scheduleUpdate();
    } else if (data.type === 'reading' && typeof data.value === 'number') {
      var t = Date.parse(data.ts);
      if (!isNaN(t)) {
        addPoint(line, t, data.value, data.seq);
        scheduleUpdate();
      }
    }
  });
});

chart.update('none');
setStatus();
