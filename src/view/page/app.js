// srl view: the page shell. Routing (the URL hash names run, trajectory and step), the run
// selector, the virtualized trajectory list (only visible rows exist in the DOM; rows are
// fetched from the server a page at a time) and the keyboard.
"use strict";

const ROW_HEIGHT = 46;
const LIST_PAGE = 200;

const S = {
  runs: [],
  run: null,          // index of the current run
  list: null,         // {key, matched, total, rows: Map(position -> row), pending: Set(page)}
  trajectory: null,   // index (in the run) of the open trajectory
  position: -1,       // its position in the filtered list
  step: 0,
};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path) {
  const res = await fetch(path);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

function fmt(x, digits = 3) {
  if (x === null || x === undefined) return "–";
  if (typeof x !== "number") return String(x);
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

function showError(where, err) {
  where.replaceChildren(el("p", { class: "error" }, String(err.message || err)));
}

// ---- routing -------------------------------------------------------------------------------

function parseHash() {
  const [path, qs] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  const route = { query: new URLSearchParams(qs || "") };
  for (let i = 0; i + 1 < parts.length; i += 2) route[parts[i]] = parts[i + 1];
  if (parts.length % 2 === 1) route.view = parts[parts.length - 1];
  return route;
}

function go(hash, replace) {
  if (replace) history.replaceState(null, "", hash);
  else location.hash = hash;
  if (replace) route();
}

async function route() {
  const r = parseHash();
  if (!S.runs.length) return;
  let run = r.r === undefined ? 0 : Number(r.r);
  if (!(run >= 0 && run < S.runs.length)) run = 0;
  if (S.run !== run) selectRun(run);
  const info = S.runs[run];
  renderTabs(info, r);
  if (info.kind === "train") {
    document.body.classList.add("train");
    const view = r.view || "curves";
    if (view === "rollouts") return showRollouts(run, r.query);
    if (view === "eval") return showEvaluations(run);
    return showCurves(run);
  }
  document.body.classList.remove("train");
  if (r.t === undefined) {
    document.getElementById("main").replaceChildren(el("p", { class: "hint" }, `${info.trajectories} trajectories: pick one (J/K).`));
    return;
  }
  await openTrajectory(run, Number(r.t), r.s === undefined ? null : Number(r.s));
}

function renderTabs(info, r) {
  const nav = document.getElementById("run-tabs");
  if (info.kind !== "train") return nav.replaceChildren();
  const view = r.view || "curves";
  const tab = (name, label) => el("a", { href: `#/r/${info.idx}/${name}`, class: view === name ? "tab on" : "tab" }, label);
  nav.replaceChildren(tab("curves", "Curves"), tab("eval", "Evaluations"), tab("rollouts", `Rollouts (${info.groups || 0} groups)`));
}

// ---- runs ----------------------------------------------------------------------------------

async function loadRuns() {
  const body = await api("/api/runs");
  S.runs = body.runs;
  const select = document.getElementById("run-select");
  select.replaceChildren(...S.runs.map((run) =>
    el("option", { value: run.idx }, `${run.label} · ${run.kind}` + (run.kind === "train" ? "" : ` · ${run.trajectories}`))));
  const problems = document.getElementById("problems");
  if (body.problems.length) {
    problems.hidden = false;
    problems.replaceChildren(el("details", {}, el("summary", {}, `${body.problems.length} files or records could not be read`),
      el("pre", {}, body.problems.slice(0, 200).join("\n"))));
  }
  if (!S.runs.length) {
    document.getElementById("main").replaceChildren(el("p", { class: "error" }, "Nothing to show: no trajectories, reports or runs under the given paths."));
  }
}

function selectRun(run) {
  S.run = run;
  S.list = null;
  S.trajectory = null;
  T.run = null;
  T.idx = null;
  document.getElementById("run-select").value = String(run);
  if (S.runs[run].kind !== "train") resetList();
}

// ---- the virtualized list ------------------------------------------------------------------

function listKey() {
  return `${S.run}|${document.getElementById("filter").value}|${document.getElementById("outcome").value}`;
}

async function resetList() {
  const key = listKey();
  S.list = { key, matched: 0, total: 0, rows: new Map(), pending: new Set() };
  document.getElementById("list").scrollTop = 0;
  await fetchListPage(0);
  renderList();
  performance.mark("list");
}

async function fetchListPage(page) {
  const list = S.list;
  if (!list || list.pending.has(page)) return;
  list.pending.add(page);
  const q = encodeURIComponent(document.getElementById("filter").value);
  const outcome = encodeURIComponent(document.getElementById("outcome").value);
  const body = await api(`/api/runs/${S.run}/trajectories?offset=${page * LIST_PAGE}&limit=${LIST_PAGE}&q=${q}&outcome=${outcome}`);
  if (S.list !== list) return;
  list.matched = body.matched;
  list.total = body.total;
  body.items.forEach((item, i) => list.rows.set(page * LIST_PAGE + i, item));
  updateExitStatuses(body.exit_statuses);
  document.getElementById("count").textContent = `${body.matched} of ${body.total} trajectories`;
}

function updateExitStatuses(statuses) {
  const select = document.getElementById("outcome");
  if (select.dataset.run === String(S.run)) return;
  select.dataset.run = String(S.run);
  for (const option of [...select.options]) if (option.value.startsWith("exit:")) option.remove();
  for (const [status, n] of statuses) {
    if (status) select.append(el("option", { value: `exit:${status}` }, `exit: ${status} (${n})`));
  }
}

function badge(resolved) {
  if (resolved === true) return el("span", { class: "badge ok" }, "resolved");
  if (resolved === false) return el("span", { class: "badge bad" }, "unresolved");
  return el("span", { class: "badge none" }, "no report");
}

function renderList() {
  const list = S.list;
  const box = document.getElementById("list");
  const spacer = document.getElementById("list-spacer");
  if (!list) return;
  spacer.style.height = `${list.matched * ROW_HEIGHT}px`;
  const first = Math.max(0, Math.floor(box.scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(list.matched, first + Math.ceil(box.clientHeight / ROW_HEIGHT) + 10);
  for (const row of [...box.querySelectorAll(".traj-row")]) row.remove();
  for (let pos = first; pos < last; pos++) {
    const item = list.rows.get(pos);
    if (!item) {
      fetchListPage(Math.floor(pos / LIST_PAGE)).then(renderList).catch((e) => showError(document.getElementById("count"), e));
      continue;
    }
    const current = item.idx === S.trajectory;
    const row = el("a", {
      class: current ? "traj-row current" : "traj-row", href: `#/r/${S.run}/t/${item.idx}`,
      style: `top:${pos * ROW_HEIGHT}px`, "data-pos": pos, "data-idx": item.idx,
      onclick: () => { S.position = pos; },
    },
    el("span", { class: "row-id" }, item.instance_id || item.id),
    el("span", { class: "row-meta" }, `${item.steps} steps · ${item.exit_status || "no exit status"} `, badge(item.resolved)));
    box.append(row);
  }
}

async function moveTrajectory(delta) {
  const list = S.list;
  if (!list || !list.matched) return;
  let pos = S.position;
  if (pos < 0) for (const [p, item] of list.rows) if (item.idx === S.trajectory) pos = p;
  pos = Math.min(list.matched - 1, Math.max(0, pos < 0 ? 0 : pos + delta));
  if (!list.rows.has(pos)) await fetchListPage(Math.floor(pos / LIST_PAGE));
  const item = list.rows.get(pos);
  if (!item) return;
  S.position = pos;
  const box = document.getElementById("list");
  const top = pos * ROW_HEIGHT;
  if (top < box.scrollTop || top + ROW_HEIGHT > box.scrollTop + box.clientHeight) box.scrollTop = top - box.clientHeight / 2;
  location.hash = `#/r/${S.run}/t/${item.idx}`;
}

// ---- keyboard ------------------------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (typing) {
    if (e.key === "Escape" || e.key === "Enter") e.target.blur();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const train = S.runs[S.run] && S.runs[S.run].kind === "train";
  if (e.key === "/") { e.preventDefault(); document.getElementById("filter").focus(); }
  else if (train) return;
  else if (e.key === "j") moveStep(1);
  else if (e.key === "k") moveStep(-1);
  else if (e.key === "J") moveTrajectory(1);
  else if (e.key === "K") moveTrajectory(-1);
});

let filterTimer = null;
function onFilter() {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => { S.position = -1; resetList(); }, 120);
}

window.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("filter").addEventListener("input", onFilter);
  document.getElementById("outcome").addEventListener("change", onFilter);
  document.getElementById("list").addEventListener("scroll", () => requestAnimationFrame(renderList));
  window.addEventListener("resize", () => requestAnimationFrame(renderList));
  document.getElementById("run-select").addEventListener("change", (e) => { location.hash = `#/r/${e.target.value}`; });
  window.addEventListener("hashchange", () => route().catch((err) => showError(document.getElementById("main"), err)));
  try {
    await loadRuns();
    await route();
  } catch (err) {
    showError(document.getElementById("main"), err);
  }
});
