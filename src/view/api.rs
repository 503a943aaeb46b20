//! The JSON the page asks for (`/api/...`), built from the catalog. Lists are filtered and
//! paged here, so the page only ever holds what it shows; long texts are cut to a head with an
//! explicit marker (`cut`, the full length) and the full text has its own address.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::catalog::{Catalog, Run, RunKind, Source, TrajSummary};
use crate::trajectory::read::{decode_file, trajectory_of};
use crate::trajectory::Trajectory;

/// Characters of a long text sent before the cut marker.
const PROBLEM_CHARS: usize = 20_000;
const OBSERVATION_CHARS: usize = 3_000;
const MAX_PAGE: usize = 500;

#[derive(Debug)]
pub enum ApiError {
    NotFound(String),
    BadRequest(String),
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

pub type Query = HashMap<String, String>;

fn number(query: &Query, key: &str, default: usize) -> Result<usize, ApiError> {
    match query.get(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ApiError::BadRequest(format!("query parameter {key}={v:?} is not a number"))),
    }
}

fn page(query: &Query) -> Result<(usize, usize), ApiError> {
    Ok((number(query, "offset", 0)?, number(query, "limit", 100)?.min(MAX_PAGE)))
}

/// `text` cut to its first `max` characters, with what the marker needs.
fn cut(text: &str, max: usize) -> Value {
    let total = text.chars().count();
    match text.char_indices().nth(max) {
        Some((end, _)) => json!({"text": &text[..end], "cut": true, "chars": total}),
        None => json!({"text": text, "cut": false, "chars": total}),
    }
}

pub fn run_of(catalog: &Catalog, run: usize) -> Result<&Run, ApiError> {
    catalog.runs.get(run).ok_or_else(|| ApiError::NotFound(format!("no run {run} (there are {})", catalog.runs.len())))
}

pub fn runs(catalog: &Catalog) -> Value {
    let runs: Vec<Value> = catalog
        .runs
        .iter()
        .enumerate()
        .map(|(idx, run)| {
            let trajectories = match run.kind {
                RunKind::Eval => run.reports.len(),
                _ => catalog.trajectories(run).len(),
            };
            json!({
                "idx": idx, "label": run.label, "kind": run.kind.name(), "path": run.path,
                "trajectories": trajectories, "reports": run.reports.len(),
                "groups": run.rollouts.as_ref().map(|r| r.len()),
            })
        })
        .collect();
    json!({"runs": runs, "problems": catalog.problems})
}

/// The list rows of a run: (summary, resolved).
fn rows(catalog: &Catalog, run: &Run) -> Vec<(TrajSummary, Option<bool>)> {
    let resolved = |id: Option<&str>| catalog.report(run, id).and_then(|r| r.get("resolved")).and_then(Value::as_bool);
    if run.kind == RunKind::Eval {
        return run
            .reports
            .keys()
            .map(|id| {
                let summary =
                    TrajSummary { id: id.clone(), instance_id: Some(id.clone()), n_steps: 0, exit_status: None };
                (summary, resolved(Some(id)))
            })
            .collect();
    }
    catalog
        .trajectories(run)
        .into_iter()
        .map(|(_, _, s)| {
            let r = resolved(s.instance_id.as_deref());
            (s, r)
        })
        .collect()
}

/// `q`: words that must all appear in the id, instance id or exit status; `outcome`:
/// `resolved`, `unresolved`, `unknown` (no report) or `exit:<status>`.
pub fn trajectory_list(catalog: &Catalog, run_idx: usize, query: &Query) -> Result<Value, ApiError> {
    let run = run_of(catalog, run_idx)?;
    let (offset, limit) = page(query)?;
    let words: Vec<String> =
        query.get("q").map(|q| q.to_lowercase()).unwrap_or_default().split_whitespace().map(String::from).collect();
    let outcome = query.get("outcome").map(String::as_str).unwrap_or("all");
    let all = rows(catalog, run);
    let mut exit_statuses: HashMap<String, usize> = HashMap::new();
    let mut matched = Vec::new();
    for (idx, (summary, resolved)) in all.iter().enumerate() {
        let status = summary.exit_status.clone().unwrap_or_default();
        *exit_statuses.entry(status.clone()).or_default() += 1;
        let haystack =
            format!("{} {} {}", summary.id, summary.instance_id.as_deref().unwrap_or(""), status).to_lowercase();
        let outcome_ok = match outcome {
            "resolved" => *resolved == Some(true),
            "unresolved" => *resolved == Some(false),
            "unknown" => resolved.is_none(),
            other => other.strip_prefix("exit:").is_none_or(|s| s == status),
        };
        if outcome_ok && words.iter().all(|w| haystack.contains(w.as_str())) {
            matched.push(idx);
        }
    }
    let items: Vec<Value> = matched
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&idx| {
            let (s, resolved) = &all[idx];
            json!({"idx": idx, "id": s.id, "instance_id": s.instance_id, "steps": s.n_steps,
                   "exit_status": s.exit_status, "resolved": resolved})
        })
        .collect();
    let mut statuses: Vec<(String, usize)> = exit_statuses.into_iter().collect();
    statuses.sort();
    Ok(
        json!({"total": all.len(), "matched": matched.len(), "offset": offset, "items": items, "exit_statuses": statuses}),
    )
}

/// One trajectory read again from its file, with each step's `rejected_replies` from the raw
/// record (a field newer than this build's `Step`).
fn load(catalog: &Catalog, run: &Run, idx: usize) -> Result<(Trajectory, Vec<Value>), ApiError> {
    let not_found = || ApiError::NotFound(format!("run {} has no trajectory {idx}", run.label));
    let (source_idx, position, _) = catalog.trajectories(run).into_iter().nth(idx).ok_or_else(not_found)?;
    let path = &run.sources[source_idx];
    let (value, record) = match catalog.sources.get(path).ok_or_else(not_found)? {
        Source::Jsonl(index) => {
            let entry = index.get(position).ok_or_else(not_found)?;
            let bytes = index.read(entry)?;
            let value = serde_json::from_slice::<Value>(&bytes).map_err(|e| {
                ApiError::BadRequest(format!("{}: line {}: invalid JSON: {e}", path.display(), entry.line))
            })?;
            (value, Some(entry.line))
        }
        Source::Document { path, records } => {
            let record = records.get(position).ok_or_else(not_found)?.0;
            let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let value =
                decode_file(path, &bytes).map_err(|r| ApiError::BadRequest(format!("{}: {r}", path.display())))?;
            match record {
                Some(n) => (value.get(n - 1).cloned().ok_or_else(not_found)?, Some(n)),
                None => (value, None),
            }
        }
    };
    let rejected: Vec<Value> = match value.get("steps").and_then(Value::as_array) {
        Some(steps) => steps.iter().map(|s| s.get("rejected_replies").cloned().unwrap_or(Value::Null)).collect(),
        None => Vec::new(),
    };
    let place = format!("{}{}", path.display(), record.map(|n| format!(": record {n}")).unwrap_or_default());
    match trajectory_of(path, value, record) {
        Ok(Some(trajectory)) => Ok((trajectory, rejected)),
        Ok(None) => Err(ApiError::BadRequest(format!("{place}: no longer a trajectory"))),
        Err(reason) => Err(ApiError::BadRequest(format!("{place}: {reason}"))),
    }
}

/// The gold patch and test lists of an instance, when a task instance was found.
fn gold(catalog: &Catalog, instance_id: Option<&str>) -> Value {
    let Some(instance) = instance_id.and_then(|id| catalog.instances.get(id)) else { return Value::Null };
    let list = |key: &str| match instance.get(key) {
        Some(Value::String(text)) => serde_json::from_str::<Value>(text).unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    json!({"patch": instance.get("patch"), "FAIL_TO_PASS": list("FAIL_TO_PASS"), "PASS_TO_PASS": list("PASS_TO_PASS")})
}

pub fn trajectory(catalog: &Catalog, run_idx: usize, idx: usize) -> Result<Value, ApiError> {
    let run = run_of(catalog, run_idx)?;
    if run.kind == RunKind::Eval {
        let (id, (path, report)) =
            run.reports.iter().nth(idx).ok_or_else(|| ApiError::NotFound(format!("no instance {idx}")))?;
        let patch = path.parent().map(|dir| dir.join("patch.diff")).and_then(|p| std::fs::read_to_string(p).ok());
        return Ok(json!({"idx": idx, "id": id, "instance_id": id, "source": path, "steps": 0,
            "problem_statement": cut("", PROBLEM_CHARS), "submission": patch, "report": report,
            "gold": gold(catalog, Some(id))}));
    }
    let (trajectory, _) = load(catalog, run, idx)?;
    let instance_id = trajectory.instance_id.as_deref();
    Ok(json!({
        "idx": idx, "id": trajectory.id, "instance_id": trajectory.instance_id, "source": trajectory.source,
        "source_format": trajectory.source_format, "exit_status": trajectory.exit_status,
        "steps": trajectory.steps.len(), "usage": trajectory.usage,
        "problem_statement": cut(&trajectory.problem_statement, PROBLEM_CHARS),
        "submission": trajectory.submission, "report": catalog.report(run, instance_id),
        "gold": gold(catalog, instance_id),
    }))
}

pub fn steps(catalog: &Catalog, run_idx: usize, idx: usize, query: &Query) -> Result<Value, ApiError> {
    let run = run_of(catalog, run_idx)?;
    if run.kind == RunKind::Eval {
        return Ok(json!({"total": 0, "offset": 0, "items": []}));
    }
    let (offset, limit) = page(query)?;
    let (trajectory, rejected) = load(catalog, run, idx)?;
    let items: Vec<Value> = trajectory
        .steps
        .iter()
        .enumerate()
        .skip(offset)
        .take(limit)
        .map(|(k, step)| {
            json!({"k": k, "thought": step.thought, "tool": step.action.tool, "action_text": step.action_text,
                   "observation": cut(&step.observation, OBSERVATION_CHARS), "exit_code": step.exit_code,
                   "usage": step.usage, "rejected_replies": rejected.get(k).cloned().unwrap_or(Value::Null)})
        })
        .collect();
    Ok(json!({"total": trajectory.steps.len(), "offset": offset, "items": items}))
}

/// The whole observation of step `k`, or the whole problem statement (`k` = `problem`).
pub fn full_text(catalog: &Catalog, run_idx: usize, idx: usize, what: &str) -> Result<Value, ApiError> {
    let run = run_of(catalog, run_idx)?;
    let (trajectory, _) = load(catalog, run, idx)?;
    if what == "problem" {
        return Ok(json!({"text": trajectory.problem_statement}));
    }
    let k: usize = what.parse().map_err(|_| ApiError::BadRequest(format!("{what:?} is not a step number")))?;
    let step = trajectory.steps.get(k).ok_or_else(|| ApiError::NotFound(format!("no step {k}")))?;
    Ok(json!({"text": step.observation}))
}
