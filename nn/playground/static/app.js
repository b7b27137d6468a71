// The playground page: the controls send settings and commands to the server, which trains
// this page's own session with pluggrad and streams back losses, maps and weights
// (Server-Sent Events). The page keeps no training state of its own: it draws what the
// stream last said, and every control shows the settings the server confirmed.
//
// A page always gets back to a session by itself: when the server is full it says so and
// tries again, and when its session ends (deleted, idle, server restarted) it starts a new
// one with the same settings. The settings live in the address (#dataset=xor&lr=0.03...),
// so a link reproduces a run.
"use strict";

const ORANGE = [245, 147, 34];   // label 0 (or target -1), as in TensorFlow Playground
const MIDDLE = [232, 234, 235];
const BLUE = [8, 119, 189];      // label 1 (or target 1)
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REGULARIZATION_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const NEW_LAYER_WIDTH = 2;
const NEURON_SIZE = 40;
const TICKS = [-6, -4, -2, 0, 2, 4, 6];
const RETRY_FIRST_MS = 1000;
const RETRY_LONGEST_MS = 8000;
const SVG = "http://www.w3.org/2000/svg";

const page = {
  options: null,      // GET /api/options: choices, defaults, limits, backends, previews, schema
  sessionId: null,    // null while the page has no session
  source: null,       // the EventSource of the session's updates
  wanted: null,       // the settings a new session starts from
  recovering: null,   // the promise of the session being (re)created, if it is
  settings: null,     // the settings the server last confirmed
  scene: null,        // points and input maps of the current network
  history: {train: [], test: []},
  output: null,       // the last output map: one byte per grid cell
  neurons: [],        // the last hidden units' maps
  weights: [],        // the last weights: per layer, [out][in]
  hovered: null,      // the map shown large instead of the output: {caption, levels}
  playing: false,
};

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- talking to the server

class ApiError extends Error {
  constructor(message, status, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    throw new ApiError(answer.error || `${method} ${path}: HTTP ${response.status}`,
                       response.status, answer.field);
  }
  return answer;
}

function showStatus(text, kind = "") {
  const status = $("status");
  status.textContent = text;
  status.className = kind;
}

async function openSession(settings) {
  const created = await api("POST", "/api/sessions", settings);
  page.sessionId = created.id;
  const source = new EventSource(`/api/sessions/${created.id}/events`);
  page.source = source;
  source.addEventListener("update", (event) => render(JSON.parse(event.data)));
  source.addEventListener("ended", (event) => {
    recover(`The session ended (${JSON.parse(event.data).reason}).`);
  });
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED && page.source === source) {
      recover("The connection to the session was lost.");
    }
  };
}

function dropSession() {
  if (page.source) page.source.close();
  page.source = null;
  page.sessionId = null;
}

// Get a session back, whatever took it: say why, start a new one with the settings the
// page showed, and while the server is full (or out of reach) keep trying, saying so.
function recover(why) {
  if (!page.recovering) {
    dropSession();
    page.recovering = keepTrying(why).finally(() => { page.recovering = null; });
  }
  return page.recovering;
}

async function keepTrying(why) {
  let wait = RETRY_FIRST_MS;
  let refused = "";
  for (;;) {
    showStatus(why ? `${why} Starting a new session with the same settings…`
                   : "Starting a session…", "waiting");
    try {
      await openSession(page.wanted);
      showStatus(refused, refused ? "error" : "");
      return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && !refused) {
        refused = `These settings were refused (${error.message}); the page starts from ` +
                  "the defaults instead.";
        page.wanted = page.options.defaults;
        continue;
      }
      const reason = error instanceof ApiError ? error.message
        : `the server cannot be reached (${error.message})`;
      why = `Waiting for a session: ${reason}.`;
      showStatus(`${why} Trying again in ${Math.round(wait / 1000)} s…`, "waiting");
      await sleep(wait);
      wait = Math.min(wait * 2, RETRY_LONGEST_MS);
    }
  }
}

// Send `request` for the session; when the session has ended, get a new one and send it
// again, once.
async function withSession(request) {
  for (let attempt = 0; ; attempt++) {
    if (!page.sessionId) {
      await recover("The page has no session yet.");
    }
    try {
      await request(page.sessionId);
      showStatus("");
      return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && attempt === 0) {
        await recover("The session had ended.");
        continue;
      }
      showStatus(error.message, "error");
      syncControls();
      return;
    }
  }
}

function change(settings) {
  page.wanted = {...page.wanted, ...settings};
  return withSession((id) => api("POST", `/api/sessions/${id}/settings`, settings));
}

// The play button follows the stream, not the answer: once it shows "paused", the page has
// drawn the last update.
function command(name) {
  return withSession((id) => api("POST", `/api/sessions/${id}/${name}`));
}

// ---------------------------------------------------------------- settings in the address

function settingsToHash(settings) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(settings)) {
    params.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  return `#${params}`;
}

// The settings a link carries, typed by the settings' schema: lists are comma-separated,
// numbers are numbers. Anything else goes to the server as it is, to be refused there.
function settingsFromHash(hash) {
  const properties = page.options.schema.properties;
  const settings = {};
  for (const [name, text] of new URLSearchParams(hash.replace(/^#/, ""))) {
    const schema = properties[name] || {};
    const typed = (value, type) => (type === "integer" || type === "number" ? Number(value)
                                                                            : value);
    if (schema.type === "array") {
      settings[name] = text === "" ? []
        : text.split(",").map((item) => typed(item, schema.items.type));
    } else {
      settings[name] = typed(text, schema.type);
    }
  }
  return settings;
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
  fillSelect($("regularization"), options.regularizations);
  fillSelect($("problem"), Object.keys(options.problems),
             (name) => name[0].toUpperCase() + name.slice(1));
  fillSelect($("lr"), LEARNING_RATES);
  fillSelect($("regularization-rate"), REGULARIZATION_RATES);

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
    drawPreview(canvas, options.previews[name], outputRange(problemOf(name)));
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
    hoverShows(canvas, () => `the feature ${name}`,
               () => page.scene && decode(page.scene.features[name]));
    const text = document.createElement("span");
    text.textContent = name;
    row.append(box, text, canvas);
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
  for (const id of ["activation", "optimizer", "init", "backend", "regularization"]) {
    $(id).addEventListener("change", () => change({[id]: $(id).value}));
  }
  $("lr").addEventListener("change", () => change({lr: Number($("lr").value)}));
  $("regularization-rate").addEventListener("change", () => change(
    {regularization_rate: Number($("regularization-rate").value)}));
  $("problem").addEventListener("change", () => {
    const problem = $("problem").value;
    const datasets = options.problems[problem];
    const dataset = datasets.includes(page.settings.dataset) ? page.settings.dataset
                                                             : datasets[0];
    change({problem, dataset});
  });

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

  const extent = options.extent;
  for (const [id, place] of [["x-ticks", (v) => ({left: `${(v + extent) / (2 * extent) * 100}%`})],
                             ["y-ticks", (v) => ({top: `${(extent - v) / (2 * extent) * 100}%`})]]) {
    $(id).replaceChildren(...TICKS.map((value) => {
      const tick = document.createElement("span");
      tick.className = "tick";
      tick.textContent = String(value);
      Object.assign(tick.style, place(value));
      return tick;
    }));
  }
  new ResizeObserver(layoutLinks).observe(document.querySelector(".panel"));
}

function problemOf(dataset) {
  return Object.keys(page.options.problems)
    .find((problem) => page.options.problems[problem].includes(dataset));
}

function outputRange(problem) {
  return page.options.output_ranges[problem];
}

// Hovering over `canvas` shows its map large in place of the output.
function hoverShows(canvas, caption, levels) {
  canvas.addEventListener("mouseenter", () => {
    const shown = levels();
    if (shown) {
      page.hovered = {caption: caption(), levels: shown};
      drawOutput();
    }
  });
  canvas.addEventListener("mouseleave", () => {
    page.hovered = null;
    drawOutput();
  });
}

// Show the settings the server confirmed on every control, and in the address.
function syncControls() {
  const settings = page.settings;
  if (!settings) return;
  for (const button of document.querySelectorAll("button.dataset")) {
    button.classList.toggle("selected", button.dataset.dataset === settings.dataset);
    button.hidden = problemOf(button.dataset.dataset) !== settings.problem;
  }
  for (const box of document.querySelectorAll("input[data-feature]")) {
    box.checked = settings.features.includes(box.dataset.feature);
    box.parentElement.classList.toggle("unchecked", !box.checked);
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
  for (const [id, name, choices] of [["lr", "lr", LEARNING_RATES],
                                     ["regularization-rate", "regularization_rate",
                                      REGULARIZATION_RATES]]) {
    if (!choices.includes(settings[name])) {
      fillSelect($(id), [...choices, settings[name]].sort((a, b) => a - b));
    }
    $(id).value = String(settings[name]);
  }
  for (const id of ["activation", "optimizer", "init", "backend", "regularization",
                    "problem"]) {
    $(id).value = settings[id];
  }
  $("layer-count").textContent = settings.hidden.length;
  const [low, high] = outputRange(settings.problem);
  $("scale-low").textContent = String(low);
  $("scale-high").textContent = String(high);
  $("accuracy-row").hidden = settings.problem !== "classification";
  $("colour-hint").textContent = settings.problem === "classification"
    ? "Orange is label 0, blue label 1; the map is the predicted probability of blue."
    : "Colour is the target, from orange (-1) to blue (1); the map is the prediction.";
  history.replaceState(null, "", settingsToHash(settings));
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
      canvas.dataset.layer = String(index);
      canvas.dataset.unit = String(unit);
      canvas.title = `layer ${index + 1}, neuron ${unit + 1}`;
      hoverShows(canvas, () => canvas.title,
                 () => page.neurons[index] && page.neurons[index][unit]);
      column.append(canvas);
    }
    return column;
  });
  $("layers").replaceChildren(...columns);
  layoutLinks();
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
    page.wanted = page.settings;
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
  page.weights = message.weights;
  drawOutput();
  drawNeurons();
  drawLossChart();
  drawLinks();
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
  const t = Math.min(Math.max(level / 255, 0), 1);
  const [from, to, s] = t < 0.5 ? [ORANGE, MIDDLE, t * 2] : [MIDDLE, BLUE, t * 2 - 1];
  return from.map((channel, i) => Math.round(channel + (to[i] - channel) * s));
}

// The level of a label or target within the output's range [low, high].
function levelOf(label, [low, high]) {
  return (label - low) / (high - low) * 255;
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

// The output map, or the map of the neuron or feature under the mouse.
function drawOutput() {
  const hovered = page.hovered;
  if (hovered) {
    drawMap($("heatmap"), hovered.levels);
    $("map-caption").textContent = `Showing ${hovered.caption}`;
  } else if (page.output) {
    drawMap($("heatmap"), page.output, $("discretize").checked);
    $("map-caption").textContent = "Showing the output";
  }
  if (page.output) drawMap($("output-neuron"), page.output);
}

function drawNeurons() {
  const columns = $("layers").querySelectorAll(".layer");
  page.neurons.forEach((layer, index) => {
    const canvases = columns[index] ? columns[index].querySelectorAll("canvas.neuron") : [];
    layer.forEach((levels, unit) => { if (canvases[unit]) drawMap(canvases[unit], levels); });
  });
}

function drawFeatureMaps() {
  for (const canvas of document.querySelectorAll("canvas[data-feature-map]")) {
    drawMap(canvas, decode(page.scene.features[canvas.dataset.featureMap]));
  }
}

function drawPoints() {
  const canvas = $("points");
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (!page.scene) return;
  const extent = page.scene.extent;
  const range = page.scene.output_range;
  const sets = [[page.scene.points.train, "white"]];
  if ($("show-test").checked) sets.push([page.scene.points.test, "black"]);
  for (const [points, edge] of sets) {
    for (const [x1, x2, label] of points) {
      context.beginPath();
      context.arc((x1 + extent) / (2 * extent) * canvas.width,
                  (extent - x2) / (2 * extent) * canvas.height, 3, 0, 2 * Math.PI);
      context.fillStyle = `rgb(${colour(levelOf(label, range)).join(",")})`;
      context.fill();
      context.strokeStyle = edge;
      context.lineWidth = 1;
      context.stroke();
    }
  }
}

function drawPreview(canvas, points, range) {
  const context = canvas.getContext("2d");
  context.fillStyle = `rgb(${MIDDLE.join(",")})`;
  context.fillRect(0, 0, canvas.width, canvas.height);
  const extent = page.options.extent;
  for (const [x1, x2, label] of points) {
    context.fillStyle = `rgb(${colour(levelOf(label, range)).join(",")})`;
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

// ---------------------------------------------------------------- the weights as lines

// The network's columns of units, from the inputs to the output: the chosen features'
// maps, each hidden layer's neurons, the output neuron.
function unitColumns() {
  const features = page.settings.features.map(
    (name) => document.querySelector(`canvas[data-feature-map="${CSS.escape(name)}"]`));
  const hidden = [...$("layers").querySelectorAll(".layer")].map(
    (column) => [...column.querySelectorAll("canvas.neuron")]);
  return [features, ...hidden, [$("output-neuron")]];
}

// One line per weight, from the right edge of its input unit to the left edge of its
// output unit; placed again whenever the layout changes.
function layoutLinks() {
  const svg = $("links");
  if (!page.settings) return;
  const origin = svg.getBoundingClientRect();
  const columns = unitColumns();
  const lines = [];
  for (let layer = 0; layer + 1 < columns.length; layer++) {
    columns[layer + 1].forEach((target, to) => {
      columns[layer].forEach((source, from) => {
        const a = source.getBoundingClientRect();
        const b = target.getBoundingClientRect();
        const line = document.createElementNS(SVG, "line");
        line.setAttribute("x1", a.right - origin.left);
        line.setAttribute("y1", a.top + a.height / 2 - origin.top);
        line.setAttribute("x2", b.left - origin.left);
        line.setAttribute("y2", b.top + b.height / 2 - origin.top);
        line.dataset.layer = String(layer);
        line.dataset.from = String(from);
        line.dataset.to = String(to);
        lines.push(line);
      });
    });
  }
  svg.replaceChildren(...lines);
  drawLinks();
}

// Colour by sign (blue positive, orange negative), width by magnitude, as TensorFlow
// Playground draws them.
function drawLinks() {
  for (const line of $("links").children) {
    const layer = page.weights[Number(line.dataset.layer)];
    const row = layer && layer[Number(line.dataset.to)];
    const weight = row ? row[Number(line.dataset.from)] : undefined;
    if (weight === undefined || weight === null) {
      line.setAttribute("stroke", "#ccc");
      line.setAttribute("stroke-width", "1");
      continue;
    }
    line.dataset.weight = String(weight);
    line.setAttribute("stroke", `rgb(${(weight >= 0 ? BLUE : ORANGE).join(",")})`);
    line.setAttribute("stroke-width", String(0.5 + 9.5 * Math.min(Math.abs(weight), 5) / 5));
  }
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    page.options = await api("GET", "/api/options");
  } catch (error) {
    showStatus(`The page cannot start: ${error.message}. Reload it once the server runs.`,
               "error");
    return;
  }
  buildControls();
  page.wanted = {...page.options.defaults, ...settingsFromHash(location.hash)};
  await recover("");
}

window.addEventListener("pagehide", () => {
  if (page.sessionId) {
    fetch(`/api/sessions/${page.sessionId}`, {method: "DELETE", keepalive: true});
  }
});

start();
