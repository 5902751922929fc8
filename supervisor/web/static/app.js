"use strict";
// Mission Control dashboard: polls the JSON API; actions ask for the token once per browser session.
const RED = new Set(["stale", "failed", "dead", "down", "missing", "never-triggered", "hung"]);
let selected = null;
let tz = {name: "UTC", offset_s: 0};  // the host's time zone: every time is shown in it

function pad(n) { return String(n).padStart(2, "0"); }

function when(iso) {
  // a time in the host's zone: "14:03:07" today, "11-21 14:03" otherwise
  if (!iso) return "-";
  const d = new Date(Date.parse(iso) + tz.offset_s * 1000);
  const now = new Date(Date.now() + tz.offset_s * 1000);
  const time = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  if (d.toISOString().slice(0, 10) === now.toISOString().slice(0, 10)) return time + ":" + pad(d.getUTCSeconds());
  return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + time;
}

function colour(item) {
  if (item.status === "paused") return "gray";
  if (item.status === "blocked") return "blocked";  // its root cause is the red card
  if (RED.has(item.status)) return "red";
  if (item.status === "degraded") return "yellow";
  if (item.status !== "ok") return "gray";
  const late = item.budget_s && item.age_s !== null && item.age_s > 0.8 * item.budget_s;
  return late ? "yellow" : "green";
}

function ago(iso) {
  if (!iso) return "never";
  const s = (Date.parse(iso) - Date.now()) / 1000;
  return s >= 0 ? "in " + dur(s) : dur(-s) + " ago";
}

function dur(s) {
  if (s === null || s === undefined) return "-";
  if (Math.abs(s) < 1) return Math.round(s * 1000) + "ms";
  s = Math.round(s);
  const parts = [];
  for (const [u, n] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    const q = Math.floor(s / n);
    if (q) { parts.push(q + u); s -= q * n; }
    if (parts.length === 2) break;
  }
  return parts.join("") || "0s";
}

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
  if (text !== undefined) e.textContent = text;
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, {cache: "no-store"});
  return r.json();
}

async function refresh() {
  let doc;
  try { doc = await getJSON("/api/items"); } catch (e) { document.getElementById("summary").textContent = "unreachable"; return; }
  if (!doc.items) return;
  if (doc.timezone) tz = doc.timezone;
  const summary = document.getElementById("summary");
  summary.textContent = doc.summary;
  summary.className = "summary " + (doc.status === "ok" ? "ok" : "bad");
  document.getElementById("updated").textContent = "updated " + when(new Date().toISOString()) + " · times in " + tz.name + " (host)";
  const banner = document.getElementById("banner");
  const reg = doc.registry;
  banner.hidden = !(reg && reg.status === "rejected");
  if (!banner.hidden) banner.textContent = "Registry " + reg.path + " was rejected at " + when(reg.at) +
    "; running the previous configuration. " + reg.errors.join(" · ");
  const grid = document.getElementById("grid");
  // problems first, then by name: positions change only when an incident opens or ends
  grid.replaceChildren(...doc.items
    .sort((a, b) => (b.problem - a.problem) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(card));
  if (selected) showDetail(selected, false);
}

function card(item) {
  const quiet = item.silenced_until ? " silenced" : "";
  const c = el("div", {class: "card " + colour(item) + quiet, tabindex: "0", "data-item": item.name, "data-status": item.status});
  c.append(el("div", {class: "name"}, item.name + (item.critical ? " ★" : "")));
  c.append(el("div", {class: "status"}, item.status));
  if (item.problem && item.since) c.append(el("div", {class: "line since"}, "since " + when(item.since) + " (" + dur((Date.now() - Date.parse(item.since)) / 1000) + ")"));
  if (item.silenced_until) c.append(el("div", {class: "line silenced"}, "silenced until " + when(item.silenced_until)));
  if (item.running_since) c.append(el("div", {class: "line running"}, "running for " + dur((Date.now() - Date.parse(item.running_since)) / 1000)));
  if (item.status !== "ok") c.append(el("div", {class: "line"}, item.reason));
  if (item.kind === "check" && item.status === "ok") c.append(el("div", {class: "line"}, item.reason));
  if (item.kind === "ping") {
    c.append(el("div", {class: "line"}, "pinged " + ago(item.last_trigger) + " · due " + ago(item.next_elapse)));
  }
  if (item.kind === "timer") {
    c.append(el("div", {class: "line"}, "fired " + ago(item.last_trigger) + " · next " + ago(item.next_elapse)));
    c.append(el("div", {class: "line"}, "age " + (item.age_s === null ? "never" : dur(item.age_s)) + " / " +
      (item.budget_s ? dur(item.budget_s) : "no budget")));
  }
  if (item.kind !== "check") c.append(el("div", {class: "line"}, "last result " + (item.last_result || "-") +
    (item.last_exit_status ? " (" + item.last_exit_status + ")" : "")));
  c.addEventListener("click", () => showDetail(item.name, true));
  c.addEventListener("keydown", (e) => { if (e.key === "Enter") showDetail(item.name, true); });
  return c;
}

async function showDetail(name, reset) {
  if (reset) shownRun = null;
  selected = name;
  const d = await getJSON("/api/items/" + encodeURIComponent(name));
  if (d.error) return;
  const panel = document.getElementById("detail");
  panel.hidden = false;
  document.getElementById("d-name").textContent = name;
  const pill = document.getElementById("d-status");
  pill.textContent = d.status;
  pill.className = "pill " + colour(d);
  document.getElementById("d-reason").textContent = d.reason;
  if (reset) document.getElementById("d-result").textContent = "";
  const timer = d.kind === "timer" || d.kind === "ping";
  const facts = [["kind", d.kind + (d.critical ? ", critical" : "")]];
  if (d.problem && d.since) facts.push(["since", when(d.since) + " (" + ago(d.since) + ")"]);
  if (d.silenced_until) facts.push(["silenced", "until " + when(d.silenced_until) + " (" + ago(d.silenced_until) + "): not restarted, not alerted"]);
  if (d.blocked_by && d.blocked_by.length) facts.push(["blocked by", d.blocked_by.join(", ")]);
  if (timer) facts.push([d.kind === "ping" ? "last ping" : "last trigger", d.last_trigger ? when(d.last_trigger) + " (" + ago(d.last_trigger) + ")" : "never"],
    [d.kind === "ping" ? "due" : "next", d.next_elapse ? when(d.next_elapse) + " (" + ago(d.next_elapse) + ")" : "none"],
    ["budget", d.budget_s ? dur(d.budget_s) + " (" + d.budget_source + ")" : "-"],
    ["max runtime", d.max_runtime_s ? dur(d.max_runtime_s) + " (" + d.max_runtime_source + ")" : "- (" + d.max_runtime_source + ")"]);
  if (d.kind === "timer" || d.kind === "daemon") {
    facts.push(["restarts", d.restarts_in_window + " of " + d.restart_max + " per " + dur(d.restart_per_s) + (d.escalated ? " — ESCALATED" : "")]);
  }
  facts.push(["uptime", uptimeText(d)]);
  document.querySelectorAll(".timer-only").forEach(e => { e.hidden = !timer; });
  document.querySelectorAll(".probe-only").forEach(e => { e.hidden = !d.probe; });
  document.querySelectorAll("[data-action=restart]").forEach(b => { b.hidden = d.kind === "ping" || d.kind === "check"; });
  document.querySelectorAll("[data-action=run]").forEach(b => {
    b.hidden = d.kind === "ping";
    b.textContent = d.kind === "check" ? "Probe now" : "Run now";
  });
  if (d.probe) {
    const p = d.probe;
    facts.push(["probe", p.kind + " " + p.target + " every " + dur(p.every_s) + ", timeout " + dur(p.timeout_s)],
      ["response", p.p50_ms === null ? "-" : "p50 " + p.p50_ms.toFixed(0) + " ms · p95 " + p.p95_ms.toFixed(0) + " ms (last " + p.recent.length + ")"]);
    drawLatency(p.recent);
  }
  if (d.paused) facts.push(["paused", d.paused_until ? "until " + when(d.paused_until) : "until resumed"]);
  if (d.running_since) facts.splice(1, 0, ["running since", when(d.running_since) + " (" + ago(d.running_since) + ")"]);
  document.getElementById("d-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  drawTimeline(d.runs.slice().reverse());
  document.querySelector("#d-runs tbody").replaceChildren(...d.runs.map(r => {
    const tr = el("tr", {class: (r.failure ? "failed" : "") + (r.anomaly ? " anomaly" : ""), tabindex: "0", "data-run": r.id});
    const verdict = r.failure ? r.failure : r.result + (r.anomaly ? " · " + r.anomaly : "");
    [when(r.ended_at), dur(r.duration_s), verdict, r.trigger].forEach(t => tr.append(el("td", {}, t)));
    tr.addEventListener("click", () => showRun(r.id));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") showRun(r.id); });
    return tr;
  }));
  if (reset || !shownRun) {
    const last = d.last_run;
    showOutput(last ? last : null);
  }
  document.getElementById("d-transitions").replaceChildren(...d.transitions.map(t =>
    el("li", {}, when(t.at) + ": " + (t.from || "unknown") + " → " + t.to + " — " + t.reason)));
}

let shownRun = null;

function showOutput(run) {
  const head = document.getElementById("d-output-run");
  const pre = document.getElementById("d-output");
  if (!run) { head.textContent = "no finished run yet"; pre.textContent = ""; return; }
  head.textContent = "run " + run.id.slice(0, 12) + " (" + run.trigger + "), " + (run.failure ? "failed: " + run.failure : "succeeded") +
    (run.anomaly ? ", " + run.anomaly : "");
  pre.textContent = run.output === null || run.output === undefined ? "(output kept only for failed, hung or unusual runs)" : (run.output || "(the run printed nothing)");
}

async function showRun(id) {
  const r = await getJSON("/api/runs/" + encodeURIComponent(id));
  if (r.error) return;
  shownRun = id;
  showOutput(r);
}

const WINDOWS = [["24h", 86400], ["7d", 604800], ["30d", 2592000]];

function uptimeText(d) {
  // only over the time actually observed: a window longer than that says "since ..." once
  const since = d.uptime_observed_since ? Date.parse(d.uptime_observed_since) : null;
  const parts = [];
  for (const [k, secs] of WINDOWS) {
    const pct = d.uptime_pct[k];
    if (pct === null || pct === undefined) continue;
    if (since !== null && since > Date.now() - secs * 1000) {
      parts.push(pct.toFixed(1) + "% since " + when(d.uptime_observed_since));
      break;
    }
    parts.push(pct.toFixed(1) + "% over " + k);
  }
  return parts.length ? parts.join(" · ") : "-";
}

function drawTimeline(runs) {
  const svg = document.getElementById("d-timeline");
  svg.replaceChildren();
  if (!runs.length) return;
  const w = svg.clientWidth || 380, h = 70, max = Math.max(...runs.map(r => r.duration_s || 0), 0.001);
  const bw = Math.max(2, Math.min(24, w / runs.length - 2));
  runs.forEach((r, i) => {
    const bh = Math.max(3, (r.duration_s || 0) / max * (h - 6));
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    rect.setAttribute("x", String(i * (bw + 2)));
    rect.setAttribute("y", String(h - bh));
    rect.setAttribute("width", String(bw));
    rect.setAttribute("height", String(bh));
    rect.setAttribute("fill", r.failure ? "#d93025" : (r.anomaly ? "#9b59b6" : "#1e8e3e"));
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = r.ended_at + ": " + dur(r.duration_s) + " " + r.result;
    rect.append(title);
    svg.append(rect);
  });
}

function drawLatency(results) {
  // response time of the recent probe results, oldest left; red marks a probe with no good answer
  const svg = document.getElementById("d-latency");
  svg.replaceChildren();
  if (!results.length) return;
  const w = svg.clientWidth || 380, h = 70;
  const answered = results.map(r => r.latency_ms || 0);
  const max = Math.max(...answered, 1);
  const step = results.length > 1 ? w / (results.length - 1) : w;
  const ns = "http://www.w3.org/2000/svg";
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", results.map((r, i) => (i * step).toFixed(1) + "," + (h - 4 - (r.latency_ms || 0) / max * (h - 8)).toFixed(1)).join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#1a73e8");
  line.setAttribute("stroke-width", "1.5");
  svg.append(line);
  results.forEach((r, i) => {
    if (r.outcome === "ok") return;
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", (i * step).toFixed(1));
    dot.setAttribute("cy", String(h - 4 - (r.latency_ms || 0) / max * (h - 8)));
    dot.setAttribute("r", "3");
    dot.setAttribute("fill", r.outcome === "down" ? "#d93025" : "#d39e00");
    const title = document.createElementNS(ns, "title");
    title.textContent = r.at + ": " + r.reason;
    dot.append(title);
    svg.append(dot);
  });
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "4");
  label.setAttribute("y", "12");
  label.setAttribute("class", "axis");
  label.textContent = max.toFixed(0) + " ms";
  svg.append(label);
}

async function act(action) {
  if (!selected) return;
  let token = sessionStorage.getItem("missionctl-token");
  if (!token) {
    token = prompt("API token (kept for this browser session only)");
    if (!token) return;
    sessionStorage.setItem("missionctl-token", token);
  }
  const options = {method: "POST", headers: {"Authorization": "Bearer " + token}};
  if (action === "pause") {
    const howLong = prompt("Pause for how long? e.g. 30m, 2h, 1d (empty: until resumed)", "1h");
    if (howLong === null) return;
    if (howLong.trim()) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify({until: howLong.trim()});
    }
  }
  const r = await fetch("/api/items/" + encodeURIComponent(selected) + "/" + action, options);
  const body = await r.json();
  if (r.status === 401) sessionStorage.removeItem("missionctl-token");
  document.getElementById("d-result").textContent = action + ": " + (body.result || body.error) +
    (body.until ? " until " + when(body.until) : "");
  setTimeout(refresh, 300);
}

document.querySelectorAll(".actions button").forEach(b => b.addEventListener("click", () => act(b.dataset.action)));
document.getElementById("close").addEventListener("click", () => { selected = null; shownRun = null; document.getElementById("detail").hidden = true; });
refresh();
setInterval(refresh, 2000);
