// The playground page: the controls send settings and commands to the server, which trains
// this page's own session with pluggrad and streams back losses and maps (Server-Sent Events).
// The page keeps no training state of its own: it draws what the stream last said, and
// every control shows the settings the server confirmed.
"use strict";

const ORANGE = [245, 147, 34];   // label 0, as in TensorFlow Playground
const MIDDLE = [232, 234, 235];
const BLUE = [8, 119, 189];      // label 1
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const NEW_LAYER_WIDTH = 2;
const NEURON_SIZE = 40;

const page = {
  options: null,      // GET /api/options: choices, defaults, limits, backends, previews
  sessionId: null,
  source: null,       // the EventSource of the session's updates
  settings: null,     // the settings the server last confirmed
  scene: null,        // points and input maps of the current network
  history: {train: [], test: []},
  output: null,       // the last output map: one byte per grid cell
  neurons: [],        // the last hidden units' maps
  playing: false,
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- talking to the server

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    throw new Error(answer.error || `${method} ${path}: HTTP ${response.status}`);
  }
  return answer;
}

function showStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function openSession(settings) {
  const created = await api("POST", "/api/sessions", settings);
  page.sessionId = created.id;
  page.source = new EventSource(`/api/sessions/${created.id}/events`);
  page.source.addEventListener("update", (event) => render(JSON.parse(event.data)));
  page.source.onerror = () => {
    if (page.source.readyState === EventSource.CLOSED) {
      reopen();
    }
  };
}

// The server ended the session (idle too long, or restarted): start a new one with the
// settings the page showed.
async function reopen() {
  page.source.close();
  showStatus("The session ended; starting a new one with the same settings…");
  try {
    await openSession(page.settings);
    showStatus("");
  } catch (error) {
    showStatus(error.message, true);
  }
}

async function change(settings) {
  try {
    await api("POST", `/api/sessions/${page.sessionId}/settings`, settings);
    showStatus("");
  } catch (error) {
    showStatus(error.message, true);
    syncControls();
  }
}

// The play button follows the stream, not the answer: once it shows "paused", the page has
// drawn the last update.
async function command(name) {
  try {
    await api("POST", `/api/sessions/${page.sessionId}/${name}`);
    showStatus("");
  } catch (error) {
    showStatus(error.message, true);
  }
}

// ---------------------------------------------------------------- building the controls

function fillSelect(select, values, label = String) {
  select.replaceChildren(...values.map((value) => {
    const option = document.createElement("option");
    option.value = String(value);
    option.textContent = label(value);
    return option;
  }));
}

function buildControls() {
  const options = page.options;
  fillSelect($("activation"), options.activations);
  fillSelect($("optimizer"), options.optimizers);
  fillSelect($("init"), options.initialisations);
  fillSelect($("lr"), LEARNING_RATES);

  const backendSelect = $("backend");
  const notes = [];
  fillSelect(backendSelect, Object.keys(options.backends), (name) => {
    const state = options.backends[name];
    return state === true ? name : `${name} (unavailable)`;
  });
  for (const option of backendSelect.options) {
    const state = options.backends[option.value];
    option.disabled = state !== true;
    option.title = state === true ? "available" : state;
    notes.push(state === true ? `${option.value}: available` : `${option.value}: ${state}`);
  }
  $("backend-note").textContent = notes.join("; ");

  for (const name of options.datasets) {
    const button = document.createElement("button");
    button.className = "dataset";
    button.dataset.dataset = name;
    button.title = name;
    button.setAttribute("aria-label", `${name} data set`);
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 60;
    drawPreview(canvas, options.previews[name]);
    button.append(canvas);
    button.addEventListener("click", () => change({dataset: name}));
    $("datasets").append(button);
  }

  for (const name of options.features) {
    const row = document.createElement("label");
    row.className = "feature";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.dataset.feature = name;
    box.addEventListener("change", () => {
      const chosen = options.features.filter(
        (feature) => document.querySelector(`input[data-feature="${feature}"]`).checked);
      change({features: chosen});
    });
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = NEURON_SIZE;
    canvas.dataset.featureMap = name;
    const text = document.createElement("span");
    text.textContent = name;
    row.append(box, canvas, text);
    $("features").append(row);
  }

  const sliders = [
    ["test-ratio", (value) => ({test_ratio: value / 100})],
    ["noise", (value) => ({noise: value / 100})],
    ["batch-size", (value) => ({batch_size: value})],
  ];
  for (const [id, settingsOf] of sliders) {
    $(id).addEventListener("input", () => { $(`${id}-value`).textContent = $(id).value; });
    $(id).addEventListener("change", () => change(settingsOf(Number($(id).value))));
  }
  for (const id of ["activation", "optimizer", "init", "backend"]) {
    $(id).addEventListener("change", () => change({[id]: $(id).value}));
  }
  $("lr").addEventListener("change", () => change({lr: Number($("lr").value)}));

  $("add-layer").addEventListener("click", () => {
    if (page.settings.hidden.length < options.limits.max_layers) {
      change({hidden: [...page.settings.hidden, NEW_LAYER_WIDTH]});
    }
  });
  $("remove-layer").addEventListener("click", () => {
    if (page.settings.hidden.length > 0) {
      change({hidden: page.settings.hidden.slice(0, -1)});
    }
  });

  $("play").addEventListener("click", () => command(page.playing ? "pause" : "play"));
  $("step").addEventListener("click", () => command("step"));
  $("reset").addEventListener("click", () => command("reset"));
  $("regenerate").addEventListener("click", () => command("regenerate"));
  $("show-test").addEventListener("change", drawPoints);
  $("discretize").addEventListener("change", drawOutput);
}

// Show the settings the server confirmed on every control.
function syncControls() {
  const settings = page.settings;
  for (const button of document.querySelectorAll("button.dataset")) {
    button.classList.toggle("selected", button.dataset.dataset === settings.dataset);
  }
  for (const box of document.querySelectorAll("input[data-feature]")) {
    box.checked = settings.features.includes(box.dataset.feature);
  }
  const sliderValues = {
    "test-ratio": Math.round(settings.test_ratio * 100),
    "noise": Math.round(settings.noise * 100),
    "batch-size": settings.batch_size,
  };
  for (const [id, value] of Object.entries(sliderValues)) {
    $(id).value = value;
    $(`${id}-value`).textContent = value;
  }
  if (!LEARNING_RATES.includes(settings.lr)) {
    fillSelect($("lr"), [...LEARNING_RATES, settings.lr].sort((a, b) => a - b));
  }
  $("lr").value = String(settings.lr);
  for (const id of ["activation", "optimizer", "init", "backend"]) {
    $(id).value = settings[id];
  }
  $("layer-count").textContent = settings.hidden.length;
  buildLayers();
}

function buildLayers() {
  const hidden = page.settings.hidden;
  const limits = page.options.limits;
  const columns = hidden.map((width, index) => {
    const column = document.createElement("div");
    column.className = "layer";
    const controls = document.createElement("div");
    controls.className = "neuron-controls";
    const more = document.createElement("button");
    more.className = "round small";
    more.textContent = "+";
    more.setAttribute("aria-label", `Add a neuron to layer ${index + 1}`);
    more.addEventListener("click",
                          () => resizeLayer(index, Math.min(width + 1, limits.max_neurons)));
    const fewer = document.createElement("button");
    fewer.className = "round small";
    fewer.textContent = "\u2212";
    fewer.setAttribute("aria-label", `Remove a neuron from layer ${index + 1}`);
    fewer.addEventListener("click", () => resizeLayer(index, Math.max(width - 1, 1)));
    const count = document.createElement("div");
    count.className = "neuron-count";
    count.textContent = `${width} neuron${width === 1 ? "" : "s"}`;
    controls.append(more, fewer);
    column.append(controls, count);
    for (let unit = 0; unit < width; unit++) {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = NEURON_SIZE;
      canvas.className = "neuron";
      canvas.title = `layer ${index + 1}, neuron ${unit + 1}`;
      column.append(canvas);
    }
    return column;
  });
  $("layers").replaceChildren(...columns);
}

function resizeLayer(index, width) {
  const hidden = [...page.settings.hidden];
  if (hidden[index] !== width) {
    hidden[index] = width;
    change({hidden});
  }
}

// ---------------------------------------------------------------- the stream's updates

function render(message) {
  if (message.scene) {
    page.scene = message.scene;
    page.settings = message.scene.settings;
    syncControls();
    drawFeatureMaps();
    drawPoints();
  }
  const history = page.history;
  const start = message.history.start;
  history.train.length = Math.min(history.train.length, start);
  history.test.length = Math.min(history.test.length, start);
  history.train.push(...message.history.train);
  history.test.push(...message.history.test);

  $("epoch").textContent = formatEpoch(message.epoch);
  $("train-loss").textContent = formatLoss(history.train.at(-1));
  $("test-loss").textContent = formatLoss(history.test.at(-1));
  $("test-accuracy").textContent = message.test_accuracy === null ? "\u2013"
    : `${(100 * message.test_accuracy).toFixed(1)}%`;
  showPlaying(message.playing);
  if (message.notice) {
    showStatus(message.notice);
  }
  page.output = decode(message.output);
  page.neurons = message.neurons.map((layer) => layer.map(decode));
  drawOutput();
  drawNeurons();
  drawLossChart();
}

function showPlaying(playing) {
  page.playing = playing;
  const button = $("play");
  button.dataset.playing = String(playing);
  button.innerHTML = playing ? "&#x275A;&#x275A;" : "&#x25B6;";
  button.setAttribute("aria-label", playing ? "Pause" : "Play");
}

function formatEpoch(epoch) {
  const digits = String(epoch).padStart(6, "0");
  return `${digits.slice(0, -3)},${digits.slice(-3)}`;
}

function formatLoss(loss) {
  if (loss === undefined) return "\u2013";
  return loss === null ? "diverged" : loss.toFixed(3);
}

function decode(text) {
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}

// ---------------------------------------------------------------- drawing

// The colour of a level from 0 (orange) through the middle grey to 255 (blue).
function colour(level) {
  const t = level / 255;
  const [from, to, s] = t < 0.5 ? [ORANGE, MIDDLE, t * 2] : [MIDDLE, BLUE, t * 2 - 1];
  return from.map((channel, i) => Math.round(channel + (to[i] - channel) * s));
}

// Draw a square map of levels (row 0 at the bottom, as x2 grows upwards) onto a canvas.
function drawMap(canvas, levels, discretize = false) {
  const side = Math.round(Math.sqrt(levels.length));
  const image = new ImageData(side, side);
  for (let row = 0; row < side; row++) {
    for (let column = 0; column < side; column++) {
      let level = levels[row * side + column];
      if (discretize) level = level >= 128 ? 255 : 0;
      const [r, g, b] = colour(level);
      const at = ((side - 1 - row) * side + column) * 4;
      image.data.set([r, g, b, 255], at);
    }
  }
  const small = document.createElement("canvas");
  small.width = small.height = side;
  small.getContext("2d").putImageData(image, 0, 0);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = !discretize;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
}

function drawOutput() {
  if (page.output) drawMap($("heatmap"), page.output, $("discretize").checked);
}

function drawNeurons() {
  const columns = $("layers").querySelectorAll(".layer");
  page.neurons.forEach((layer, index) => {
    const canvases = columns[index] ? columns[index].querySelectorAll("canvas.neuron") : [];
    layer.forEach((levels, unit) => { if (canvases[unit]) drawMap(canvases[unit], levels); });
  });
}

function drawFeatureMaps() {
  const chosen = page.settings.features;
  for (const canvas of document.querySelectorAll("canvas[data-feature-map]")) {
    const index = chosen.indexOf(canvas.dataset.featureMap);
    const context = canvas.getContext("2d");
    if (index < 0) {
      context.fillStyle = "#f4f4f4";
      context.fillRect(0, 0, canvas.width, canvas.height);
    } else {
      drawMap(canvas, decode(page.scene.features[index]));
    }
  }
}

function drawPoints() {
  const canvas = $("points");
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!page.scene) return;
  const extent = page.scene.extent;
  const sets = [[page.scene.points.train, "white"]];
  if ($("show-test").checked) sets.push([page.scene.points.test, "black"]);
  for (const [points, edge] of sets) {
    for (const [x1, x2, label] of points) {
      context.beginPath();
      context.arc((x1 + extent) / (2 * extent) * canvas.width,
                  (extent - x2) / (2 * extent) * canvas.height, 3, 0, 2 * Math.PI);
      context.fillStyle = `rgb(${(label ? BLUE : ORANGE).join(",")})`;
      context.fill();
      context.strokeStyle = edge;
      context.lineWidth = 1;
      context.stroke();
    }
  }
}

function drawPreview(canvas, points) {
  const context = canvas.getContext("2d");
  context.fillStyle = `rgb(${MIDDLE.join(",")})`;
  context.fillRect(0, 0, canvas.width, canvas.height);
  const extent = page.options.extent;
  for (const [x1, x2, label] of points) {
    context.fillStyle = `rgb(${(label ? BLUE : ORANGE).join(",")})`;
    context.fillRect((x1 + extent) / (2 * extent) * canvas.width - 1,
                     (extent - x2) / (2 * extent) * canvas.height - 1, 2, 2);
  }
}

function drawLossChart() {
  const canvas = $("loss-chart");
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  const {train, test} = page.history;
  const finite = [...train, ...test].filter((loss) => loss !== null);
  if (train.length < 2 || finite.length === 0) return;
  const top = Math.max(...finite) || 1;
  for (const [losses, stroke] of [[train, "#999999"], [test, "#000000"]]) {
    context.beginPath();
    losses.forEach((loss, epoch) => {
      const x = epoch / (losses.length - 1) * canvas.width;
      const y = canvas.height - (loss === null ? top : loss) / top * (canvas.height - 2) - 1;
      if (epoch === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.strokeStyle = stroke;
    context.lineWidth = 1.5;
    context.stroke();
  }
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    page.options = await api("GET", "/api/options");
    buildControls();
    await openSession(page.options.defaults);
  } catch (error) {
    showStatus(error.message, true);
  }
}

window.addEventListener("pagehide", () => {
  if (page.sessionId) {
    fetch(`/api/sessions/${page.sessionId}`, {method: "DELETE", keepalive: true});
  }
});

start();
