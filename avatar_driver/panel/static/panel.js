// avatar-driver panel: live state from /events (server-sent events), controls by JSON POST.
// No library and no build step; the token comes from the address the terminal printed.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
// Text set only when it changes: an unchanged value costs the page no layout.
const setText = (e, text) => { if (e.textContent !== text) e.textContent = text; };
const PLOT_SECONDS = 10;
// The stream sends numbers as base64 of little-endian floats (cheap for the server).
const floats = (b64, Type = Float32Array) => new Type(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
const COLORS = ["#4fa3ff", "#ffb347", "#7ddc7a", "#ff6b9a", "#c59bff", "#5ee0d8", "#f4e04d", "#ff8c5a"];

let info = null;
let last = null;
let current = {}; // the run's settings, as last reported
let source = null;
let updates = 0;
let plotData = { t: [], raw: [], filtered: [] };
let plotNames = [];
const bars = [];
const sliders = {};

async function control(body) {
  const r = await fetch("/api/control", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Panel-Token": TOKEN },
    body: JSON.stringify(body),
  });
  const data = await r.json();
  $("message").textContent = data.message || "";
  if (data.settings) current = data.settings;
  return data;
}

function meter(parent, name) {
  const row = el("div", "meter");
  const fill = el("div", "fill");
  const track = el("div", "track");
  track.appendChild(fill);
  const value = el("span", "value", "-");
  row.append(el("span", "name", name), track, value);
  parent.appendChild(row);
  return { row, fill, value };
}

// A bar as a transform (no layout pass) and its text only when the shown value changes:
// 21 times a second for ~70 bars, that is most of the page's own work.
function setMeter(m, v) {
  const text = v.toFixed(2);
  if (m.text === text) return;
  m.text = text;
  m.fill.style.transform = `scaleX(${Math.max(0, Math.min(1, v))})`;
  m.value.textContent = text;
}

function buildShapes() {
  const box = $("shapes");
  info.shapes.forEach((name) => {
    const row = el("div", "row");
    row.dataset.shape = name;
    const fill = el("div", "fill");
    const track = el("div", "track");
    track.appendChild(fill);
    const value = el("span", "value", "0.00");
    row.append(el("span", "name", name), track, value);
    box.appendChild(row);
    bars.push({ fill, value });
  });
}

function slider(min, max, step, value, log) {
  const s = el("input");
  s.type = "range";
  s.min = log ? Math.log10(min) : min;
  s.max = log ? Math.log10(max) : max;
  s.step = step;
  s.value = log ? Math.log10(value) : value;
  s.log = log;
  s.read = () => (log ? Math.pow(10, Number(s.value)) : Number(s.value));
  return s;
}

function throttled(fn, ms) {
  let timer = null;
  let pending = null;
  return (arg) => {
    pending = arg;
    if (timer) return;
    timer = setTimeout(() => { timer = null; fn(pending); }, ms);
  };
}

function buildTuning(settings) {
  const body = $("tuning").querySelector("tbody");
  body.textContent = "";
  const sm = settings.smoothing;
  $("smooth-head").textContent = sm ? sm.key : "smoothing";
  $("smooth-doc").textContent = sm ? `${sm.key}: ${sm.doc}` : `dynamics ${settings.dynamics}: no smoothing`;
  info.groups.forEach((g) => {
    const tr = el("tr");
    tr.appendChild(el("td", "", g));
    const gainCell = el("td");
    const gainValue = el("td", "value");
    if (info.gain_groups.includes(g) && info.has_solver) {
      const s = slider(0, info.max_gain, 0.05, settings.gain[g] ?? 1, false);
      s.dataset.gain = g;
      gainValue.textContent = s.read().toFixed(2);
      const send = throttled((v) => control({ action: "gain", group: g, value: v }), 80);
      s.addEventListener("input", () => { gainValue.textContent = s.read().toFixed(2); send(s.read()); });
      gainCell.appendChild(s);
      sliders[`gain:${g}`] = s;
    } else {
      gainCell.textContent = "-";
      gainCell.title = info.has_solver ? "no gain for the head" : "gain needs the tracking solver";
    }
    const smCell = el("td");
    const smValue = el("td", "value");
    if (sm) {
      const v = sm.values[g];
      const s = slider(sm.low, sm.high, 0.01, v, true);
      s.dataset.smoothing = g;
      smValue.textContent = v.toPrecision(3);
      const send = throttled((x) => control({ action: "smoothing", group: g, value: x }), 120);
      s.addEventListener("input", () => { smValue.textContent = s.read().toPrecision(3); send(Number(s.read().toPrecision(4))); });
      smCell.appendChild(s);
    } else {
      smCell.textContent = "-";
    }
    tr.append(gainCell, gainValue, smCell, smValue);
    body.appendChild(tr);
  });
}

function buildControls(settings) {
  const dyn = $("dynamics");
  info.dynamics_names.forEach((n) => dyn.appendChild(new Option(n, n, false, n === settings.dynamics)));
  dyn.addEventListener("change", async () => {
    const r = await control({ action: "dynamics", name: dyn.value });
    if (r.ok) buildTuning(r.settings);
  });
  buildTuning(settings);
  $("pause").addEventListener("click", () => control({ action: "pause", paused: !current.paused }));
  $("recenter").disabled = !info.has_solver;
  $("recenter").addEventListener("click", () => control({ action: "recenter" }));
  $("recalibrate").addEventListener("click", () => control({ action: "recalibrate" }));
  $("save-gain").addEventListener("click", () => control({ action: "save", what: "gain" }));
  $("save-dynamics").addEventListener("click", () => control({ action: "save", what: "dynamics" }));
  $("save-mapping").addEventListener("click", () => control({ action: "save", what: "mapping" }));
  $("cal-path").value = info.profile;
  $("cal-start").addEventListener("click", () => control({ action: "calibrate", mode: $("cal-mode").value, path: $("cal-path").value }));
  $("cal-cancel").addEventListener("click", () => control({ action: "calibrate-cancel" }));
  const sel = $("plot-channels");
  info.channels.forEach((n) => sel.appendChild(new Option(n, n, false, ["eyeBlinkLeft", "jawOpen", "mouthSmileLeft", "headYaw"].includes(n))));
  sel.addEventListener("change", () => pickPlot());
}

function outputRow(o, k) {
  const tr = el("tr");
  tr.dataset.output = o.name;
  const name = el("td", "", o.name + (o.paused ? " (paused)" : ""));
  const frames = el("td", "value", String(o.frames));
  const errors = el("td", o.errors ? "err" : "", String(o.errors));
  if (o.last_error) errors.title = o.last_error;
  let sends = o.parameters != null ? `${o.parameters} params` : `${o.datagrams} datagrams`;
  if (o.avatar !== undefined) sends += o.avatar ? `, avatar ${o.avatar}` : ", no avatar yet";
  const mapping = el("td");
  if (o.mappable) {
    const s = el("select");
    info.presets.forEach((p) => s.appendChild(new Option(p, p, false, o.mapping === `${p}.toml`)));
    if (!info.presets.some((p) => o.mapping === `${p}.toml`)) s.appendChild(new Option(o.mapping || "?", "", true, true));
    s.addEventListener("change", () => s.value && control({ action: "preset", output: k, name: s.value }));
    mapping.appendChild(s);
  } else {
    mapping.textContent = o.mapping || "-";
  }
  tr.append(name, frames, errors, el("td", "", sends), mapping);
  return tr;
}

function updateOutputs(outputs) {
  const body = $("outputs").querySelector("tbody");
  const key = outputs.map((o) => `${o.name}|${o.paused}|${o.mapping}|${o.avatar}`).join(",");
  if (body.dataset.key !== key) {
    body.dataset.key = key;
    body.textContent = "";
    outputs.forEach((o, k) => body.appendChild(outputRow(o, k)));
    return;
  }
  outputs.forEach((o, k) => {
    const cells = body.children[k].children;
    cells[1].textContent = String(o.frames);
    cells[2].textContent = String(o.errors);
    cells[2].className = o.errors ? "err" : "";
    let sends = o.parameters != null ? `${o.parameters} params` : `${o.datagrams} datagrams`;
    if (o.avatar !== undefined) sends += o.avatar ? `, avatar ${o.avatar}` : ", no avatar yet";
    cells[3].textContent = sends;
  });
}

function updatePose(pose) {
  const t = $("pose");
  const rows = [["head", 0], ["left eye", 3], ["right eye", 6]];
  if (!t.rows.length) {
    const h = t.insertRow();
    ["", "yaw", "pitch", "roll"].forEach((x) => h.appendChild(el("th", "", x)));
    rows.forEach(([n]) => { const r = t.insertRow(); r.appendChild(el("td", "", n)); for (let i = 0; i < 3; i++) r.insertCell(); });
  }
  rows.forEach(([, off], k) => {
    for (let i = 0; i < 3; i++) setText(t.rows[k + 1].cells[i + 1], `${pose[off + i].toFixed(1)}°`);
  });
}

function updateMeters(boxId, values) {
  const box = $(boxId);
  if (!values) { box.textContent = "not available"; box.meters = null; return; }
  const names = Object.keys(values);
  if (!box.meters || box.meters.names !== names.join()) {
    box.textContent = "";
    box.meters = { names: names.join(), items: names.map((n) => meter(box, n)) };
  }
  names.forEach((n, k) => setMeter(box.meters.items[k], values[n]));
}

function updateTrackingState(s) {
  // headset mode (eyes and brows held at neutral) and the regions taken as covered
  const box = $("tracking-state");
  const covered = s.regions ? Object.keys(s.regions).filter((n) => s.regions[n] < info.covered_below) : [];
  const parts = [];
  if (s.upper_face === false) parts.push("headset mode: eyes and brows at neutral");
  if (covered.length) parts.push(`covered: ${covered.join(", ")}`);
  setText(box, parts.join("; "));
  box.className = parts.length ? "warn" : "";
  box.dataset.headset = String(s.upper_face === false);
  box.dataset.covered = covered.join(",");
  const meters = $("regions").meters;
  if (meters && s.regions) {
    Object.keys(s.regions).forEach((n, k) => meters.items[k].row.classList.toggle("covered", covered.includes(n)));
  }
}

function updateCalibration(cal) {
  const steps = $("cal-steps");
  const log = $("cal-log");
  if (!cal) return;
  const lines = cal.lines || [];
  log.textContent = lines.join("\n");
  let current = -1;
  lines.forEach((l) => { const m = /^\[(\d+)\/\d+\]/.exec(l); if (m) current = Number(m[1]) - 1; });
  if (cal.mode === "guided") {
    if (!steps.children.length) {
      ["Relax your face", "Close both eyes", "Eyes and mouth wide", "Smile broadly", "Raise eyebrows", "Frown", "Puff cheeks"]
        .forEach((s) => steps.appendChild(el("li", "", s)));
    }
    [...steps.children].forEach((li, k) => { li.className = k === current && cal.state === "running" ? "current" : ""; });
  } else {
    steps.textContent = "";
  }
  $("cal-log").dataset.state = cal.state;
}

function onSnapshot(s) {
  last = s;
  if (s.jpeg) {
    const img = new Image();
    const lm = s.lm ? floats(s.lm, Uint16Array) : null; // this picture's landmarks
    img.onload = () => drawCamera(img, lm);
    img.src = `data:image/jpeg;base64,${s.jpeg}`;
  }
  updates++;
  setText($("fps"), s.fps.toFixed(1));
  setText($("cpu"), s.cpu.toFixed(1));
  setText($("latency"), s.latency_ms != null ? s.latency_ms.toFixed(1) : "-");
  setText($("face"), s.face === undefined ? "-" : (s.face ? "yes" : "no"));
  if (s.settings) current = s.settings;
  setText($("pause"), current.paused ? "Resume" : "Pause");
  if (s.rows) {
    // each row: raw weights and pose, then filtered ones (what is sent)
    const t = floats(s.rows.t, Float64Array);
    const v = floats(s.rows.v);
    const nc = info.channels.length;
    const newest = v.subarray((t.length - 1) * 2 * nc + nc, t.length * 2 * nc);
    for (let k = 0; k < bars.length; k++) setMeter(bars[k], newest[k]);
    updatePose(newest.subarray(bars.length, bars.length + 9));
    const picked = plotNames.map((n) => info.channels.indexOf(n));
    for (let r = 0; r < t.length; r++) {
      plotData.t.push(t[r]);
      picked.forEach((c, k) => {
        (plotData.raw[k] ||= []).push(v[r * 2 * nc + c]);
        (plotData.filtered[k] ||= []).push(v[r * 2 * nc + nc + c]);
      });
    }
    const tEnd = plotData.t[plotData.t.length - 1];
    let cut = 0;
    while (cut < plotData.t.length && plotData.t[cut] < tEnd - PLOT_SECONDS) cut++;
    if (cut) {
      plotData.t.splice(0, cut);
      plotData.raw.forEach((c) => c.splice(0, cut));
      plotData.filtered.forEach((c) => c.splice(0, cut));
    }
    schedulePlot();
  }
  updateMeters("regions", s.regions ?? (s.confidence != null ? { face: s.confidence } : null));
  updateTrackingState(s);
  const m = s.m ? floats(s.m) : null;
  let groups = null;
  if (m) { // each group's strongest movement
    groups = Object.fromEntries(info.groups.map((g) => [g, 0]));
    info.channel_groups.forEach((g, k) => { groups[g] = Math.max(groups[g], m[k]); });
  }
  updateMeters("movement", groups);
  if (s.outputs) {
    $("source").textContent = s.source + (s.note ? ` [${s.note}]` : "");
    updateOutputs(s.outputs);
    if (s.errors.length) $("message").textContent = s.errors[s.errors.length - 1];
  }
  if (s.settings) {
    $("auto-state").textContent = s.settings.auto ? `auto-calibration ${s.settings.auto}` : "";
    $("recalibrate").disabled = !s.settings.auto;
  }
  if (s.settings) updateCalibration(s.settings.calibration);
}

function pickPlot() {
  plotNames = [...$("plot-channels").selectedOptions].map((o) => o.value).slice(0, COLORS.length);
  plotData = { t: [], raw: [], filtered: [] };
  schedulePlot();
}

function connect() {
  pickPlot();
  const q = new URLSearchParams({ token: TOKEN });
  source = new EventSource(`/events?${q}`);
  source.onmessage = (e) => onSnapshot(JSON.parse(e.data));
}

const LANDMARK_RGB = "rgb(125, 220, 122)";
const BOX_RGB = "rgb(255, 179, 71)";
const BOX_PAD_PX = 4;

function drawCamera(img, lm) {
  const c = $("camera");
  const g = c.getContext("2d");
  if (img) {
    // a canvas resize reallocates and clears it: only when the picture's size changes
    if (c.width !== img.naturalWidth) c.width = img.naturalWidth;
    if (c.height !== img.naturalHeight) c.height = img.naturalHeight;
    g.drawImage(img, 0, 0);
    if (lm) drawFace(g, lm, c.width, c.height);
  } else {
    g.fillStyle = "#000";
    g.fillRect(0, 0, c.width, c.height);
  }
}

// The landmarks as 2x2 dots and the face box around them; `lm`: x, y pairs, 0..65535
// across the picture (drawn here, not into the JPEG: crisp, and a cheaper encode).
function drawFace(g, lm, w, h) {
  let x0 = w, y0 = h, x1 = 0, y1 = 0;
  g.fillStyle = LANDMARK_RGB;
  for (let i = 0; i + 1 < lm.length; i += 2) {
    const x = Math.min(w - 2, Math.round((lm[i] / 65535) * (w - 1)));
    const y = Math.min(h - 2, Math.round((lm[i + 1] / 65535) * (h - 1)));
    g.fillRect(x, y, 2, 2);
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  g.strokeStyle = BOX_RGB;
  g.lineWidth = 2;
  g.strokeRect(x0 - BOX_PAD_PX, y0 - BOX_PAD_PX, x1 - x0 + 2 * BOX_PAD_PX, y1 - y0 + 2 * BOX_PAD_PX);
}

// Drawn when new rows came (the stream's rate), not on every animation frame.
let plotPending = false;
function schedulePlot() {
  if (plotPending) return;
  plotPending = true;
  requestAnimationFrame(() => { plotPending = false; drawPlot(); });
}

function drawPlot() {
  const c = $("plot");
  const w = c.clientWidth || 900;
  if (c.width !== w) c.width = w; // a resize reallocates the canvas: only when it changed
  const h = c.height;
  const g = c.getContext("2d");
  g.clearRect(0, 0, w, h);
  g.strokeStyle = "#2a2e37";
  g.beginPath();
  for (let k = 0; k <= 4; k++) { g.moveTo(0, (h * k) / 4); g.lineTo(w, (h * k) / 4); }
  g.stroke();
  const t = plotData.t;
  if (t.length > 1) {
    const tEnd = t[t.length - 1];
    plotNames.forEach((name, k) => {
      const pose = !info.shapes.includes(name);
      const scale = (v) => (pose ? 0.5 - v / 60 : 1 - v) * (h - 4) + 2; // pose: +-30 degrees
      [["raw", [4, 3]], ["filtered", []]].forEach(([kind, dash]) => {
        const col = plotData[kind][k];
        if (!col) return;
        g.setLineDash(dash);
        g.strokeStyle = COLORS[k % COLORS.length];
        g.globalAlpha = kind === "raw" ? 0.55 : 1;
        g.beginPath();
        col.forEach((v, i) => {
          const x = w - ((tEnd - t[i]) / PLOT_SECONDS) * w;
          if (i) g.lineTo(x, scale(v)); else g.moveTo(x, scale(v));
        });
        g.stroke();
      });
      g.setLineDash([]);
      g.globalAlpha = 1;
      g.fillStyle = COLORS[k % COLORS.length];
      g.fillText(name + (pose ? " (°)" : ""), 6, 12 + 12 * k);
    });
  }
}

async function start() {
  const r = await fetch(`/api/info?token=${encodeURIComponent(TOKEN)}`);
  info = await r.json();
  buildShapes();
  current = info.settings;
  buildControls(info.settings);
  connect();
  drawCamera(null);
  schedulePlot();
  setInterval(() => { $("ups").textContent = String(updates); document.body.dataset.ups = String(updates); updates = 0; }, 1000);
}

start();
