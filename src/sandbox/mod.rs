//! Sandboxes: isolated places where actions run, each owning a copy of a repository.
//!
//! A sandbox owns its repository. The [`Sandbox`] trait is everything the rest of the crate
//! does with one: run a command, and the repository operations the file tools, patch
//! application, diffs and SRL's step states need (probe a path, read, write, list, walk, diff,
//! apply a patch, snapshot, restore). Two backends implement it:
//! - [`docker`]: a locked-down container whose repository lives inside it (at `/testbed` in
//!   SWE-bench-style images, or uploaded into it at start from a host tree). Every repository
//!   operation goes through the Docker Engine API (exec, archive upload and download:
//!   `container.rs`), so nothing needs the engine's file system;
//! - [`local`]: a process group on this machine over a host [`WorkTree`] (`repo.rs`,
//!   `host_files.rs`, `state.rs`), for machines without Docker (weaker isolation).
//!
//! Path rules (what is inside the repository, what a link may point at) are written once in
//! [`files`] and answered by each backend's probe.
//!
//! Deliberately absent: any knowledge of trajectories, rewards or models. This module runs
//! actions and reports what happened.

mod cleanup;
mod container;
pub mod docker;
pub mod engine;
pub mod files;
mod host_files;
pub mod image;
pub mod local;
pub mod output;
pub mod repo;
mod session;
pub mod state;
pub mod step_states;
pub mod tools;

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

pub use files::{Kind, Probe, RepoPath, Skip};
pub use repo::{ApplyOutcome, WorkTree};

/// Limits of one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLimits {
    /// Wall-clock limit; the command and everything it started are killed when it passes.
    pub timeout: Duration,
    /// Bytes of output kept in the observation (head and tail halves).
    pub output_cap: usize,
    /// Total bytes of output after which the command is killed (a `yes` must not run forever).
    pub kill_after_bytes: usize,
}

impl ExecLimits {
    pub fn new(timeout: Duration, output_cap: usize) -> ExecLimits {
        ExecLimits { timeout, output_cap, kill_after_bytes: output_cap.saturating_mul(64).max(1 << 20) }
    }
}

/// What a command did, as the agent sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// Standard output and error, interleaved, head + tail when over the cap.
    pub output: String,
    /// `None` when the command was killed before it exited (timeout, output limit).
    pub exit_code: Option<i64>,
    pub timed_out: bool,
    /// The command printed more than `kill_after_bytes` and was killed.
    pub output_limited: bool,
    /// Bytes of output dropped from the middle.
    pub elided_bytes: usize,
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

impl Observation {
    /// The text shown to an agent: the output plus a line saying why the command stopped
    /// when it did not exit on its own.
    pub fn agent_text(&self) -> String {
        let mut text = self.output.clone();
        if self.timed_out {
            text.push_str(&format!("\n[command timed out after {:.0} s and was killed]", self.duration.as_secs_f64()));
        } else if self.output_limited {
            text.push_str("\n[command produced too much output and was killed]");
        }
        text
    }
}

/// A saved state of a sandbox's repository files: the id of a git tree holding every file
/// (untracked and ignored ones too), kept where the agent cannot reach it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Snapshot(pub(crate) String);

impl Snapshot {
    pub fn id(&self) -> &str {
        &self.0
    }
}

/// A running sandbox and the repository it owns. Implementations must kill every process a
/// command started when it times out or floods its output, and keep the sandbox usable
/// afterwards. Repository paths are [`RepoPath`]s (relative, normalised by [`files::repo_path`]);
/// an inner `Err(String)` is the reason an operation failed, worded for the agent, while an
/// outer `Err` means the sandbox itself failed.
pub trait Sandbox: Send {
    /// Where the repository is inside the sandbox, e.g. `/testbed`.
    fn repo_dir(&self) -> &str;

    /// The commit the repository started from; diffs are taken against it.
    fn base_commit(&self) -> &str;

    /// Runs `command` with `bash -c` in the repository directory, as the unprivileged agent user.
    fn exec(&mut self, command: &str, limits: &ExecLimits) -> impl Future<Output = Result<Observation>> + Send;

    /// Where `path` leads, and whether a link on the way leaves the repository.
    fn probe(&mut self, path: &str) -> impl Future<Output = Result<Probe>> + Send;

    /// A file's bytes.
    fn read(&mut self, path: &str) -> impl Future<Output = Result<Result<Vec<u8>, String>>> + Send;

    /// Writes a file as the agent user, creating its directories; never through a final link.
    fn write(&mut self, path: &str, bytes: &[u8]) -> impl Future<Output = Result<Result<(), String>>> + Send;

    /// Names in a directory, sorted by name, each with whether it is a real directory.
    fn list(&mut self, dir: &str) -> impl Future<Output = Result<Vec<(String, bool)>>> + Send;

    /// Regular files under `dir` and their sizes, sorted by path, links not followed, leaving
    /// out what `skip` names and everything below it.
    fn walk(&mut self, dir: &str, skip: Skip) -> impl Future<Output = Result<Vec<(RepoPath, u64)>>> + Send;

    /// The contents of several files at once; `None` for one that cannot be read.
    fn read_files(&mut self, paths: &[RepoPath]) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>>> + Send;

    /// The changes since the base commit as a git patch, new untracked files included and
    /// `.gitignore`d files left out (what `git add -A && git diff --cached BASE` gives).
    fn diff(&mut self) -> impl Future<Output = Result<String>> + Send;

    /// Applies `patch` like the SWE-bench harness: `git apply`, then `git apply --reject`, then
    /// `patch --batch --fuzz=5 -p1`; the first that succeeds wins.
    fn apply_patch(&mut self, patch: &str) -> impl Future<Output = Result<ApplyOutcome>> + Send;

    /// Saves the repository's files (the agent's own `.git` excepted).
    fn snapshot(&mut self) -> impl Future<Output = Result<Snapshot>> + Send;

    /// Puts the files back exactly as they were when `snapshot` was taken, touching only those
    /// that differ.
    fn restore(&mut self, snapshot: &Snapshot) -> impl Future<Output = Result<()>> + Send;

    /// Stops the sandbox and removes everything it created.
    fn close(self) -> impl Future<Output = Result<()>> + Send;
}

/// Which backend `--sandbox` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Docker when a daemon answers, else local
    Auto,
    /// A locked-down container (no network, resource limits, unprivileged user)
    Docker,
    /// A process group on this machine: rlimits and, where allowed, no network; NOT isolated from the host's files
    Local,
}

/// A sandbox of either backend, so callers can pick one at run time without `dyn`.
pub enum AnySandbox {
    Docker(Box<docker::DockerSandbox>),
    Local(local::LocalSandbox),
}

impl AnySandbox {
    pub fn backend_name(&self) -> &'static str {
        match self {
            AnySandbox::Docker(_) => "docker",
            AnySandbox::Local(_) => "local",
        }
    }
}

/// Dispatches one call to the backend a sandbox runs on.
macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnySandbox::Docker($s) => $call,
            AnySandbox::Local($s) => $call,
        }
    };
}

impl Sandbox for AnySandbox {
    fn repo_dir(&self) -> &str {
        dispatch!(self, s => s.repo_dir())
    }

    fn base_commit(&self) -> &str {
        dispatch!(self, s => s.base_commit())
    }

    async fn exec(&mut self, command: &str, limits: &ExecLimits) -> Result<Observation> {
        dispatch!(self, s => s.exec(command, limits).await)
    }

    async fn probe(&mut self, path: &str) -> Result<Probe> {
        dispatch!(self, s => s.probe(path).await)
    }

    async fn read(&mut self, path: &str) -> Result<Result<Vec<u8>, String>> {
        dispatch!(self, s => s.read(path).await)
    }

    async fn write(&mut self, path: &str, bytes: &[u8]) -> Result<Result<(), String>> {
        dispatch!(self, s => s.write(path, bytes).await)
    }

    async fn list(&mut self, dir: &str) -> Result<Vec<(String, bool)>> {
        dispatch!(self, s => s.list(dir).await)
    }

    async fn walk(&mut self, dir: &str, skip: Skip) -> Result<Vec<(RepoPath, u64)>> {
        dispatch!(self, s => s.walk(dir, skip).await)
    }

    async fn read_files(&mut self, paths: &[RepoPath]) -> Result<Vec<Option<Vec<u8>>>> {
        dispatch!(self, s => s.read_files(paths).await)
    }

    async fn diff(&mut self) -> Result<String> {
        dispatch!(self, s => s.diff().await)
    }

    async fn apply_patch(&mut self, patch: &str) -> Result<ApplyOutcome> {
        dispatch!(self, s => s.apply_patch(patch).await)
    }

    async fn snapshot(&mut self) -> Result<Snapshot> {
        dispatch!(self, s => s.snapshot().await)
    }

    async fn restore(&mut self, snapshot: &Snapshot) -> Result<()> {
        dispatch!(self, s => s.restore(snapshot).await)
    }

    async fn close(self) -> Result<()> {
        dispatch!(self, s => s.close().await)
    }
}

/// Where a sandbox's repository comes from.
pub enum RepoSource {
    /// A host work tree: the local backend works on it in place; the Docker backend uploads it
    /// into the container at start (then the host copy is dropped).
    HostTree(WorkTree),
    /// The repository already inside the image (SWE-bench-style instance images): its
    /// directory, and the base commit when known (else the repository's `HEAD` at start).
    InImage { repo_dir: String, base_commit: Option<String> },
}

impl From<WorkTree> for RepoSource {
    fn from(tree: WorkTree) -> RepoSource {
        RepoSource::HostTree(tree)
    }
}

/// A sandbox of the requested backend over `source`. `auto` picks Docker when a daemon
/// answers, and says why when it falls back to local. A repository inside an image needs Docker.
pub async fn open(backend: Backend, source: RepoSource, run_id: &str, image: &str) -> Result<AnySandbox> {
    open_on(backend, source, run_id, image, None).await
}

/// [`open`] on a given Docker engine (`None`: the default one).
pub async fn open_on(
    backend: Backend,
    source: RepoSource,
    run_id: &str,
    image: &str,
    engine: Option<engine::Engine>,
) -> Result<AnySandbox> {
    let use_docker = match backend {
        Backend::Docker => true,
        Backend::Local => false,
        Backend::Auto => {
            let available = docker::daemon_available().await;
            if !available {
                tracing::warn!("no Docker daemon answers; using the local sandbox (weaker isolation)");
            }
            available
        }
    };
    if use_docker {
        let engine = match engine {
            Some(engine) => engine,
            None => engine::default_engine()?,
        };
        // Containers of runs that died without cleaning up (SIGKILL, a crash) go first.
        cleanup::sweep_orphans_once(&engine).await;
        let mut options = docker::DockerOptions::new(image, run_id);
        options.engine = Some(engine);
        Ok(AnySandbox::Docker(Box::new(docker::DockerSandbox::start(source, &options).await?)))
    } else {
        match source {
            RepoSource::HostTree(tree) => Ok(AnySandbox::Local(local::LocalSandbox::start(tree)?)),
            RepoSource::InImage { .. } => anyhow::bail!(
                "the repository is inside the image {image}, which only the Docker backend can run \
                 (use --sandbox docker, or give the repositories with --repos for the local backend)"
            ),
        }
    }
}

/// An id for this process's sandboxes, unique on the host, put in container labels and names.
pub fn new_run_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{secs:x}{:x}", std::process::id())
}
