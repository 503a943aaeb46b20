// srl view: a training run. Curves drawn as SVG with axes, units, labels and legends (a click
// on a curve opens that step's groups), the held-out evaluation table, and the rollouts: each
// group as the expert's step beside its rollouts sorted by reward, each rollout's action diffed
// against the expert's, dropped groups marked, one step instance followed across training.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const GROUP_PAGE = 10;

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function niceTicks(lo, hi, n) {
  if (!(hi > lo)) { hi = lo + 1; lo = lo - 1; }
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

// series: [{label, key, dash, color}]; band: [lowKey, highKey] computed by `bandOf`.
function chart(run, metrics, spec) {
  const W = 520, H = 260, L = 64, R = 12, T = 30, B = 44;
  const points = spec.series.map((s) => metrics.filter((m) => typeof s.value(m) === "number").map((m) => [m.step, s.value(m)]));
  const all = points.flat();
  const box = el("figure", { class: "chart" });
  if (!all.length) {
    box.append(el("figcaption", {}, spec.title), el("p", { class: "hint" }, "no values in this run"));
    return box;
  }
  const xs = metrics.map((m) => m.step);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x1 === x0) x1 = x0 + 1;
  const ys = all.map((p) => p[1]).concat(spec.band ? metrics.flatMap((m) => spec.band(m) || []) : []);
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (spec.zero) y0 = Math.min(0, y0);
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const yt = niceTicks(y0, y1, 5);
  y0 = Math.min(y0, yt[0]); y1 = Math.max(y1, yt[yt.length - 1]);
  const sx = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const sy = (y) => H - B - (y - y0) / (y1 - y0) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "plot", role: "img", "aria-label": spec.title });
  root.append(svg("text", { x: L, y: 18, class: "title" }, spec.title));
  for (const v of yt) {
    root.append(svg("line", { x1: L, x2: W - R, y1: sy(v), y2: sy(v), class: "grid" }));
    root.append(svg("text", { x: L - 6, y: sy(v) + 4, class: "tick", "text-anchor": "end" }, fmt(v, 3).replace(/\.?0+$/, "") || "0"));
  }
  for (const v of niceTicks(x0, x1, 6).filter((v) => Number.isInteger(v))) {
    root.append(svg("line", { x1: sx(v), x2: sx(v), y1: H - B, y2: H - B + 4, class: "axis" }));
    root.append(svg("text", { x: sx(v), y: H - B + 16, class: "tick", "text-anchor": "middle" }, String(v)));
  }
  root.append(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
  root.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }));
  root.append(svg("text", { x: (L + W - R) / 2, y: H - 8, class: "axis-label", "text-anchor": "middle" }, "optimisation step"));
  root.append(svg("text", { x: 14, y: (T + H - B) / 2, class: "axis-label", "text-anchor": "middle", transform: `rotate(-90 14 ${(T + H - B) / 2})` }, spec.unit));
  if (spec.band) {
    const rows = metrics.filter((m) => spec.band(m));
    if (rows.length) {
      const upper = rows.map((m) => `${sx(m.step)},${sy(spec.band(m)[1])}`);
      const lower = rows.slice().reverse().map((m) => `${sx(m.step)},${sy(spec.band(m)[0])}`);
      root.append(svg("polygon", { points: upper.concat(lower).join(" "), class: "band", fill: spec.series[0].color }));
    }
  }
  spec.series.forEach((s, i) => {
    const pts = points[i];
    if (!pts.length) return;
    root.append(svg("polyline", { points: pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" "), class: "line", stroke: s.color, "stroke-dasharray": s.dash || "" }));
    const every = Math.max(1, Math.ceil(pts.length / 150));
    pts.filter((_, k) => k % every === 0).forEach(([x, y]) => {
      const dot = svg("circle", { cx: sx(x), cy: sy(y), r: 3, fill: s.color, class: "point", "data-step": x });
      dot.append(svg("title", {}, `step ${x}: ${s.label} ${fmt(y, 4)}`));
      root.append(dot);
    });
  });
  root.addEventListener("click", (e) => {
    const rect = root.getBoundingClientRect();
    const x = x0 + ((e.clientX - rect.left) * W / rect.width - L) / (W - L - R) * (x1 - x0);
    const step = xs.reduce((best, v) => Math.abs(v - x) < Math.abs(best - x) ? v : best, xs[0]);
    location.hash = `#/r/${run}/rollouts?step=${step}`;
  });
  const legend = el("div", { class: "legend" }, ...spec.series.map((s) =>
    el("span", {}, el("i", { style: `background:${s.color}` + (s.dash ? ";opacity:.6" : "") }), s.label)),
  spec.band ? el("span", {}, el("i", { class: "band-key", style: `background:${spec.series[0].color}` }), spec.bandLabel) : null);
  box.append(root, legend);
  return box;
}

const C = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"];
const CHARTS = [
  { title: "Reward per step", unit: "reward (−1 … 1)", band: (m) => typeof m.reward_std === "number" ? [m.reward_mean - m.reward_std, m.reward_mean + m.reward_std] : null, bandLabel: "mean ± std",
    series: [{ label: "reward mean", value: (m) => m.reward_mean, color: C[0] }, { label: "reward max", value: (m) => m.reward_max, color: C[1], dash: "4 3" }] },
  { title: "Format errors", unit: "fraction of rollouts", zero: true, series: [{ label: "format-error rate", value: (m) => m.format_error_rate, color: C[1] }] },
  { title: "Rewards by term", unit: "score (0 … 1)", zero: true, series: [
    { label: "similarity mean", value: (m) => m.similarity_mean, color: C[2] },
    { label: "execution reward mean", value: (m) => m.execution_reward_mean, color: C[3] }] },
  { title: "Dynamic sampling", unit: "fraction of groups kept", zero: true, series: [{ label: "kept-group ratio", value: (m) => m.kept_ratio, color: C[4] }] },
  { title: "Loss", unit: "loss (nats)", series: [{ label: "loss (sft: NLL per token; srl: clipped policy loss)", value: (m) => m.loss, color: C[0] }] },
  { title: "KL to the initial policy", unit: "KL (nats per token)", zero: true, series: [{ label: "KL (k3 estimate)", value: (m) => m.kl_to_initial, color: C[3] }] },
  { title: "Throughput", unit: "tokens / second", zero: true, series: [{ label: "tokens per second", value: (m) => m.tokens_per_second, color: C[2] }] },
];

async function showCurves(run) {
  const main = document.getElementById("main");
  main.replaceChildren(el("p", { class: "hint" }, "Loading…"));
  try {
    const body = await api(`/api/runs/${run}/metrics`);
    const stages = [...new Set(body.metrics.map((m) => m.stage))].join(", ");
    main.replaceChildren(
      el("h2", {}, `${S.runs[run].label}: ${body.metrics.length} steps (${stages || "none yet"})`),
      el("p", { class: "hint" }, "Click a curve to open the rollouts of the nearest step. Reload to pick up new steps."),
      el("div", { class: "charts" }, ...CHARTS.map((spec) => chart(run, body.metrics, spec))),
      evalTable(body.eval));
    main.dataset.ready = `curves/${run}`;
    performance.mark("curves");
  } catch (err) { showError(main, err); }
}

function evalTable(rows) {
  const table = el("table", { class: "eval" }, el("tr", {}, ...["when", "instances", "mean reward", "format-error rate", "mean similarity", "exact match rate", "seconds"].map((h) => el("th", {}, h))));
  for (const r of rows) {
    table.append(el("tr", {}, ...[r.label, r.instances, fmt(r.mean_reward), fmt(r.format_error_rate), fmt(r.mean_similarity), fmt(r.exact_match_rate), fmt(r.seconds, 1)].map((v) => el("td", {}, v))));
  }
  return el("section", { class: "block" }, el("h3", {}, "Held-out evaluation"), rows.length ? table : el("p", { class: "hint" }, "no evaluation yet"));
}

async function showEvaluations(run) {
  const main = document.getElementById("main");
  try {
    const body = await api(`/api/runs/${run}/metrics`);
    main.replaceChildren(evalTable(body.eval), body.config ? el("details", { class: "block" }, el("summary", {}, "config.toml"), el("pre", { class: "text" }, body.config)) : "");
  } catch (err) { showError(main, err); }
}

// A word-level diff (longest common subsequence), falling back to lines when too long.
function diffTokens(a, b) {
  let ta = a.split(/(\s+)/), tb = b.split(/(\s+)/);
  if (ta.length * tb.length > 4e6) { ta = a.split(/(\n)/); tb = b.split(/(\n)/); }
  if (ta.length * tb.length > 4e6) return [["del", a], ["ins", b]];
  const n = ta.length, m = tb.length;
  const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = ta[i] === tb[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && ta[i] === tb[j]) { out.push(["same", ta[i]]); i++; j++; }
    else if (j < m && (i === n || dp[i][j + 1] >= dp[i + 1][j])) { out.push(["ins", tb[j]]); j++; }
    else { out.push(["del", ta[i]]); i++; }
  }
  return out;
}

function renderActionDiff(expert, action) {
  if (action === null || action === undefined) return el("p", { class: "hint" }, "no parseable action (format error)");
  return el("pre", { class: "action-diff" }, ...diffTokens(expert, action).map(([kind, text]) => el("span", { class: kind }, text)));
}

function renderGroup(run, record) {
  const rollouts = record.rollouts.slice().sort((a, b) => b.reward - a.reward);
  const head = el("h3", {}, `step ${record.step} · group ${record.group} · round ${record.round} · `,
    el("a", { href: `#/r/${run}/rollouts?step_id=${encodeURIComponent(record.step_id)}` }, record.step_id), " ",
    record.kept ? el("span", { class: "badge ok" }, "kept") : el("span", { class: "badge bad" }, "dropped by dynamic sampling"));
  const cards = rollouts.map((r) => el("div", { class: "rollout" },
    el("div", { class: "scores" },
      el("b", { class: "reward" }, `reward ${r.reward.toFixed(3)}`),
      ` · similarity ${fmt(r.similarity)} · execution ${fmt(r.execution)} · advantage ${fmt(r.advantage)}` + (r.format_ok ? "" : " · format error")),
    el("div", { class: "label" }, "action vs the expert's (green: added, red: missing)"),
    renderActionDiff(record.expert_action, r.action),
    el("details", {}, el("summary", {}, `completion · ${r.completion_chars} characters`),
      el("pre", { class: "text" }, r.completion),
      r.truncated ? el("div", { class: "cut-marker" }, `✂ cut here by the trainer: ${[...r.completion].length} of ${r.completion_chars} characters kept (srl.log_rollout_chars)`) : "")));
  return el("section", { class: record.kept ? "group block" : "group block dropped" }, head,
    el("div", { class: "group-body" },
      el("div", { class: "expert" }, el("div", { class: "label" }, "expert action"), el("pre", { class: "action" }, record.expert_action)),
      el("div", { class: "rollouts" }, ...cards)));
}

async function showRollouts(run, query) {
  const main = document.getElementById("main");
  const params = new URLSearchParams(query);
  const offset = Number(params.get("offset") || 0);
  const link = (changes) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) { if (v === "" || v === null) p.delete(k); else p.set(k, v); }
    return `#/r/${run}/rollouts?${p}`;
  };
  try {
    const [body, ids] = await Promise.all([
      api(`/api/runs/${run}/groups?offset=${offset}&limit=${GROUP_PAGE}&step=${params.get("step") || ""}&step_id=${encodeURIComponent(params.get("step_id") || "")}&kept=${params.get("kept") || ""}`),
      api(`/api/runs/${run}/step_ids`)]);
    const stepInput = el("input", { type: "number", min: 0, value: params.get("step") || "", placeholder: "any step", id: "step-filter" });
    stepInput.addEventListener("change", () => { location.hash = link({ step: stepInput.value, offset: "" }); });
    const follow = el("select", { id: "follow" }, el("option", { value: "" }, "any step instance"),
      ...ids.items.map((s) => el("option", { value: s.step_id }, `${s.step_id} (${s.groups} groups, steps ${s.first_step}–${s.last_step})`)));
    follow.value = params.get("step_id") || "";
    follow.addEventListener("change", () => { location.hash = link({ step_id: follow.value, offset: "" }); });
    const kept = el("select", { id: "kept" }, ...["", "kept", "dropped"].map((v) => el("option", { value: v }, v || "kept and dropped")));
    kept.value = params.get("kept") || "";
    kept.addEventListener("change", () => { location.hash = link({ kept: kept.value, offset: "" }); });
    const pager = el("p", { class: "pager" },
      offset > 0 ? el("a", { href: link({ offset: Math.max(0, offset - GROUP_PAGE) }) }, "← previous") : "",
      ` groups ${body.matched ? offset + 1 : 0}–${offset + body.items.length} of ${body.matched} (${body.total} in the run) `,
      offset + GROUP_PAGE < body.matched ? el("a", { href: link({ offset: offset + GROUP_PAGE }) }, "next →") : "");
    main.replaceChildren(el("div", { class: "filters" }, "step ", stepInput, " follow ", follow, " ", kept), pager,
      ...body.items.map((item) => renderGroup(run, item.record)), body.items.length ? pager.cloneNode(true) : el("p", { class: "hint" }, "no groups match"));
    main.scrollTop = 0;
    main.dataset.ready = `rollouts/${run}`;
    performance.mark("rollouts");
  } catch (err) { showError(main, err); }
}
