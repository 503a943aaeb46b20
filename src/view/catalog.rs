//! What the paths given to `srl view` hold, found by walking them: *runs* and their files.
//!
//! - a folder with `metrics.jsonl` is a training run (`rollouts.jsonl`, `eval.jsonl` beside it);
//! - a folder with `trajectories.jsonl` and `preds.jsonl` is an `srl agent` output folder: that
//!   file is its trajectories (its `trajs/*.traj` repeat them) and the `report.json` files of its
//!   `eval/` grade them;
//! - everything else below a given path is one run named after that path: every trajectory file
//!   in any format `srl import` reads, SWE-bench `report.json` files (an `srl eval` run folder:
//!   with no trajectories, its reports are the run), and task instances (`instance.json`), whose
//!   gold patch and test lists are shown beside a trajectory of the same instance.
//!
//! A rescan keeps the line indexes of files already seen, so reloading the page is cheap and
//! picks up what a running `srl train` or `srl agent` appended.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::Value;

use super::lines::{LineIndex, Summary};
use crate::trajectory::detect::sniff;
use crate::trajectory::read::{decode_file, trajectory_of};
use crate::trajectory::{Trajectory, SCHEMA};

/// Folders never entered: version control, build outputs, checkpoints (weights, not text).
const SKIPPED_DIRS: [&str; 5] = [".git", "target", "node_modules", "checkpoint", "state"];
const DOCUMENT_EXTENSIONS: [&str; 4] = ["traj", "json", "yaml", "yml"];
/// Whole-document files larger than this are not decoded (a trajectory that large is JSONL).
const MAX_DOCUMENT_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct TrajSummary {
    pub id: String,
    pub instance_id: Option<String>,
    pub n_steps: usize,
    pub exit_status: Option<String>,
}

impl TrajSummary {
    fn of(trajectory: &Trajectory) -> TrajSummary {
        TrajSummary {
            id: trajectory.id.clone(),
            instance_id: trajectory.instance_id.clone(),
            n_steps: trajectory.steps.len(),
            exit_status: trajectory.exit_status.clone(),
        }
    }
}

/// One line of `rollouts.jsonl`, as far as lists need it.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupSummary {
    pub step: usize,
    pub step_id: String,
    pub kept: bool,
}

pub enum Source {
    Jsonl(LineIndex<TrajSummary>),
    /// A whole JSON/YAML document: one trajectory, or a list of them (`record` is 1-based).
    Document {
        path: PathBuf,
        records: Vec<(Option<usize>, TrajSummary)>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RunKind {
    Trajectories,
    Agent,
    Eval,
    Train,
}

impl RunKind {
    pub fn name(self) -> &'static str {
        match self {
            RunKind::Trajectories => "trajectories",
            RunKind::Agent => "agent",
            RunKind::Eval => "eval",
            RunKind::Train => "train",
        }
    }
}

pub struct Run {
    pub label: String,
    pub path: PathBuf,
    pub kind: RunKind,
    /// Trajectory files, in path order.
    pub sources: Vec<PathBuf>,
    /// SWE-bench reports found in the run's folder, by instance id, with the report's path.
    pub reports: BTreeMap<String, (PathBuf, Value)>,
    pub rollouts: Option<LineIndex<GroupSummary>>,
}

#[derive(Default)]
pub struct Catalog {
    pub runs: Vec<Run>,
    /// Every trajectory file seen, by path (kept across rescans).
    pub sources: HashMap<PathBuf, Source>,
    /// Reports from every given path, for runs whose own folder holds none.
    pub reports: HashMap<String, Value>,
    /// Task instances by id: gold patch, FAIL_TO_PASS, PASS_TO_PASS.
    pub instances: HashMap<String, Value>,
    pub problems: Vec<String>,
}

/// What a walk found below one given path.
#[derive(Default)]
struct Found {
    train_dirs: Vec<PathBuf>,
    agent_dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

fn walk(dir: &Path, found: &mut Found) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    if entries.iter().any(|p| p.file_name().is_some_and(|n| n == "metrics.jsonl")) {
        found.train_dirs.push(dir.to_path_buf());
        return Ok(());
    }
    let has = |name: &str| entries.iter().any(|p| p.file_name().is_some_and(|n| n == name));
    // An `srl agent` folder: its `trajs/` repeat `trajectories.jsonl`, its `eval/` grades them.
    let agent = has("trajectories.jsonl") && has("preds.jsonl");
    if agent {
        found.agent_dirs.push(dir.to_path_buf());
    }
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            let owned_by_agent = agent && (name == "trajs" || name == "eval");
            if !SKIPPED_DIRS.contains(&name.as_str()) && !owned_by_agent {
                walk(&path, found)?;
            }
        } else if agent {
            continue;
        } else if ["jsonl"].iter().chain(&DOCUMENT_EXTENSIONS).any(|e| name.ends_with(&format!(".{e}"))) {
            found.files.push(path);
        }
    }
    Ok(())
}

/// Every `report.json` below `dir`.
fn report_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            report_files(&path, out);
        } else if path.file_name().is_some_and(|n| n == "report.json") {
            out.push(path);
        }
    }
}

/// A SWE-bench report, if `value` is one: nested under the instance id as the harness writes
/// it, or flat (some runs' logs), where the folder `<instance id>/report.json` names it.
fn as_report(file: &Path, value: &Value) -> Option<(String, Value)> {
    let map = value.as_object()?;
    if map.get("resolved").is_some_and(Value::is_boolean) {
        let id = file.parent()?.file_name()?.to_string_lossy().into_owned();
        return Some((id, value.clone()));
    }
    let (id, report) = map.iter().next().filter(|_| map.len() == 1)?;
    report.get("resolved")?.as_bool()?;
    Some((id.clone(), report.clone()))
}

fn summarize_jsonl(path: &Path, line: usize, first: bool, bytes: &[u8]) -> Summary<TrajSummary> {
    #[derive(Deserialize)]
    struct Head {
        schema: String,
        id: String,
        instance_id: Option<String>,
        exit_status: Option<String>,
        steps: Vec<serde::de::IgnoredAny>,
    }
    // The normalized format is read without building its steps: the fast path for big files.
    if let Ok(head) = serde_json::from_slice::<Head>(bytes) {
        if head.schema == SCHEMA {
            let n_steps = head.steps.len();
            let summary =
                TrajSummary { id: head.id, instance_id: head.instance_id, n_steps, exit_status: head.exit_status };
            return Summary::Record(summary);
        }
    }
    let value = match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => value,
        Err(e) => return Summary::Problem(format!("invalid JSON: {e}")),
    };
    match trajectory_of(path, value, Some(line)) {
        Ok(Some(trajectory)) => Summary::Record(TrajSummary::of(&trajectory)),
        Ok(None) if first => Summary::NotThisKind,
        Ok(None) => Summary::Problem("not a trajectory in any known format".into()),
        Err(reason) => Summary::Problem(reason),
    }
}

impl Catalog {
    /// Walks `roots` again, keeping what earlier scans indexed.
    pub fn scan(roots: &[PathBuf], previous: Catalog) -> Result<Catalog> {
        let mut catalog = Catalog { sources: previous.sources, ..Catalog::default() };
        let mut old_rollouts: HashMap<PathBuf, LineIndex<GroupSummary>> =
            previous.runs.into_iter().filter_map(|r| r.rollouts.map(|index| (index.path.clone(), index))).collect();
        for root in roots {
            if root.is_file() {
                let label = root.display().to_string();
                catalog.add_loose_run(label, root, vec![root.clone()])?;
                continue;
            }
            let mut found = Found::default();
            walk(root, &mut found)?;
            for dir in found.train_dirs {
                let path = dir.join("rollouts.jsonl");
                let mut rollouts = old_rollouts.remove(&path).unwrap_or_else(|| LineIndex::new(&path));
                if path.exists() {
                    rollouts.refresh(&mut |_, _, bytes| match serde_json::from_slice::<GroupSummary>(bytes) {
                        Ok(group) => Summary::Record(group),
                        Err(e) => Summary::Problem(format!("not an srl.rollouts/1 record: {e}")),
                    })?;
                    catalog.problems.extend(rollouts.problems.drain(..));
                }
                let kind = RunKind::Train;
                let label = label_of(root, &dir);
                let reports = BTreeMap::new();
                catalog.runs.push(Run { label, path: dir, kind, sources: vec![], reports, rollouts: Some(rollouts) });
            }
            for dir in found.agent_dirs {
                let reports = catalog.read_reports(&dir);
                let sources = vec![dir.join("trajectories.jsonl")];
                catalog.index_sources(&sources)?;
                let (label, kind) = (label_of(root, &dir), RunKind::Agent);
                catalog.runs.push(Run { label, path: dir, kind, sources, reports, rollouts: None });
            }
            if !found.files.is_empty() {
                catalog.add_loose_run(root.display().to_string(), root, found.files)?;
            }
        }
        catalog.runs.sort_by(|a, b| a.label.cmp(&b.label));
        Ok(catalog)
    }

    fn read_reports(&mut self, dir: &Path) -> BTreeMap<String, (PathBuf, Value)> {
        let mut files = Vec::new();
        report_files(dir, &mut files);
        let mut reports = BTreeMap::new();
        for file in files {
            let value = std::fs::read(&file).map_err(|e| e.to_string()).and_then(|b| decode_file(&file, &b));
            match value.as_ref().map(|v| as_report(&file, v)) {
                Ok(Some((id, report))) => {
                    self.reports.insert(id.clone(), report.clone());
                    reports.insert(id, (file, report));
                }
                Ok(None) => {}
                Err(reason) => self.problems.push(format!("{}: {reason}", file.display())),
            }
        }
        reports
    }

    /// The files below a given path that belong to no training or agent run.
    fn add_loose_run(&mut self, label: String, root: &Path, files: Vec<PathBuf>) -> Result<()> {
        let reports = self.read_reports(root);
        let mut sources = Vec::new();
        for file in files {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name == "report.json" {
                continue;
            }
            if self.index_sources(std::slice::from_ref(&file))? {
                sources.push(file);
            }
        }
        let kind = match (sources.is_empty(), reports.is_empty()) {
            (false, _) => RunKind::Trajectories,
            (true, false) => RunKind::Eval,
            (true, true) => return Ok(()),
        };
        self.runs.push(Run { label, path: root.to_path_buf(), kind, sources, reports, rollouts: None });
        Ok(())
    }

    /// Indexes trajectory files (JSONL incrementally, documents once); true when `files[0]`
    /// holds trajectories. Task instances met on the way are remembered.
    fn index_sources(&mut self, files: &[PathBuf]) -> Result<bool> {
        let mut any = false;
        for file in files {
            let is_jsonl = file.extension().is_some_and(|e| e == "jsonl");
            if is_jsonl {
                let source = self.sources.entry(file.clone()).or_insert_with(|| Source::Jsonl(LineIndex::new(file)));
                if let Source::Jsonl(index) = source {
                    index.refresh(&mut |line, first, bytes| summarize_jsonl(file, line, first, bytes))?;
                    self.problems.extend(index.problems.drain(..));
                    any |= index.len() > 0;
                }
                continue;
            }
            if !self.sources.contains_key(file) {
                if let Some(records) = self.read_document(file) {
                    self.sources.insert(file.clone(), Source::Document { path: file.clone(), records });
                }
            }
            any |= self.sources.contains_key(file);
        }
        Ok(any)
    }

    /// A document's trajectories, or `None` (after remembering an instance or a problem).
    fn read_document(&mut self, file: &Path) -> Option<Vec<(Option<usize>, TrajSummary)>> {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        if size > MAX_DOCUMENT_BYTES {
            self.problems.push(format!("{}: {size} bytes, too large to decode whole (use JSONL)", file.display()));
            return None;
        }
        let value = match std::fs::read(file).map_err(|e| e.to_string()).and_then(|b| decode_file(file, &b)) {
            Ok(value) => value,
            Err(reason) => {
                self.problems.push(format!("{}: {reason}", file.display()));
                return None;
            }
        };
        if let (Some(id), Some(_)) = (value.get("instance_id").and_then(Value::as_str), value.get("patch")) {
            self.instances.insert(id.to_string(), value);
            return None;
        }
        // As `srl import` does: the whole document first (bare message and event lists are
        // trajectories), then a list's elements.
        let whole = sniff(&value).is_some();
        let records: Vec<(Option<usize>, Value)> = match value {
            Value::Array(items) if !whole => items.into_iter().enumerate().map(|(i, v)| (Some(i + 1), v)).collect(),
            value => vec![(None, value)],
        };
        let mut found = Vec::new();
        for (record, value) in records {
            match trajectory_of(file, value, record) {
                Ok(Some(trajectory)) => found.push((record, TrajSummary::of(&trajectory))),
                Ok(None) => {}
                Err(reason) => {
                    self.problems.push(format!("{}: record {}: {reason}", file.display(), record.unwrap_or(1)))
                }
            }
        }
        (!found.is_empty()).then_some(found)
    }

    /// The trajectories of a run, in order: (file, position in it).
    pub fn trajectories(&self, run: &Run) -> Vec<(usize, usize, TrajSummary)> {
        let mut out = Vec::new();
        for (source_idx, path) in run.sources.iter().enumerate() {
            match self.sources.get(path) {
                Some(Source::Jsonl(index)) => {
                    out.extend(index.iter().enumerate().map(|(i, e)| (source_idx, i, e.summary.clone())))
                }
                Some(Source::Document { records, .. }) => {
                    out.extend(records.iter().enumerate().map(|(i, (_, s))| (source_idx, i, s.clone())))
                }
                None => {}
            }
        }
        out
    }

    /// The report for an instance: the run's own, else one found anywhere.
    pub fn report<'a>(&'a self, run: &'a Run, instance_id: Option<&str>) -> Option<&'a Value> {
        let id = instance_id?;
        run.reports.get(id).map(|(_, r)| r).or_else(|| self.reports.get(id))
    }
}

/// A run's name: its folder relative to the given path (the path itself when equal).
fn label_of(root: &Path, dir: &Path) -> String {
    match dir.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => format!("{}/{}", root.display(), rel.display()),
        _ => root.display().to_string(),
    }
}
