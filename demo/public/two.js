// IoT live chart page (SEEDS.md system 2): plain browser JavaScript, no build step.
// Chart.js (with the date-fns adapter for the time axis) is served by the app from node_modules.
//
// Lines:
// - "simulated": the seed's ws/two_url/, {"data": <0..100>} every 2 s, drawn at arrival time.
// - one per sensor named in data-sensors: ws/iot/<sensor>/ sends {type: "history", readings: [...]}
//   first (the recent readings, oldest first), then {type: "reading", seq, value, ts} per reading.
// Each line keeps at most data-window points (the oldest drop off). Readings are deduplicated by
// seq, so a reconnect (which sends the history again) never draws a point twice.
// Text goes in with textContent, never as HTML.
'use strict';

(function () {
  var root = document.getElementById('iot');
  var box = document.getElementById('iot-chart-box');
  var canvas = document.getElementById('iot-chart');
  var statusLine = document.getElementById('iot-status');
  var sensors = (root.dataset.sensors || '').split(',').filter(function (s) { return /^[A-Za-z0-9_-]{1,64}$/.test(s); });
  var windowPoints = parseInt(root.dataset.window, 10) || 200;
  var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  var COLORS = ['#888888', '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#e377c2', '#8c564b'];
  // Reconnecting helps after these close codes (shutdown, restart, overload, no close frame);
  // the others are final. Same split as src/close-codes.ts.
  var RETRY_CODES = [1001, 1006, 1011, 1012, 1013];
  var MAX_DELAY_MS = 30000;

  if (typeof window.Chart !== 'function') {
    statusLine.textContent = 'Chart.js did not load';
    statusLine.className = 'status bad';
    return;
  }

  // Chart.js sizes the canvas from its container (CSSOM styles are allowed by the page's CSP).
  box.style.position = 'relative';
  box.style.height = '400px';
  box.style.width = '100%';

  var lines = {}; // key -> {dataset, seen: {seq: true}, state}
  var chart = new window.Chart(canvas, {
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
  var updateScheduled = false;
  function scheduleUpdate() {
    if (updateScheduled) return;
    updateScheduled = true;
    requestAnimationFrame(function () {
      updateScheduled = false;
      chart.update('none');
      root.dataset.points = String(chart.data.datasets.reduce(function (n, d) { return n + d.data.length; }, 0));
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
    statusLine.className = bad ? 'status bad' : 'status';
  }

  function watch(line, path, onData, retry) {
    var attempt = 0;
    function connect() {
      var socket = new WebSocket(scheme + location.host + path);
      line.state = 'connecting';
      setStatus();
      socket.onopen = function () {
        attempt = 0;
        line.state = 'live';
        setStatus();
      };
      socket.onmessage = function (event) {
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (err) {
          return;
        }
        if (data && typeof data === 'object') onData(data);
      };
      socket.onclose = function (event) {
        if (retry && RETRY_CODES.indexOf(event.code) !== -1) {
          var delay = Math.random() * Math.min(MAX_DELAY_MS, 500 * Math.pow(2, attempt));
          attempt += 1;
          line.state = 'disconnected (' + event.code + '), retrying in ' + Math.ceil(delay / 1000) + ' s';
          setStatus();
          setTimeout(connect, delay);
        } else {
          line.state = event.code === 1000 ? 'ended' : 'disconnected (' + event.code + ')';
          setStatus();
        }
      };
    }
    connect();
  }

  // The seed's simulated sensor: 100 values, then the stream ends.
  var simulated = addLine('simulated', 'simulated');
  watch(simulated, '/ws/two_url/', function (data) {
    if (typeof data.data !== 'number') return;
    addPoint(simulated, Date.now(), data.data);
    scheduleUpdate();
  }, false);

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
    }, true);
  });

  chart.update('none');
  setStatus();
})();
