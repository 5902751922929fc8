"use strict";
// Mission Control dashboard: polls the JSON API; actions ask for the token once per browser session.
const RED = new Set(["stale", "failed", "dead", "down", "missing", "never-triggered", "hung"]);
let selected = null;

function colour(item) {
  if (item.status === "paused") return "gray";
  if (RED.has(item.status)) return "red";
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
  const summary = document.getElementById("summary");
  summary.textContent = doc.summary;
  summary.className = "summary " + (doc.status === "ok" ? "ok" : "bad");
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  const grid = document.getElementById("grid");
  grid.replaceChildren(...doc.items
    .sort((a, b) => (a.status === "ok") - (b.status === "ok") || a.name.localeCompare(b.name))
    .map(card));
  if (selected) showDetail(selected, false);
}

function card(item) {
  const c = el("div", {class: "card " + colour(item), tabindex: "0", "data-item": item.name, "data-status": item.status});
  c.append(el("div", {class: "name"}, item.name + (item.critical ? " ★" : "")));
  c.append(el("div", {class: "status"}, item.status));
  if (item.running_since) c.append(el("div", {class: "line running"}, "running for " + dur((Date.now() - Date.parse(item.running_since)) / 1000)));
  if (item.status !== "ok") c.append(el("div", {class: "line"}, item.reason));
  if (item.kind === "timer") {
    c.append(el("div", {class: "line"}, "last run " + ago(item.last_trigger) + " · next " + ago(item.next_elapse)));
    c.append(el("div", {class: "line"}, "age " + (item.age_s === null ? "never" : dur(item.age_s)) + " / " +
      (item.budget_s ? dur(item.budget_s) : "no budget")));
  }
  c.append(el("div", {class: "line"}, "last result " + (item.last_result || "-") +
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
  const facts = [["kind", d.kind + (d.critical ? ", critical" : "")], ["last trigger", ago(d.last_trigger)],
    ["next", ago(d.next_elapse)], ["budget", d.budget_s ? dur(d.budget_s) + " (" + d.budget_source + ")" : "-"],
    ["max runtime", d.max_runtime_s ? dur(d.max_runtime_s) + " (" + d.max_runtime_source + ")" : (d.kind === "timer" ? "- (" + d.max_runtime_source + ")" : "-")],
    ["restarts", d.restarts_in_window + " of " + d.restart_max + " per " + dur(d.restart_per_s) + (d.escalated ? " — ESCALATED" : "")],
    ["uptime 24h / 7d / 30d", ["24h", "7d", "30d"].map(k => d.uptime_pct[k] === null ? "-" : d.uptime_pct[k].toFixed(1) + "%").join(" / ")]];
  if (d.paused) facts.push(["paused", d.paused_until ? "until " + d.paused_until : "until resumed"]);
  if (d.running_since) facts.splice(1, 0, ["running since", ago(d.running_since) + " (" + d.running_since + ")"]);
  document.getElementById("d-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  drawTimeline(d.runs.slice().reverse());
  document.querySelector("#d-runs tbody").replaceChildren(...d.runs.map(r => {
    const tr = el("tr", {class: (r.failure ? "failed" : "") + (r.anomaly ? " anomaly" : ""), tabindex: "0", "data-run": r.id});
    const verdict = r.failure ? r.failure : r.result + (r.anomaly ? " · " + r.anomaly : "");
    [ago(r.ended_at), dur(r.duration_s), verdict, r.trigger].forEach(t => tr.append(el("td", {}, t)));
    tr.addEventListener("click", () => showRun(r.id));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") showRun(r.id); });
    return tr;
  }));
  if (reset || !shownRun) {
    const last = d.last_run;
    showOutput(last ? last : null);
  }
  document.getElementById("d-transitions").replaceChildren(...d.transitions.map(t =>
    el("li", {}, ago(t.at) + ": " + (t.from || "unknown") + " → " + t.to + " — " + t.reason)));
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

async function act(action) {
  if (!selected) return;
  let token = sessionStorage.getItem("missionctl-token");
  if (!token) {
    token = prompt("API token (kept for this browser session only)");
    if (!token) return;
    sessionStorage.setItem("missionctl-token", token);
  }
  const r = await fetch("/api/items/" + encodeURIComponent(selected) + "/" + action,
    {method: "POST", headers: {"Authorization": "Bearer " + token}});
  const body = await r.json();
  if (r.status === 401) sessionStorage.removeItem("missionctl-token");
  document.getElementById("d-result").textContent = action + ": " + (body.result || body.error);
  setTimeout(refresh, 300);
}

document.querySelectorAll(".actions button").forEach(b => b.addEventListener("click", () => act(b.dataset.action)));
document.getElementById("close").addEventListener("click", () => { selected = null; shownRun = null; document.getElementById("detail").hidden = true; });
refresh();
setInterval(refresh, 2000);
