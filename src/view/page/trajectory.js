// srl view: one trajectory. The problem, then the steps (fetched a page at a time as the
// reader scrolls; thought, canonical action, observation folded when long with an explicit
// cut marker), then the submission and gold patch as rendered diffs and the eval report.
"use strict";

const STEP_PAGE = 40;
const T = { run: null, idx: null, total: 0, loaded: 0, loading: null, observer: null };

function cutText(cut, fetchFull) {
  // `cut` is {text, cut, chars}; a cut text ends with a marker and a button for the rest.
  const pre = el("pre", { class: "text" }, cut.text);
  if (!cut.cut) return pre;
  const shown = [...cut.text].length;
  const marker = el("div", { class: "cut-marker" },
    `✂ cut here: ${shown.toLocaleString()} of ${cut.chars.toLocaleString()} characters shown `,
    el("button", { onclick: async (e) => {
      e.target.disabled = true;
      try {
        const body = await fetchFull();
        pre.textContent = body.text;
        marker.replaceChildren(`all ${cut.chars.toLocaleString()} characters shown`);
      } catch (err) { showError(marker, err); }
    } }, "show all"));
  return el("div", {}, pre, marker);
}

function renderDiff(text, title) {
  if (!text) return el("section", { class: "block" }, el("h3", {}, title), el("p", { class: "hint" }, "none"));
  const pre = el("pre", { class: "diff" });
  for (const line of text.split("\n")) {
    let cls = "ctx";
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ") || line.startsWith("index ")) cls = "file";
    else if (line.startsWith("+")) cls = "add";
    else if (line.startsWith("-")) cls = "del";
    else if (line.startsWith("@@")) cls = "hunk";
    pre.append(el("span", { class: cls }, line + "\n"));
  }
  const added = text.split("\n").filter((l) => l.startsWith("+") && !l.startsWith("+++")).length;
  const removed = text.split("\n").filter((l) => l.startsWith("-") && !l.startsWith("---")).length;
  return el("section", { class: "block" }, el("h3", {}, `${title} `, el("span", { class: "add-count" }, `+${added}`), " ", el("span", { class: "del-count" }, `−${removed}`)), pre);
}

function renderReport(report, gold) {
  const box = el("section", { class: "block report" }, el("h3", {}, "Evaluation report"));
  if (!report) {
    box.append(el("p", { class: "hint" }, "no report.json found for this instance"));
    return box;
  }
  box.append(el("p", {}, badge(report.resolved),
    ` patch ${report.patch_exists ? "exists" : "missing"}, ${report.patch_successfully_applied ? "applied" : "did not apply"}`));
  const status = report.tests_status || {};
  const table = el("table", { class: "tests" }, el("tr", {}, el("th", {}, "list"), el("th", {}, "test"), el("th", {}, "status")));
  for (const list of ["FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL"]) {
    const lists = status[list] || { success: [], failure: [] };
    for (const t of lists.failure) table.append(el("tr", { class: "fail" }, el("td", {}, list), el("td", {}, t), el("td", {}, "FAILED")));
    for (const t of lists.success) table.append(el("tr", { class: "pass" }, el("td", {}, list), el("td", {}, t), el("td", {}, "PASSED")));
  }
  if (table.rows.length > 1) box.append(table);
  else if (gold && gold.FAIL_TO_PASS) box.append(el("p", { class: "hint" }, `no test statuses (tests: ${gold.FAIL_TO_PASS.length} FAIL_TO_PASS)`));
  return box;
}

function renderStep(run, idx, step) {
  const section = el("section", { class: "step", id: `step-${step.k}`, "data-k": step.k },
    el("h3", { onclick: () => selectStep(step.k, true) },
      el("a", { href: `#/r/${run}/t/${idx}/s/${step.k}`, class: "step-link" }, `Step ${step.k + 1}`),
      ` · ${step.tool}` + (step.exit_code === null || step.exit_code === undefined ? "" : ` · exit ${step.exit_code}`)));
  if (step.thought) section.append(el("div", { class: "label" }, "thought"), el("pre", { class: "thought" }, step.thought));
  const rejected = Array.isArray(step.rejected_replies) ? step.rejected_replies : [];
  if (rejected.length) {
    section.append(el("details", { class: "rejected" }, el("summary", {}, `${rejected.length} rejected replies (format)`),
      ...rejected.map((r) => el("div", {}, el("div", { class: "label" }, r.reason || ""), el("pre", { class: "text" }, r.text || "")))));
  }
  section.append(el("div", { class: "label" }, "action"), el("pre", { class: "action" }, step.action_text));
  const obs = step.observation;
  const body = cutText(obs, () => api(`/api/runs/${run}/trajectories/${idx}/text/${step.k}`));
  const long = obs.cut || obs.text.split("\n").length > 30;
  section.append(el("details", { class: "observation", open: long ? null : "" },
    el("summary", {}, `observation · ${obs.chars.toLocaleString()} characters` + (long ? " (folded)" : "")), body));
  return section;
}

async function loadSteps() {
  if (T.loading || T.loaded >= T.total) return T.loading;
  const [run, idx] = [T.run, T.idx];
  T.loading = (async () => {
    const body = await api(`/api/runs/${run}/trajectories/${idx}/steps?offset=${T.loaded}&limit=${STEP_PAGE}`);
    if (T.run !== run || T.idx !== idx) return;
    const box = document.getElementById("steps");
    for (const step of body.items) box.append(renderStep(run, idx, step));
    T.loaded += body.items.length;
    document.getElementById("steps-more").textContent = T.loaded < T.total ? `${T.loaded} of ${T.total} steps loaded…` : "";
  })().finally(() => { T.loading = null; });
  return T.loading;
}

// `step` null opens the trajectory at its top (step 0 selected, nothing scrolled).
async function openTrajectory(run, idx, step) {
  S.step = step === null ? 0 : step;
  if (T.run === run && T.idx === idx) return step === null ? null : selectStep(step, false);
  S.trajectory = idx;
  renderList();
  const main = document.getElementById("main");
  main.replaceChildren(el("p", { class: "hint" }, "Loading…"));
  let t;
  try {
    t = await api(`/api/runs/${run}/trajectories/${idx}`);
  } catch (err) { return showError(main, err); }
  Object.assign(T, { run, idx, total: t.steps, loaded: 0, loading: null });
  if (T.observer) T.observer.disconnect();
  const usage = t.usage ? ` · ${t.usage.model_calls} model calls · ${t.usage.prompt_tokens + t.usage.completion_tokens} tokens · ${t.usage.format_errors} format errors` : "";
  const header = el("section", { class: "block head" },
    el("h2", { id: "traj-title" }, t.instance_id || t.id),
    el("p", {}, badge(t.report ? t.report.resolved : null), ` ${t.steps} steps · exit status: ${t.exit_status || "–"}${usage}`),
    el("p", { class: "hint" }, `${t.id} · ${t.source_format || "report"} · ${t.source}`));
  const problem = el("details", { class: "block problem", open: "" }, el("summary", {}, "Problem statement"),
    cutText(t.problem_statement, () => api(`/api/runs/${run}/trajectories/${idx}/text/problem`)));
  const steps = el("div", { id: "steps" });
  const more = el("p", { id: "steps-more", class: "hint" });
  const tail = el("div", { id: "traj-tail" },
    renderDiff(t.submission, "Submission"),
    renderDiff(t.gold && t.gold.patch, "Gold patch"),
    renderReport(t.report, t.gold));
  main.replaceChildren(header, problem, steps, more, tail);
  main.scrollTop = 0;
  T.observer = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) loadSteps(); }, { root: main, rootMargin: "600px" });
  T.observer.observe(more);
  await loadSteps();
  document.getElementById("main").dataset.ready = `${run}/${idx}`;
  performance.mark("first-step");
  if (step === null) document.getElementById("step-0")?.classList.add("current");
  else selectStep(step, false);
}

async function selectStep(k, updateUrl) {
  if (T.total === 0) return;
  k = Math.max(0, Math.min(T.total - 1, k));
  while (T.loaded <= k && T.loaded < T.total) await loadSteps();
  S.step = k;
  for (const node of document.querySelectorAll(".step.current")) node.classList.remove("current");
  const node = document.getElementById(`step-${k}`);
  if (!node) return;
  node.classList.add("current");
  node.scrollIntoView({ block: "start" });
  if (updateUrl) history.replaceState(null, "", `#/r/${T.run}/t/${T.idx}/s/${k}`);
}

function moveStep(delta) {
  if (T.idx === null) return;
  selectStep(S.step + delta, true);
}
