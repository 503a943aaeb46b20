//! Reading trajectory files from disk: walking directories, decoding JSON, JSONL and YAML
//! (and, through [`dataset`], parquet and compressed JSONL), choosing the format, and turning every failure into a [`Problem`] that names the file and
//! the record, so one bad file never stops an import (unless the caller asks for `strict`).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, ParallelIterator};
use serde_json::Value;

use super::detect::{self, Format};
use super::{dataset, origin, outcome, Trajectory};

/// File extensions that may hold trajectories, besides the record streams of
/// [`dataset::layout`] (parquet, compressed JSONL); everything else met while walking a
/// directory is ignored without a word (logs, patches, READMEs).
const EXTENSIONS: [&str; 5] = ["traj", "json", "jsonl", "yaml", "yml"];

pub struct ImportOptions {
    /// `None` means auto-detect each record.
    pub format: Option<Format>,
    /// Stop at the first problem instead of recording it and going on.
    pub strict: bool,
}

/// Something that went wrong with one file or one record of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line (JSONL) or element (JSON list) number; `None` for the file as a whole.
    pub record: Option<usize>,
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record {
            Some(n) => write!(f, "{}: record {n}: {}", self.file.display(), self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

#[derive(Debug, Default)]
pub struct ImportSummary {
    /// Files that held at least one trajectory record.
    pub files: usize,
    /// Files found while walking directories that are not trajectories (reports, instances…).
    pub other_files: usize,
    pub trajectories: usize,
    pub steps: usize,
    pub skipped_turns: usize,
    pub problems: Vec<Problem>,
}

impl ImportSummary {
    pub fn line(&self) -> String {
        format!(
            "imported {} trajectories with {} steps from {} files ({} skipped turns without an action, {} other files ignored, {} errors)",
            self.trajectories,
            self.steps,
            self.files,
            self.skipped_turns,
            self.other_files,
            self.problems.len()
        )
    }
}

/// Imports every trajectory under `paths`, handing each to `sink` as soon as it is parsed.
pub fn import_paths(
    paths: &[PathBuf],
    options: &ImportOptions,
    sink: &mut dyn FnMut(Trajectory) -> Result<()>,
) -> Result<ImportSummary> {
    import_paths_prepared(paths, options, &|trajectory| trajectory, sink)
}

/// [`import_paths`] with `prepare` applied to every trajectory before `sink` gets it. For
/// streamed files `prepare` runs on the thread pool with the importers, and only `sink` runs
/// on the calling thread, in record order: `srl import` serializes there, which would
/// otherwise be the one serial stage of the pipeline.
pub fn import_paths_prepared<T: Send>(
    paths: &[PathBuf],
    options: &ImportOptions,
    prepare: &(dyn Fn(Trajectory) -> T + Sync),
    sink: &mut dyn FnMut(T) -> Result<()>,
) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    for (file, explicit) in collect_files(paths)? {
        let mut importer =
            FileImport { file: &file, explicit, options, summary: &mut summary, prepare, sink, held_records: false };
        importer.run()?;
    }
    Ok(summary)
}

/// Files named on the command line (kept even with odd extensions) and, for directories,
/// every file below them with a trajectory extension, in sorted order so runs are repeatable.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found.into_iter().map(|f| (f, false)));
        } else {
            files.push((path.clone(), true));
        }
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list directory {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list directory {}", dir.display()))?;
        let path = entry.path();
        let kind = entry.file_type().with_context(|| format!("cannot stat {}", path.display()))?;
        if kind.is_dir() {
            walk(&path, found)?;
        } else if has_trajectory_extension(&path) || dataset::layout(&path).is_some() {
            found.push(path);
        }
    }
    Ok(())
}

fn has_trajectory_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e))
}

fn extension(path: &Path) -> &str {
    path.extension().and_then(|e| e.to_str()).unwrap_or("")
}

/// The name a trajectory gets when its record names no instance. OpenHands keeps one
/// completions file per LLM call in `llm_completions/<instance id>/`, named after the model, so
/// there the directory says more than the file.
fn fallback_name(path: &Path, format: Format) -> String {
    if format == Format::OpenHandsCompletions {
        if let Some(dir) = path.parent().and_then(Path::file_name) {
            return dir.to_string_lossy().into_owned();
        }
    }
    file_stem(path)
}

/// The file name without the extensions trajectory files carry (`x.traj.json` → `x`).
fn file_stem(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut stem = dataset::strip_layout_suffix(&name);
    for suffix in [".json", ".jsonl", ".yaml", ".yml", ".traj"] {
        stem = stem.strip_suffix(suffix).unwrap_or(stem);
    }
    stem.to_string()
}

struct FileImport<'a, T> {
    file: &'a Path,
    explicit: bool,
    options: &'a ImportOptions,
    summary: &'a mut ImportSummary,
    prepare: &'a (dyn Fn(Trajectory) -> T + Sync),
    sink: &'a mut dyn FnMut(T) -> Result<()>,
    held_records: bool,
}

impl<T: Send> FileImport<'_, T> {
    fn run(&mut self) -> Result<()> {
        let result = match dataset::layout(self.file) {
            Some(layout) => self.run_stream(layout),
            None => self.run_document(),
        };
        if self.held_records {
            self.summary.files += 1;
        }
        result
    }

    /// JSONL (plain or compressed) and parquet are streamed in a pipeline of batches: a reader
    /// thread decodes batch k+2, the thread pool imports the records of batch k+1, and this
    /// thread settles batch k (counts, problems, the sink) in record order. A file found by
    /// walking whose first record is not a trajectory (predictions, patches, instances) is
    /// skipped whole.
    fn run_stream(&mut self, layout: dataset::Layout) -> Result<()> {
        let (forced, file, prepare) = (self.options.format, self.file, self.prepare);
        let mut pending = Vec::new();
        let mut stopped = false;
        dataset::for_each_batch(file, layout, BATCH_RECORDS, &mut |batch| {
            let settled = std::mem::take(&mut pending);
            let (imported, go_on) = std::thread::scope(|scope| {
                let worker = scope.spawn(move || import_batch(batch, forced, file, prepare));
                let go_on = self.settle_batch(settled);
                (worker.join(), go_on)
            });
            pending = imported.map_err(|_| anyhow::anyhow!("importing a record of {} panicked", file.display()))?;
            stopped = !go_on?;
            Ok(!stopped)
        })?;
        if !stopped {
            self.settle_batch(pending)?;
        }
        Ok(())
    }

    /// Settles imported records in order. Returns whether to go on: not when the file turned
    /// out to hold no trajectories.
    fn settle_batch(&mut self, outcomes: Outcomes<T>) -> Result<bool> {
        for (number, outcome) in outcomes {
            match outcome {
                Err(reason) => self.problem(number, reason)?,
                Ok(Outcome::Unknown) if !self.held_records && self.options.format.is_none() && !self.explicit => {
                    self.summary.other_files += 1;
                    return Ok(false);
                }
                Ok(outcome) => self.settle(number, outcome)?,
            }
        }
        Ok(true)
    }

    fn run_document(&mut self) -> Result<()> {
        let bytes = fs::read(self.file).with_context(|| format!("failed to read {}", self.file.display()))?;
        let value = match decode_document(self.file, &bytes) {
            Ok(value) => value,
            Err(reason) => return self.problem(None, reason),
        };
        if self.options.format.is_some() || detect::sniff(&value).is_some() {
            return self.record(&value, None, false);
        }
        // A JSON list whose elements are trajectory records (e.g. a list of OpenHands outputs).
        if let Value::Array(items) = &value {
            if items.first().is_some_and(|first| detect::sniff(first).is_some()) {
                for (idx, item) in items.iter().enumerate() {
                    self.record(item, Some(idx + 1), true)?;
                }
                return Ok(());
            }
        }
        if self.explicit {
            return self.problem(None, "not a trajectory in any known format (use --format to force one)".to_string());
        }
        self.summary.other_files += 1;
        Ok(())
    }

    fn record(&mut self, value: &Value, record: Option<usize>, numbered: bool) -> Result<()> {
        let source = if numbered { source(self.file, record) } else { source(self.file, None) };
        let outcome = import_record(value, self.options.format, self.file, source);
        self.settle(record, outcome.map(self.prepare))
    }

    fn settle(&mut self, record: Option<usize>, outcome: Outcome<T>) -> Result<()> {
        match outcome {
            Outcome::Unknown => self.problem(record, "not a trajectory in any known format".to_string()),
            Outcome::Failed(reason) => self.problem(record, reason),
            Outcome::Imported { trajectory, steps, skipped_turns } => {
                self.held_records = true;
                self.summary.trajectories += 1;
                self.summary.steps += steps;
                self.summary.skipped_turns += skipped_turns;
                (self.sink)(trajectory)
            }
        }
    }

    fn problem(&mut self, record: Option<usize>, reason: String) -> Result<()> {
        let problem = Problem { file: self.file.to_path_buf(), record, reason };
        if self.options.strict {
            bail!("{problem}");
        }
        tracing::debug!("{problem}");
        self.summary.problems.push(problem);
        Ok(())
    }
}

/// Records imported together, in parallel, when a file is streamed: enough to keep the cores
/// busy, few enough that memory stays at a few dozen records whatever the file size.
const BATCH_RECORDS: usize = 32;

/// Imports (and prepares) the records of a streamed batch in parallel, keeping their order.
/// Each task takes a few records, so that their content hashes are made together
/// ([`super::fnv64_lanes`]).
fn import_batch<T: Send>(
    batch: dataset::Batch,
    forced: Option<Format>,
    file: &Path,
    prepare: &(dyn Fn(Trajectory) -> T + Sync),
) -> Outcomes<T> {
    batch
        .into_par_iter()
        .chunks(HASHED_TOGETHER)
        .flat_map_iter(|records| {
            let parsed: Vec<_> = records
                .into_iter()
                .map(|(number, record)| {
                    let parsed = record.map(|mut value| {
                        dataset::decode_json_columns(&mut value);
                        parse_record(&value, forced)
                    });
                    (number, parsed)
                })
                .collect();
            let pieces: Vec<_> = parsed
                .iter()
                .filter_map(|(_, p)| p.as_ref().ok()?.as_ref().ok())
                .map(|p| p.parsed.hashed_pieces())
                .collect();
            let mut hashes = super::fnv64_lanes(&pieces).into_iter();
            parsed.into_iter().map(move |(number, parsed)| {
                let outcome = parsed.map(|parsed| match parsed {
                    Ok(parsed) => {
                        let hash = hashes.next().expect("one hash per parsed record");
                        finish_record(parsed, hash, file, source(file, number)).map(prepare)
                    }
                    Err(reason) => unread(reason),
                });
                (number, outcome)
            })
        })
        .collect()
}

/// Records of a batch imported by one task, their hashes made in lock step.
const HASHED_TOGETHER: usize = 4;

/// What the records of a batch came to, in order: each record's number and outcome, or why it
/// could not be decoded.
type Outcomes<T> = Vec<(Option<usize>, Result<Outcome<T>, String>)>;

/// What importing one record came to, worked out without touching the import's state, so that
/// the records of a batch can be imported in parallel. `T` is the trajectory, prepared.
enum Outcome<T> {
    Imported {
        trajectory: T,
        steps: usize,
        skipped_turns: usize,
    },
    /// No importer recognizes it.
    Unknown,
    Failed(String),
}

impl Outcome<Trajectory> {
    fn map<T>(self, prepare: impl Fn(Trajectory) -> T) -> Outcome<T> {
        match self {
            Outcome::Imported { trajectory, steps, skipped_turns } => {
                Outcome::Imported { trajectory: prepare(trajectory), steps, skipped_turns }
            }
            Outcome::Unknown => Outcome::Unknown,
            Outcome::Failed(reason) => Outcome::Failed(reason),
        }
    }
}

fn import_record(value: &Value, forced: Option<Format>, file: &Path, source: String) -> Outcome<Trajectory> {
    match parse_record(value, forced) {
        Ok(parsed) => {
            let mut hash = super::Fnv64::new();
            parsed.parsed.hashed_pieces().into_iter().for_each(|piece| hash.write(piece));
            finish_record(parsed, hash.finish(), file, source)
        }
        Err(reason) => unread(reason),
    }
}

/// A record read by its importer, before its id is made.
struct ParsedRecord {
    format: Format,
    parsed: super::Parsed,
    resolved: Option<bool>,
}

/// The record parsed; `Err(None)` when no importer recognizes it, `Err(Some(reason))` when
/// its importer cannot read it.
fn parse_record(value: &Value, forced: Option<Format>) -> Result<ParsedRecord, Option<String>> {
    let format = forced.or_else(|| detect::sniff(value)).ok_or(None)?;
    match format.parse(value) {
        Err(reason) => Err(Some(format!("{} record: {reason}", format.name()))),
        Ok(parsed) => Ok(ParsedRecord { format, parsed, resolved: outcome::resolved(value) }),
    }
}

/// The outcome of a record [`parse_record`] could not read.
fn unread<T>(reason: Option<String>) -> Outcome<T> {
    reason.map_or(Outcome::Unknown, Outcome::Failed)
}

/// The trajectory of a parsed record whose [`super::Parsed::hashed_pieces`] hash to `hash`.
fn finish_record(record: ParsedRecord, hash: u64, file: &Path, source: String) -> Outcome<Trajectory> {
    let ParsedRecord { format, parsed, resolved } = record;
    let (steps, skipped_turns) = (parsed.steps.len(), parsed.skipped_turns);
    let mut trajectory = parsed.into_trajectory_hashed(hash, format, source, &fallback_name(file, format));
    trajectory.resolved = resolved;
    if trajectory.instance_id.is_none() {
        // After the id is made, so that it stays what the content and the record give.
        let folder = file.parent().and_then(Path::file_name).map(|name| name.to_string_lossy());
        if let Some((id, source)) = origin::id_from_names(&file_stem(file), folder.as_deref()) {
            trajectory.instance_id = Some(id);
            trajectory.instance_id_source = Some(source);
        }
    }
    Outcome::Imported { trajectory, steps, skipped_turns }
}

/// The `source` of a trajectory: the file, with `#N` for record N of a multi-record file.
fn source(file: &Path, record: Option<usize>) -> String {
    match record {
        Some(n) => format!("{}#{n}", file.display()),
        None => file.display().to_string(),
    }
}

/// Decodes a whole-file JSON or YAML document; the error says which and where.
fn decode_document(file: &Path, bytes: &[u8]) -> Result<Value, String> {
    if matches!(extension(file), "yaml" | "yml") {
        return serde_yaml_ng::from_slice::<Value>(bytes).map_err(|e| format!("invalid YAML: {e}"));
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(format!("not UTF-8 (invalid byte at offset {})", e.valid_up_to()));
    }
    serde_json::from_slice::<Value>(bytes).map_err(|e| format!("invalid JSON: {e}"))
}

/// One decoded record as the trajectory `import_paths` would make of it: an `srl.trajectory/1`
/// record as it is, any other format through its importer (`record` is the 1-based line or
/// element of a multi-record file). `Ok(None)` when the record is no trajectory at all.
pub fn trajectory_of(file: &Path, value: Value, record: Option<usize>) -> Result<Option<Trajectory>, String> {
    if value.get("schema").and_then(Value::as_str) == Some(super::SCHEMA) {
        return serde_json::from_value(value).map(Some).map_err(|e| format!("invalid {} record: {e}", super::SCHEMA));
    }
    let Some(format) = detect::sniff(&value) else { return Ok(None) };
    let parsed = format.parse(&value).map_err(|reason| format!("{} record: {reason}", format.name()))?;
    let source = match record {
        Some(n) => format!("{}#{n}", file.display()),
        None => file.display().to_string(),
    };
    Ok(Some(parsed.into_trajectory(format, source, &fallback_name(file, format))))
}

/// [`decode_document`] for callers outside this module (a whole JSON or YAML file).
pub fn decode_file(file: &Path, bytes: &[u8]) -> Result<Value, String> {
    decode_document(file, bytes)
}
