//! Sandboxes: isolated copies of a repository where actions run.
//!
//! A sandbox pairs a host-side [`WorkTree`] (the repository's files, a git2 handle on them,
//! snapshots) with a backend that runs commands over it: [`docker`] (a locked-down container
//! with the work tree bind-mounted at the repository path) or [`local`] (a process group on
//! the host with rlimits, weaker isolation). File reads and writes, diffs and snapshots are
//! done on the host through the work tree, so they cost no container round trip and behave
//! the same for every backend.
//!
//! Deliberately absent: any knowledge of trajectories, rewards or models. This module runs
//! actions and reports what happened.

pub mod docker;
pub mod image;
pub mod local;
pub mod output;
pub mod repo;
pub mod state;
pub mod step_states;
pub mod tools;

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

pub use repo::WorkTree;

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

/// A running sandbox. Implementations must kill every process a command started when it
/// times out or floods its output, and keep the sandbox usable afterwards.
pub trait Sandbox: Send {
    /// The repository's files, on the host.
    fn work_tree(&self) -> &WorkTree;

    fn work_tree_mut(&mut self) -> &mut WorkTree;

    /// Runs `command` with `bash -c` in the repository directory, as the unprivileged agent user.
    fn exec(&mut self, command: &str, limits: &ExecLimits) -> impl Future<Output = Result<Observation>> + Send;

    /// Stops the sandbox and removes everything it created outside the work tree.
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
    Docker(docker::DockerSandbox),
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

impl Sandbox for AnySandbox {
    fn work_tree(&self) -> &WorkTree {
        match self {
            AnySandbox::Docker(s) => s.work_tree(),
            AnySandbox::Local(s) => s.work_tree(),
        }
    }

    fn work_tree_mut(&mut self) -> &mut WorkTree {
        match self {
            AnySandbox::Docker(s) => s.work_tree_mut(),
            AnySandbox::Local(s) => s.work_tree_mut(),
        }
    }

    async fn exec(&mut self, command: &str, limits: &ExecLimits) -> Result<Observation> {
        match self {
            AnySandbox::Docker(s) => s.exec(command, limits).await,
            AnySandbox::Local(s) => s.exec(command, limits).await,
        }
    }

    async fn close(self) -> Result<()> {
        match self {
            AnySandbox::Docker(s) => s.close().await,
            AnySandbox::Local(s) => s.close().await,
        }
    }
}

/// A sandbox of the requested backend over `work_tree`. `auto` picks Docker when a daemon
/// answers and the image exists, and says why when it falls back to local.
pub async fn open(backend: Backend, work_tree: WorkTree, run_id: &str, image: &str) -> Result<AnySandbox> {
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
        // Containers of runs that died without cleaning up (SIGKILL, a crash) go first.
        match docker::remove_orphans().await {
            Ok(0) => {}
            Ok(n) => tracing::info!("removed {n} sandbox containers left behind by dead runs"),
            Err(e) => tracing::warn!("cannot look for orphaned sandbox containers: {e:#}"),
        }
        let options = docker::DockerOptions::new(image, run_id);
        Ok(AnySandbox::Docker(docker::DockerSandbox::start(work_tree, &options).await?))
    } else {
        Ok(AnySandbox::Local(local::LocalSandbox::start(work_tree)?))
    }
}

/// An id for this process's sandboxes, unique on the host, put in container labels and names.
pub fn new_run_id() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{secs:x}{:x}", std::process::id())
}
