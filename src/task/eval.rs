//! Evaluating predictions the way the SWE-bench harness does: for each instance, a fresh
//! sandbox at the base commit, the model patch applied (git apply, then reject mode, then
//! `patch --fuzz`), then the harness's eval script (`eval_script::test_plan`: test files reset,
//! test patch applied, the test command with its directives between markers, test files reset
//! again) run under a timeout, the marked section parsed with the spec's parser and graded. Per
//! instance it writes `patch.diff`, `apply.log`, `eval.sh`, `test_output.txt` and `report.json`
//! (SWE-bench's shape, keyed by instance id) under `<log dir>/<run id>/<model>/<instance>/`.
//!
//! Failures of the harness (no repository, the test patch does not apply, the tests time out or
//! print no results) are errors, kept apart from the model's unresolved instances, and leave no
//! `report.json`, so a rerun with the same run id retries exactly them and skips the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::build::TEST_OUTPUT_CAP;
use super::eval_script::{test_plan, TestPlan, START_MARKER};
use super::grade::{grade, Report};
use super::instance::Instance;
use super::log_parsers::layout::{extract, TestOutput};
use super::repos;
use super::spec::Specs;
use crate::sandbox::engine::{Engines, Lease};
use crate::sandbox::{Backend, ExecLimits, Sandbox};

/// One model prediction (SWE-bench's `preds.jsonl` record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub instance_id: String,
    #[serde(default)]
    pub model_name_or_path: String,
    #[serde(default)]
    pub model_patch: Option<String>,
}

/// Predictions from JSONL, a JSON list, or a JSON object keyed by instance id.
pub fn parse_predictions(text: &str, file: &str) -> Result<Vec<Prediction>, String> {
    let records: Vec<(String, Value)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            items.into_iter().enumerate().map(|(i, v)| (format!("record {}", i + 1), v)).collect()
        }
        Ok(Value::Object(map)) if !map.contains_key("instance_id") => map.into_iter().collect(),
        Ok(single) => vec![("record 1".to_string(), single)],
        Err(_) => {
            let mut records = Vec::new();
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let value =
                    serde_json::from_str(line).map_err(|e| format!("{file}: line {}: invalid JSON: {e}", n + 1))?;
                records.push((format!("line {}", n + 1), value));
            }
            records
        }
    };
    records
        .into_iter()
        .map(|(place, value)| serde_json::from_value(value).map_err(|e| format!("{file}: {place}: {e}")))
        .collect()
}

pub struct EvalOptions {
    pub run_id: String,
    pub repos: PathBuf,
    pub backend: Backend,
    pub image: String,
    pub timeout: Duration,
    pub workers: usize,
    pub log_dir: PathBuf,
    /// The SWE-bench spec table: test command, directives and log parser per repository and
    /// version (an instance's own `test_command` overrides it).
    pub specs: Specs,
    /// The instances' environment images.
    pub images: repos::InstanceImages,
    /// Docker engines to spread the sandboxes over (`None`: the default engine, no retries).
    pub engines: Option<Engines>,
}

/// How one instance ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Resolved,
    Unresolved,
    EmptyPatch,
    /// The harness failed; the reason says where. Not the model's fault.
    Error(String),
}

#[derive(Debug, Clone)]
pub struct InstanceResult {
    pub instance_id: String,
    pub status: Status,
    /// Wall time of the whole instance and of the test command alone.
    pub wall: Duration,
    pub tests: Duration,
    /// Finished in an earlier run with the same run id.
    pub reused: bool,
    /// Times it was started again on another engine because its engine stopped answering.
    pub retries: usize,
}

fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

pub fn instance_dir(options: &EvalOptions, model: &str, instance_id: &str) -> PathBuf {
    options.log_dir.join(safe_name(&options.run_id)).join(safe_name(model)).join(safe_name(instance_id))
}

/// Evaluates every prediction, `options.workers` at a time, calling `progress` after each.
pub async fn evaluate(
    instances: &[Instance],
    predictions: &[Prediction],
    options: &EvalOptions,
    progress: &mut dyn FnMut(&InstanceResult),
) -> Vec<InstanceResult> {
    let by_id: BTreeMap<&str, &Instance> = instances.iter().map(|i| (i.instance_id.as_str(), i)).collect();
    let closing = Closing::default();
    let closing = &closing;
    let running = tokio::sync::Semaphore::new(options.workers.max(1));
    let running = &running;
    let jobs = predictions.iter().map(|prediction| {
        let instance = by_id.get(prediction.instance_id.as_str()).copied();
        async move {
            let started = Instant::now();
            let outcome = match instance {
                Some(instance) => evaluate_on_engines(instance, prediction, options, closing, running).await,
                None => Err((anyhow::anyhow!("no instance {} in the instance file", prediction.instance_id), 0)),
            };
            let (status, tests, reused, retries) = match outcome {
                Ok(done) => done,
                Err((e, retries)) => (Status::Error(format!("{e:#}")), Duration::ZERO, false, retries),
            };
            InstanceResult {
                instance_id: prediction.instance_id.clone(),
                status,
                wall: started.elapsed(),
                tests,
                reused,
                retries,
            }
        }
    });
    // One instance more than there are workers is in flight: its sandbox starts while the
    // others run their tests, so container start-up is off the critical path.
    let mut stream = futures_util::stream::iter(jobs).buffer_unordered(options.workers.max(1) + 1);
    let mut results = Vec::with_capacity(predictions.len());
    while let Some(result) = stream.next().await {
        progress(&result);
        results.push(result);
    }
    drop(stream);
    let closing: Vec<_> = closing.lock().map(|mut handles| handles.drain(..).collect()).unwrap_or_default();
    for handle in closing {
        match handle.await {
            Ok(Err(e)) => tracing::warn!("cannot remove a sandbox: {e:#}"),
            Err(e) => tracing::warn!("sandbox removal task failed: {e}"),
            Ok(Ok(())) => {}
        }
    }
    results
}

/// Sandboxes being removed in the background: removal (~0.1 s for a container) is off every
/// instance's critical path, and `evaluate` waits for all of them before it returns.
type Closing = std::sync::Mutex<Vec<tokio::task::JoinHandle<Result<()>>>>;

/// [`evaluate_one`] on an engine of the run's pool. When it fails and its engine no longer
/// answers, the engine is marked lost and the instance starts over on another one (at most
/// [`crate::sandbox::engine::RETRIES_ON_LOST_ENGINE`] times); a failure on an engine that answers is the instance's own.
/// Returns the outcome and the number of retries.
async fn evaluate_on_engines(
    instance: &Instance,
    prediction: &Prediction,
    options: &EvalOptions,
    closing: &Closing,
    running: &tokio::sync::Semaphore,
) -> Result<(Status, Duration, bool, usize), (anyhow::Error, usize)> {
    let mut retries = 0;
    loop {
        let lease = match &options.engines {
            Some(pool) => Some(pool.acquire().await.map_err(|e| (e, retries))?),
            None => None,
        };
        let error = match evaluate_one(instance, prediction, options, closing, running, lease.as_ref()).await {
            Ok((status, tests, reused)) => return Ok((status, tests, reused, retries)),
            Err(error) => error,
        };
        let Some(lease) = lease else {
            return Err((error, retries));
        };
        if !lease.retry_elsewhere(retries).await {
            return Err((error, retries));
        }
        tracing::warn!(
            "{}: engine {} stopped answering ({error:#}); trying again on another engine",
            instance.instance_id,
            lease.engine().host
        );
        retries += 1;
    }
}

async fn evaluate_one(
    instance: &Instance,
    prediction: &Prediction,
    options: &EvalOptions,
    closing: &Closing,
    running: &tokio::sync::Semaphore,
    lease: Option<&Lease>,
) -> Result<(Status, Duration, bool)> {
    let dir = instance_dir(options, &prediction.model_name_or_path, &instance.instance_id);
    let report_path = dir.join("report.json");
    if report_path.is_file() {
        return Ok((status_of_saved(&report_path, &instance.instance_id)?, Duration::ZERO, true));
    }
    let patch = prediction.model_patch.clone().unwrap_or_default();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::atomic::write_file(&dir.join("patch.diff"), patch.as_bytes())?;
    if patch.trim().is_empty() {
        write_report(&report_path, &instance.instance_id, &Report::no_patch())?;
        return Ok((Status::EmptyPatch, Duration::ZERO, false));
    }
    let phase = Instant::now();
    let mut sandbox = repos::open_sandbox(
        instance,
        &options.repos,
        options.backend,
        &options.image,
        &options.images,
        &options.run_id,
        lease,
    )
    .await?;
    let open_time = phase.elapsed();
    let permit = running.acquire().await.context("the evaluation was shut down")?;
    let result = run_in_sandbox(&mut sandbox, instance, &patch, options, &dir).await;
    drop(permit);
    let run_time = phase.elapsed() - open_time;
    if let Ok(mut handles) = closing.lock() {
        handles.push(tokio::spawn(sandbox.close()));
    }
    tracing::debug!("{}: sandbox start {open_time:?}, patches + tests {run_time:?}", instance.instance_id);
    let (report, tests) = result?;
    write_report(&report_path, &instance.instance_id, &report)?;
    let status = if report.resolved { Status::Resolved } else { Status::Unresolved };
    Ok((status, tests, false))
}

async fn run_in_sandbox<S: Sandbox>(
    sandbox: &mut S,
    instance: &Instance,
    patch: &str,
    options: &EvalOptions,
    dir: &Path,
) -> Result<(Report, Duration)> {
    // The plan first: an instance that cannot be evaluated is an error before anything runs.
    let plan = test_plan(instance, &options.specs, sandbox.repo_dir()).map_err(anyhow::Error::msg)?;
    let applied = sandbox.apply_patch(patch).await?;
    crate::atomic::write_file(&dir.join("apply.log"), applied.log.as_bytes())?;
    if applied.method.is_none() {
        let mut report = grade(instance, &Default::default(), false);
        report.resolved = false;
        return Ok((report, Duration::ZERO));
    }
    test_and_grade(sandbox, instance, &plan, options.timeout, dir).await
}

/// Runs an evaluation's eval script on the sandbox's current files and grades the tests;
/// `eval.sh` and `test_output.txt` go to `dir`. Also the grading of `srl replay --grade` and RLVR.
pub async fn test_and_grade<S: Sandbox>(
    sandbox: &mut S,
    instance: &Instance,
    plan: &TestPlan,
    timeout: Duration,
    dir: &Path,
) -> Result<(Report, Duration)> {
    crate::atomic::write_file(&dir.join("eval.sh"), plan.script.as_bytes())?;
    let started = Instant::now();
    let observation = sandbox.exec(&plan.script, &ExecLimits::new(timeout, TEST_OUTPUT_CAP)).await?;
    let tests = started.elapsed();
    let log_path = dir.join("test_output.txt");
    crate::atomic::write_file(&log_path, observation.output.as_bytes())?;
    if observation.timed_out {
        bail!("the tests timed out after {} s (see {})", timeout.as_secs(), log_path.display());
    }
    if let Some(failure) = test_patch_failure(&observation.output) {
        bail!("the test patch does not apply after the model patch: {failure} (see {})", log_path.display());
    }
    let section = match extract(&observation.output) {
        TestOutput::Found(section) => section,
        _ => bail!("no test section between the eval script's markers (see {})", log_path.display()),
    };
    let parser = plan.parser.unwrap_or_else(|| super::log_parsers::detect(&section));
    let statuses = parser.parse(&section);
    if statuses.is_empty() {
        bail!("no test results in the test output (see {})", log_path.display());
    }
    Ok((grade(instance, &statuses, true), tests))
}

/// The first `error:` that `git apply -v` printed for the test patch in an eval script's log
/// (the script goes on after it, as the harness's does, so the log must be read).
fn test_patch_failure(log: &str) -> Option<&str> {
    let after_apply = log.split_once("+ git apply -v -")?.1;
    let before_tests = after_apply.split(START_MARKER).next().unwrap_or(after_apply);
    before_tests.lines().find(|line| line.starts_with("error:"))
}

fn write_report(path: &Path, instance_id: &str, report: &Report) -> Result<()> {
    let nested = serde_json::json!({ instance_id: report });
    crate::atomic::write_file(path, serde_json::to_string_pretty(&nested)?.as_bytes())
}

fn status_of_saved(path: &Path, instance_id: &str) -> Result<Status> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let report = &value[instance_id];
    Ok(match (report["patch_exists"].as_bool(), report["resolved"].as_bool()) {
        (Some(false), _) => Status::EmptyPatch,
        (_, Some(true)) => Status::Resolved,
        (_, Some(false)) => Status::Unresolved,
        _ => bail!("{} has no report for {instance_id}; delete it to rerun", path.display()),
    })
}

/// The run summary, with SWE-bench's fields (`<model>.<run_id>.json`).
pub fn summary(instances: &[Instance], predictions: &[Prediction], results: &[InstanceResult]) -> Value {
    let ids = |want: fn(&Status) -> bool| -> Vec<&str> {
        let mut ids: Vec<&str> = results.iter().filter(|r| want(&r.status)).map(|r| r.instance_id.as_str()).collect();
        ids.sort();
        ids
    };
    let resolved = ids(|s| *s == Status::Resolved);
    let unresolved = ids(|s| *s == Status::Unresolved);
    let empty = ids(|s| *s == Status::EmptyPatch);
    let errors = ids(|s| matches!(s, Status::Error(_)));
    let mut completed: Vec<&str> = resolved.iter().chain(&unresolved).copied().collect();
    completed.sort();
    let submitted: Vec<&str> = predictions.iter().map(|p| p.instance_id.as_str()).collect();
    let incomplete: Vec<&str> = instances
        .iter()
        .map(|i| i.instance_id.as_str())
        .filter(|id| !completed.contains(id) && !empty.contains(id))
        .collect();
    serde_json::json!({
        "total_instances": instances.len(),
        "submitted_instances": submitted.len(),
        "completed_instances": completed.len(),
        "resolved_instances": resolved.len(),
        "unresolved_instances": unresolved.len(),
        "empty_patch_instances": empty.len(),
        "error_instances": errors.len(),
        "completed_ids": completed,
        "incomplete_ids": incomplete,
        "empty_patch_ids": empty,
        "submitted_ids": submitted,
        "resolved_ids": resolved,
        "unresolved_ids": unresolved,
        "error_ids": errors,
        "schema_version": 2,
    })
}
