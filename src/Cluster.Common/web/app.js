// The dashboard: hash routes (#/, #/search/NAME, #/evaluation/NAME), one server-sent event stream per view.
// Read-only; every value from the server goes into the page as text, never as markup.
"use strict";

const PAGE = 50;          // table rows per page
const MAX_POINTS = 1500;  // chart points drawn; longer series are down-sampled per bucket

const state = { overview: null, search: null, evaluation: null, source: null, route: null,
  sort: { key: "id", dir: -1 }, page: 0, drawPending: false };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const num = (x) => typeof x === "number" && isFinite(x);
const fmt = (x, digits = 4) => num(x) ? x.toFixed(digits) : (x === null || x === undefined ? "–" : String(x));
const statusCell = (s) => el("span", { class: "status-" + s }, s);

function route() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const [kind, ...rest] = decodeURIComponent(path).split("/");
  const name = rest.join("/");
  // a search compared with another (its random-search control): #/search/NAME?vs=OTHER
  if (kind === "search" && name) return { kind, name, vs: new URLSearchParams(query || "").get("vs") };
  if (kind === "evaluation" && name) return { kind, name };
  return { kind: "home" };
}

function connect() {
  if (state.source) state.source.close();
  state.route = route();
  state.search = state.route.kind === "search" ? { name: state.route.name, trials: new Map(), summary: null, updates: [] } : null;
  state.evaluation = null;
  state.page = 0;
  clearInterval(state.controlTimer);
  state.control = null;
  if (state.route.vs) {
    // the other search's trials, read now and again every 10 s: a whole search, so not at the stream's pace
    const name = state.route.vs;
    const read = () => fetch("/v1/searches/" + encodeURIComponent(name)).then((r) => r.ok ? r.json() : Promise.reject(r.status))
      .then((d) => { state.control = { name, trials: d.trials.map((t) => ({ id: t.trial_id, status: String(t.status).toLowerCase(), reward: t.reward })) }; redraw(); })
      .catch(() => { state.control = { name, trials: [], missing: true }; redraw(); });
    read();
    state.controlTimer = setInterval(read, 10000);
  }
  const query = state.route.kind === "home" ? "" : `?${state.route.kind}=${encodeURIComponent(state.route.name)}`;
  const source = new EventSource("/v1/events" + query);
  state.source = source;
  const live = document.getElementById("live");
  source.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  source.onerror = () => { live.textContent = "reconnecting"; live.classList.remove("on"); };
  source.addEventListener("overview", (e) => { state.overview = JSON.parse(e.data); showProblem(null); redraw(); });
  source.addEventListener("problem", (e) => showProblem(JSON.parse(e.data).reason));
  source.addEventListener("search", (e) => {
    const update = JSON.parse(e.data);
    const search = state.search;
    if (!search) return;
    search.summary = update.summary;
    search.updates = update.updates;
    search.policyHash = update.policy_hash;
    search.total = update.trials_total;
    for (const t of update.trials) search.trials.set(t.id, t);
    redraw();
  });
  source.addEventListener("evaluation", (e) => { state.evaluation = JSON.parse(e.data); redraw(); });
  redraw();
}

function showProblem(text) {
  const p = document.getElementById("problem");
  p.hidden = !text;
  p.textContent = text || "";
}

// several events in one frame draw once
function redraw() {
  if (state.drawPending) return;
  state.drawPending = true;
  requestAnimationFrame(() => { state.drawPending = false; render(); });
}

function render() {
  const view = document.getElementById("view");
  const r = state.route;
  const content = r.kind === "search" ? searchView() : r.kind === "evaluation" ? evaluationView() : homeView();
  view.replaceChildren(...content);
  if (r.kind === "search") drawCharts();
  document.body.dataset.view = r.kind;
}

// ---- overview ----

function homeView() {
  const o = state.overview;
  if (!o) return [el("p", { class: "muted" }, "waiting for the node…")];
  return [
    el("h2", {}, "Cluster"),
    el("section", {}, table(["member", "status", "roles", "version", ""], o.cluster.members.map((m) => [
      el("code", {}, m.address + (m.address === o.cluster.self ? " (this node)" : "")), statusCell(m.status.toLowerCase()),
      m.roles.join(", "), m.version, [m.leader ? "leader " : "", m.unreachable ? el("span", { class: "status-failed" }, "unreachable") : ""],
    ]), "members")),
    el("h2", {}, "Trainers"),
    el("section", {}, trainerRows(o.trainers).length === 0 ? el("p", { class: "muted" }, "no trainer nodes up") :
      table(["node", "trainer", "device", "state", "trial", "progress", "items/s", "done"], trainerRows(o.trainers), "trainers", [6, 7])),
    el("h2", {}, "Searches"),
    el("section", {}, o.searches.length === 0 ? el("p", { class: "muted" }, "no searches yet") :
      table(["search", "status", "trials done / total", "failed", "running", "best reward", "policy version", "note"],
        o.searches.map((s) => [
          el("a", { href: "#/search/" + encodeURIComponent(s.name) }, s.name), statusCell(s.status),
          `${s.completed} / ${s.trials}`, s.failed, s.running, fmt(s.best_reward), s.policy_version,
          s.problem || s.pause_reason || "",
        ]), "searches", [2, 3, 4, 5, 6])),
    el("h2", {}, "Evaluations"),
    el("section", {}, o.evaluations.length === 0 ? el("p", { class: "muted" }, "no evaluations yet") :
      table(["evaluation", "search", "status", "runs done / total", "failed", "running", "note"],
        o.evaluations.map((v) => [
          el("a", { href: "#/evaluation/" + encodeURIComponent(v.name) }, v.name), v.search, statusCell(v.status),
          `${v.completed} / ${v.trials}`, v.failed, v.running, v.problem || "",
        ]), "evaluations", [3, 4, 5])),
  ];
}

// one row per trainer and evaluator; evaluators only while they hold a trial, as they sit idle most of the time
function trainerRows(nodes) {
  const gib = (b) => (b / 1073741824).toFixed(1) + " GiB";
  return (nodes || []).flatMap((n) => n.trainers
    .filter((t) => t.kind === "search" || t.trial_id !== null)
    .map((t) => [
      el("code", {}, n.node), t.trainer_id.startsWith(n.node + "/user/") ? t.trainer_id.slice(n.node.length + 6) : t.trainer_id,
      `${t.device.device} ${t.device.name}${t.device.memory_bytes ? ", " + gib(t.device.memory_bytes) : ""}`,
      statusCell(t.draining && t.state !== "drained" ? t.state + " (draining)" : t.state),
      t.trial_id === null ? "" : el("a", { href: "#/search/" + encodeURIComponent(t.search) }, `${t.search} #${t.trial_id}`),
      t.steps > 0 ? [el("progress", { value: t.step, max: t.steps }), ` ${t.step}/${t.steps}`] : "",
      t.items_per_second > 0 ? Math.round(t.items_per_second) : "", t.trials_done,
    ]));
}

function table(headers, rows, id, numeric = []) {
  return el("table", { id },
    el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { class: numeric.includes(i) ? "num" : null }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) => el("td", { class: numeric.includes(i) ? "num" : null }, c))))));
}

// ---- one search ----

function searchView() {
  const s = state.search;
  if (!s.summary) return [el("h2", {}, s.name), el("p", { class: "muted" }, "loading…")];
  const sum = s.summary;
  const trials = [...s.trials.values()];
  const fact = (label, value, id) => el("div", {}, el("span", {}, label), el("b", { id }, value));
  const nodes = [
    el("h2", {}, "Search ", el("code", {}, s.name)),
    el("section", { class: "facts" },
      fact("status", statusCell(sum.status), "search-status"),
      fact("completed / trials", `${sum.completed} / ${sum.trials}`, "search-completed"),
      fact("failed", sum.failed), fact("running", sum.running),
      fact("best reward", fmt(sum.best_reward), "search-best"),
      fact("policy version", sum.policy_version), fact("policy", el("code", {}, (s.policyHash || "").slice(0, 12))),
      sum.pause_reason ? fact("paused because", sum.pause_reason) : null,
      sum.problem ? fact("problem", el("span", { class: "status-failed" }, sum.problem)) : null),
    el("section", {},
      el("div", { class: "legend" }, "reward per trial", el("i", { class: "l-dot" }), "trial",
        el("i", { class: "l-avg" }), "moving average", el("i", { class: "l-best" }), "best so far",
        state.control ? [el("i", { class: "l-control-avg" }), "its moving average", el("i", { class: "l-control-best" }), "its best so far"] : null,
        compareWith(s.name)),
      el("canvas", { id: "reward-chart" })),
  ];
  if (s.updates.length > 0)
    nodes.push(el("section", {}, el("div", { class: "legend" }, "policy entropy per update"), el("canvas", { id: "entropy-chart" })));
  nodes.push(el("h2", {}, "Best patterns"), el("section", { id: "best" }, bestPatterns(trials)));
  nodes.push(el("h2", {}, `Trials (${trials.length})`), el("section", {}, trialsTable(trials)));
  return nodes;
}

// against another search at equal trials, e.g. its random-search control (spec "policy": {"kind": "random"})
function compareWith(name) {
  const others = (state.overview?.searches || []).map((x) => x.name).filter((n) => n !== name);
  if (others.length === 0) return null;
  // links, not a select: the view is drawn again at each update, which would close an open list
  const link = (n) => n === (state.route.vs || null) ? el("b", {}, n ?? "none")
    : el("a", { href: `#/search/${encodeURIComponent(name)}` + (n ? `?vs=${encodeURIComponent(n)}` : "") }, n ?? "none");
  return el("span", { class: "compare", id: "compare" }, "compare with: ", [...others, null].flatMap((n, i) => [i ? " · " : "", link(n)]),
    state.control?.missing ? el("span", { class: "status-failed" }, ` (no search '${state.control.name}')`) : "");
}

function bestPatterns(trials) {
  const best = trials.filter((t) => t.status === "completed" && num(t.reward)).sort((a, b) => b.reward - a.reward).slice(0, 5);
  if (best.length === 0) return el("p", { class: "muted" }, "no completed trials yet");
  // masks drawn by a trainer node (it has torch): the best pattern's shown, the others' a click away
  const masks = (t) => `/v1/searches/${encodeURIComponent(state.search.name)}/trials/${t.id}/masks.png`;
  // only trainer nodes draw; without one a picture could only fail
  const drawable = (state.overview?.trainers || []).length > 0;
  const patterns = drawable ? best.filter((t) => !t.baseline) : [];
  return el("div", { class: "best" }, el("b", {}, "trial"), el("b", {}, "reward"), el("b", {}, "pattern"),
    best.flatMap((t) => [el("span", {}, "#" + t.id), el("span", {}, fmt(t.reward)),
      el("span", { class: "pattern" }, t.baseline ? `${t.baseline} (reference)` : [t.pattern, " ",
        t === patterns[0] || !drawable ? "" : el("a", { href: masks(t), target: "_blank" }, "masks")]),
      t === patterns[0] ? el("img", { class: "masks", src: masks(t), alt: `the masks of trial ${t.id}'s pattern, one row per site` }) : null]));
}

const COLUMNS = [
  { key: "id", label: "trial", num: true },
  { key: "status", label: "status" },
  { key: "reward", label: "reward", num: true },
  { key: "policy_version", label: "policy version", num: true },
  { key: "staleness", label: "staleness", num: true },
  { key: "trainer", label: "trainer" },
  { key: "pattern", label: "pattern / failure" },
];

function compare(key) {
  return (a, b) => {
    const x = a[key], y = b[key];
    if (x === y) return a.id - b.id;
    if (x === null || x === undefined || (typeof x === "string" && num(y))) return 1;
    if (y === null || y === undefined || (typeof y === "string" && num(x))) return -1;
    return x < y ? -1 : 1;
  };
}

function trialsTable(trials) {
  const { key, dir } = state.sort;
  const cmp = compare(key);
  const sorted = trials.sort((a, b) => dir * cmp(a, b));
  const pages = Math.max(1, Math.ceil(sorted.length / PAGE));
  state.page = Math.min(state.page, pages - 1);
  const shown = sorted.slice(state.page * PAGE, (state.page + 1) * PAGE);
  const head = el("tr", {}, COLUMNS.map((c) => el("th", {
    class: ["sortable", c.num ? "num" : "", c.key === key ? (dir > 0 ? "sorted-asc" : "sorted-desc") : ""].join(" "),
    "data-key": c.key,
    onclick: () => { state.sort = { key: c.key, dir: c.key === key ? -dir : (c.num ? -1 : 1) }; state.page = 0; redraw(); },
  }, c.label)));
  const body = shown.map((t) => el("tr", { "data-trial": t.id },
    el("td", { class: "num" }, t.id), el("td", {}, statusCell(t.status)), el("td", { class: "num" }, fmt(t.reward)),
    el("td", { class: "num" }, t.policy_version), el("td", { class: "num" }, t.staleness ?? "–"),
    el("td", {}, el("code", {}, shortTrainer(t.trainer))),
    el("td", {}, t.failure ? el("div", { class: "failure" }, t.failure) : null,
      el("span", { class: "pattern" }, t.baseline ? `${t.baseline} (reference)` : t.pattern))));
  const go = (p) => () => { state.page = p; redraw(); };
  return [
    el("table", { id: "trials" }, el("thead", {}, head), el("tbody", {}, body)),
    el("div", { class: "pager" },
      el("button", { onclick: go(0), disabled: state.page === 0 }, "«"),
      el("button", { onclick: go(state.page - 1), disabled: state.page === 0 }, "‹"),
      el("span", {}, `page ${state.page + 1} of ${pages}`),
      el("button", { onclick: go(state.page + 1), disabled: state.page >= pages - 1 }, "›"),
      el("button", { onclick: go(pages - 1), disabled: state.page >= pages - 1 }, "»")),
  ];
}

function shortTrainer(path) {
  if (!path) return "";
  const m = /@([^/]+)\/user\/(.*)$/.exec(path);
  return m ? `${m[1]} ${m[2]}` : path;
}

// ---- charts: own drawing on <canvas> ----

function series(trials = [...state.search.trials.values()]) {
  const done = trials.filter((t) => t.status === "completed" && num(t.reward)).sort((a, b) => a.id - b.id);
  const window = Math.max(5, Math.min(50, Math.round(done.length / 20)));
  let sum = 0, best = -Infinity;
  return done.map((t, i) => {
    sum += t.reward;
    if (i >= window) sum -= done[i - window].reward;
    best = Math.max(best, t.reward);
    return { x: t.id, y: t.reward, avg: sum / Math.min(i + 1, window), best };
  });
}

// keeps each bucket's lowest and highest trial so outliers stay visible, and the lines' last value per bucket
function downSample(points) {
  if (points.length <= MAX_POINTS) return points;
  const per = Math.ceil(points.length / (MAX_POINTS / 2));
  const out = [];
  for (let i = 0; i < points.length; i += per) {
    const bucket = points.slice(i, i + per);
    let lo = bucket[0], hi = bucket[0];
    for (const p of bucket) { if (p.y < lo.y) lo = p; if (p.y > hi.y) hi = p; }
    const last = bucket[bucket.length - 1];
    for (const p of lo.x <= hi.x ? [lo, hi] : [hi, lo]) out.push({ ...p, avg: last.avg, best: last.best });
  }
  return out;
}

function drawCharts() {
  const points = downSample(series());
  // the other search's lines on the same axes, by trial id (both count trials from 1)
  const control = state.control ? downSample(series(state.control.trials)).map((p) => ({ x: p.x, cavg: p.avg, cbest: p.best })) : [];
  plot(document.getElementById("reward-chart"), [...points, ...control].sort((a, b) => a.x - b.x), [
    { key: "y", color: "rgba(47,111,219,.6)", dots: true },
    { key: "cavg", color: "#b9b9b9", dash: [5, 4] },
    { key: "cbest", color: "#6b7385", dash: [5, 4] },
    { key: "avg", color: "#e07b00" },
    { key: "best", color: "#2e8b57" },
  ], "trial");
  document.body.dataset.controlPoints = String(control.filter((p) => num(p.x) && num(p.cbest)).length);
  const entropy = document.getElementById("entropy-chart");
  if (entropy) plot(entropy, state.search.updates.map((u) => ({ x: u.version, y: u.mean_entropy })),
    [{ key: "y", color: "#7b4fc4" }], "policy version");
  document.body.dataset.points = String(points.length);
}

function plot(canvas, points, layers, xLabel) {
  if (!canvas) return;
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * ratio; canvas.height = h * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#6b7385";
  if (points.length === 0) { g.fillText("no data yet", 50, h / 2); return; }
  const pad = { l: 52, r: 12, t: 10, b: 28 };
  const xs = points.map((p) => p.x);
  const ys = points.flatMap((p) => layers.map((l) => p[l.key])).filter(num);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
  const X = (x) => pad.l + (x - x0) / (x1 - x0) * (w - pad.l - pad.r);
  const Y = (y) => h - pad.b - (y - y0) / (y1 - y0) * (h - pad.t - pad.b);
  g.strokeStyle = "#dde1e8";
  g.beginPath();
  for (let i = 0; i <= 4; i++) {
    const y = y0 + (y1 - y0) * i / 4;
    g.moveTo(pad.l, Y(y)); g.lineTo(w - pad.r, Y(y));
    g.fillText(y.toFixed(3), 4, Y(y) + 4);
  }
  g.stroke();
  g.fillText(`${xLabel} ${x0}`, pad.l, h - 8);
  const right = `${x1}`;
  g.fillText(right, w - pad.r - g.measureText(right).width, h - 8);
  for (const layer of layers) {
    g.strokeStyle = g.fillStyle = layer.color;
    if (layer.dots) {
      for (const p of points) if (num(p[layer.key])) g.fillRect(X(p.x) - 2, Y(p[layer.key]) - 2, 4, 4);
      continue;
    }
    g.lineWidth = 1.8;
    g.setLineDash(layer.dash || []);
    g.beginPath();
    points.filter((p) => num(p[layer.key])).forEach((p, i) => (i === 0 ? g.moveTo : g.lineTo).call(g, X(p.x), Y(p[layer.key])));
    g.stroke();
    g.setLineDash([]);
  }
}

// ---- one evaluation ----

function evaluationView() {
  const v = state.evaluation;
  const name = state.route.name;
  if (!v) return [el("h2", {}, "Evaluation ", el("code", {}, name)), el("p", { class: "muted" }, "loading…")];
  const scores = v.rows.flatMap((r) => r.runs.map((run) => run.score)).filter(num);
  const lo = Math.min(...scores), hi = Math.max(...scores);
  return [
    el("h2", {}, "Evaluation ", el("code", {}, name)),
    el("section", { class: "facts" },
      el("div", {}, el("span", {}, "search"), el("b", {}, v.summary.search)),
      el("div", {}, el("span", {}, "status"), el("b", {}, statusCell(v.summary.status))),
      el("div", {}, el("span", {}, "runs done / total"), el("b", {}, `${v.summary.completed} / ${v.summary.trials}`)),
      el("div", {}, el("span", {}, "metric"), el("b", {}, `${v.metric} (${v.higher_is_better ? "higher" : "lower"} is better)`))),
    el("section", {}, table(["candidate", "regulariser", "search reward", `mean ± std`, "runs (one dot per seed)"],
      v.rows.map((r) => [r.label, el("span", { class: "pattern" }, r.regulariser), fmt(r.search_reward),
        num(r.mean) ? `${fmt(r.mean)} ± ${fmt(r.standard_deviation)}` : "–", dots(r.runs, lo, hi)]), "evaluation", [2, 3])),
  ];
}

function dots(runs, lo, hi) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", "220"); svg.setAttribute("height", "16");
  const line = document.createElementNS(ns, "line");
  Object.entries({ x1: 4, x2: 216, y1: 8, y2: 8, stroke: "#dde1e8" }).forEach(([k, v]) => line.setAttribute(k, v));
  svg.append(line);
  for (const run of runs) {
    if (!num(run.score)) continue;
    const dot = document.createElementNS(ns, "circle");
    const x = hi > lo ? 4 + (run.score - lo) / (hi - lo) * 212 : 110;
    Object.entries({ cx: x, cy: 8, r: 3.5, fill: "#2f6fdb", "fill-opacity": 0.7 }).forEach(([k, v]) => dot.setAttribute(k, v));
    const title = document.createElementNS(ns, "title");
    title.textContent = `seed ${run.seed}: ${fmt(run.score)}`;
    dot.append(title);
    svg.append(dot);
  }
  return svg;
}

window.addEventListener("hashchange", connect);
window.addEventListener("resize", redraw);
connect();
