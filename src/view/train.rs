//! The JSON of a training run: its metrics and evaluation lines (read whole: one short line per
//! step), and the groups of `rollouts.jsonl`, paged and filtered through the catalog's line
//! index so a run with 10,000 rollouts is never read whole.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::api::{run_of, ApiError, Query};
use super::catalog::Catalog;
use crate::action::{parse_completion_action, render};

/// The records of a small JSONL file; a line that is not JSON is reported, not fatal.
fn read_lines(path: &Path, problems: &mut Vec<String>) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str(line) {
            Ok(value) => out.push(value),
            // A half-written last line of a running job is expected, not a problem.
            Err(_) if n + 1 == text.lines().count() && !text.ends_with('\n') => {}
            Err(e) => problems.push(format!("{}: line {}: invalid JSON: {e}", path.display(), n + 1)),
        }
    }
    out
}

pub fn metrics(catalog: &Catalog, run_idx: usize) -> Result<Value, ApiError> {
    let run = run_of(catalog, run_idx)?;
    let mut problems = Vec::new();
    let metrics = read_lines(&run.path.join("metrics.jsonl"), &mut problems);
    let eval = read_lines(&run.path.join("eval.jsonl"), &mut problems);
    let config = std::fs::read_to_string(run.path.join("config.toml")).ok();
    Ok(json!({"metrics": metrics, "eval": eval, "config": config, "problems": problems}))
}

/// `step` (a global step) or `step_id` (a step instance followed across training) narrow the
/// groups; `offset`/`limit` page them.
pub fn groups(catalog: &Catalog, run_idx: usize, query: &Query) -> Result<Value, ApiError> {
    let run = run_of(catalog, run_idx)?;
    let Some(index) = &run.rollouts else { return Ok(json!({"total": 0, "matched": 0, "items": []})) };
    let parse = |key: &str| -> Result<Option<usize>, ApiError> {
        query
            .get(key)
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().map_err(|_| ApiError::BadRequest(format!("{key}={v:?} is not a number"))))
            .transpose()
    };
    let (offset, limit) = (parse("offset")?.unwrap_or(0), parse("limit")?.unwrap_or(20).min(200));
    let step = parse("step")?;
    let step_id = query.get("step_id").filter(|v| !v.is_empty());
    let kept = query.get("kept").map(String::as_str);
    let matched: Vec<_> = index
        .iter()
        .filter(|e| step.is_none_or(|s| e.summary.step == s))
        .filter(|e| step_id.is_none_or(|id| &e.summary.step_id == id))
        .filter(|e| match kept {
            Some("kept") => e.summary.kept,
            Some("dropped") => !e.summary.kept,
            _ => true,
        })
        .collect();
    let mut items = Vec::new();
    for entry in matched.iter().skip(offset).take(limit) {
        let bytes = index.read(entry)?;
        let mut record: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::BadRequest(format!("{}: line {}: invalid JSON: {e}", index.path.display(), entry.line))
        })?;
        add_actions(&mut record);
        items.push(json!({"line": entry.line, "record": record}));
    }
    Ok(json!({"total": index.len(), "matched": matched.len(), "offset": offset, "items": items}))
}

/// Each rollout's action in canonical text (`action`, null when the completion has none), the
/// form the reward compared with the expert's and the page diffs against it.
fn add_actions(record: &mut Value) {
    let Some(rollouts) = record.get_mut("rollouts").and_then(Value::as_array_mut) else { return };
    for rollout in rollouts {
        let completion = rollout.get("completion").and_then(Value::as_str).unwrap_or("");
        let action = parse_completion_action(completion).ok().map(|a| render(&a));
        rollout["action"] = json!(action);
    }
}

/// Every step instance that has groups, with how often and when it was sampled.
pub fn step_ids(catalog: &Catalog, run_idx: usize) -> Result<Value, ApiError> {
    let run = run_of(catalog, run_idx)?;
    let mut seen: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for entry in run.rollouts.iter().flat_map(|index| index.iter()) {
        let s = &entry.summary;
        let slot = seen.entry(&s.step_id).or_insert((0, s.step, s.step));
        slot.0 += 1;
        slot.1 = slot.1.min(s.step);
        slot.2 = slot.2.max(s.step);
    }
    let items: Vec<Value> = seen
        .into_iter()
        .map(|(id, (groups, first, last))| json!({"step_id": id, "groups": groups, "first_step": first, "last_step": last}))
        .collect();
    Ok(json!({"items": items}))
}
