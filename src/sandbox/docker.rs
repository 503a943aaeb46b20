//! The Docker backend: one locked-down container per sandbox, kept running for the whole
//! episode, holding its repository: the one already in the image (SWE-bench-style instance
//! images, `/testbed`) or a host tree uploaded at start. Nothing is bind-mounted; the repository
//! operations are in `container.rs`. Commands go through an attached shell session per user
//! (`session.rs`): one message each way per command on an open connection, instead of a fresh
//! `docker exec` (≈ 50–70 ms each). The engine may be local or remote (`engine.rs`).
//!
//! The container has no network, a memory limit without swap, a pids limit, one CPU, no
//! capabilities beyond the three the harness's root commands need (chown, file access) and
//! `no-new-privileges`. Its init (`sleep infinity` under Docker's tini) runs as
//! root (Docker gives an exec the capabilities only when the container's own user is root) and
//! agent commands as uid 1000, so `kill -KILL -1` as the agent kills every process a
//! command left behind (setsid'd and double-forked ones included) while the container survives.
//! Timeouts and output floods are enforced here, on the client side: dropping the exec stream
//! does not stop the command, so both are followed by that kill.
//!
//! Containers carry `srl.run_id`, `srl.pid` and `srl.host` labels. [`remove_run`] removes one
//! run's containers (Ctrl-C, SIGTERM) and [`remove_orphans`] those whose creating process died
//! on this host: that is the crash cleanup, because an async `Drop` cannot exist and the
//! best-effort removal that `Drop` starts is not waited for.
//!
//! The root file system is writable (the repository lives in it), so the agent can write where
//! the image lets uid 1000 write; scratch space (`/tmp`, the agent's home) is tmpfs.
//!
//! Disk: on an engine with the btrfs storage driver (what `scripts/docker-up.sh` starts when it
//! can) each container may write `disk_bytes` beyond its image; writes past it fail with "Disk
//! quota exceeded" inside the sandbox. Other drivers (overlay2 on ext4) cannot limit it.
//!
//! Deliberately not done here: pulling or building images (build them with
//! `scripts/sandbox-image.sh`; there is no registry), and killing background processes that a command started and that outlived it normally (an
//! agent may want a server running).

use std::collections::HashMap;
use std::pin::Pin;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig, ResourcesUlimits};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use bollard::Docker;
use futures_util::{Stream, StreamExt};

use super::cleanup::{host_name, remove_container};
pub use super::cleanup::{remove_orphans, remove_run};
use super::engine::Engine;
use super::output::OutputCollector;
use super::session::{Finish, Piece, Session, KILLED_STATUS};
use super::{ApplyOutcome, ExecLimits, Observation, Probe, RepoPath, RepoSource, Sandbox, Skip, Snapshot};

/// The image built by `scripts/sandbox-image.sh`.
pub const DEFAULT_IMAGE: &str = "srl-sandbox/base:latest";

/// The agent's uid and gid inside the container; the repository belongs to them.
const AGENT_ID: u32 = 1000;
pub(super) const AGENT_USER: &str = "1000:1000";
/// The container's init runs as another uid than the agent's, so the agent's `kill -1` cannot
/// reach it; root, so that the harness's root commands get the container's capabilities.
const INIT_USER: &str = "0:0";
/// Run as the agent: SIGKILL to every process the agent uid may signal, except itself and pid 1;
/// then the marker that says it ran.
const KILL_AGENT: &str = "kill -KILL -1 2>/dev/null; echo srl-killed";
const KILLED_MARKER: &[u8] = b"srl-killed";

/// Largest file a command may write (bytes), and the size of each tmpfs scratch directory.
const FILE_SIZE_LIMIT: i64 = 1 << 30;
const TMPFS_SIZE: &str = "256m";

pub(super) const LABEL_RUN: &str = "srl.run_id";
pub(super) const LABEL_PID: &str = "srl.pid";
pub(super) const LABEL_HOST: &str = "srl.host";

/// How long [`daemon_available`] waits for the daemon's answer.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the kill after a timeout may take before the sandbox is declared broken
/// (measured: 60–150 ms, even against a fork bomb).
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(30);

type OutputStream = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;

/// Container settings; [`DockerOptions::new`] gives the measured defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerOptions {
    pub image: String,
    /// Memory limit; swap is set to the same value, so there is none.
    pub memory_bytes: i64,
    pub pids_limit: i64,
    /// CPU quota in billionths of a CPU.
    pub nano_cpus: i64,
    /// Disk the sandbox may write beyond its image, where the engine can enforce it (the btrfs
    /// storage driver, which `scripts/docker-up.sh` sets up); 0 for no limit.
    pub disk_bytes: i64,
    /// Labels the container so that one run's containers can be removed together.
    pub run_id: String,
    /// Where the container runs (`None`: the first configured engine, see `engine.rs`).
    pub engine: Option<Engine>,
}

impl DockerOptions {
    /// 512 MiB of memory and no swap, 256 processes, one CPU, 2 GiB of disk beyond the image.
    pub fn new(image: impl Into<String>, run_id: impl Into<String>) -> DockerOptions {
        DockerOptions {
            image: image.into(),
            memory_bytes: 512 << 20,
            pids_limit: 256,
            nano_cpus: 1_000_000_000,
            disk_bytes: 2 << 30,
            run_id: run_id.into(),
            engine: None,
        }
    }
}

/// A running container holding its repository. Call [`Sandbox::close`] to remove it.
pub struct DockerSandbox {
    pub(super) docker: Docker,
    engine: Engine,
    /// The attached shells, started at first use; `None` again after a kill took them down.
    agent_session: tokio::sync::Mutex<Option<Session>>,
    root_session: tokio::sync::Mutex<Option<Session>>,
    /// Empty once closed, so `Drop` knows there is nothing left to remove.
    container_id: String,
    /// Where the repository is inside the container.
    pub(super) repo_dir: String,
    pub(super) base_commit: String,
    /// Patches staged so far (each gets a file of its own).
    pub(super) patches: usize,
}

/// Whether the default engine (the first configured one) answers a ping within two seconds.
pub async fn daemon_available() -> bool {
    let ping = async {
        let docker = super::engine::default_engine().ok()?.connect().await.ok()?;
        docker.ping().await.ok()
    };
    matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Some(_)))
}

/// Whether the default engine answers and already holds `image` (so a sandbox can start
/// without a build).
pub async fn image_available(image: &str) -> bool {
    let inspect = async { connect_default().await.ok()?.inspect_image(image).await.ok() };
    matches!(tokio::time::timeout(PING_TIMEOUT * 2, inspect).await, Ok(Some(_)))
}

async fn connect_default() -> Result<Docker> {
    super::engine::default_engine()?.connect().await
}

impl DockerSandbox {
    /// Creates and starts the container and prepares its repository: a host tree is uploaded
    /// into it; a repository already in the image is checked and given to the agent user.
    pub async fn start(source: RepoSource, options: &DockerOptions) -> Result<DockerSandbox> {
        let (repo_dir, tree, base_commit) = match source {
            RepoSource::HostTree(tree) => {
                let base = tree.base_commit().to_string();
                (tree.mount_path().to_string(), Some(tree), Some(base))
            }
            RepoSource::InImage { repo_dir, base_commit } => (repo_dir, None, base_commit),
        };
        let engine = match &options.engine {
            Some(engine) => engine.clone(),
            None => super::engine::default_engine()?,
        };
        let docker = engine.connect().await?;
        let storage = disk_limit(&docker, &engine, options).await;
        let name = container_name(&options.run_id);
        let create = CreateContainerOptionsBuilder::new().name(&name).build();
        let created = docker
            .create_container(Some(create), container_body(&repo_dir, options, storage))
            .await
            .with_context(|| {
                format!(
                    "failed to create container from image {} on engine {} (build it with scripts/sandbox-image.sh)",
                    options.image, engine.host
                )
            })?;
        if let Err(error) = docker.start_container(&created.id, None).await {
            // A created but never started container would only be found by the orphan sweep.
            if let Err(cleanup) = remove_container(&docker, &created.id).await {
                tracing::warn!("cannot remove the container {name} that failed to start: {cleanup:#}");
            }
            return Err(error)
                .with_context(|| format!("failed to start container {name} from image {}", options.image));
        }
        let mut sandbox = DockerSandbox {
            docker,
            engine,
            agent_session: tokio::sync::Mutex::new(None),
            root_session: tokio::sync::Mutex::new(None),
            container_id: created.id,
            repo_dir,
            base_commit: String::new(),
            patches: 0,
        };
        // On an error from here on, dropping the sandbox removes the container.
        sandbox.prepare_repository(tree.as_ref()).await?;
        drop(tree);
        sandbox.base_commit = match base_commit {
            Some(commit) => commit,
            None => sandbox.head_commit().await?,
        };
        Ok(sandbox)
    }

    /// The container's id, for logs and `docker` commands.
    pub fn container_id(&self) -> &str {
        &self.container_id
    }

    /// A fresh exec of `command` as the agent, outside the session (the kill must not depend on
    /// a session the command may have wedged).
    async fn create_exec(&self, command: &str) -> Result<String> {
        let options = CreateExecOptions {
            cmd: Some(vec!["bash", "-c", command]),
            user: Some(AGENT_USER),
            working_dir: Some("/"),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(&self.container_id, options)
            .await
            .with_context(|| format!("failed to create an exec in container {}", self.container_id))?;
        Ok(created.id)
    }

    async fn attach(&self, exec_id: &str) -> Result<OutputStream> {
        let started = self
            .docker
            .start_exec(exec_id, None)
            .await
            .with_context(|| format!("failed to start a command in container {}", self.container_id))?;
        match started {
            StartExecResults::Attached { output, .. } => Ok(output),
            StartExecResults::Detached => bail!("docker started the command detached; its output is lost"),
        }
    }

    /// The engine the container runs on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs `argv` in `dir` as `user` through that user's attached session (started at first
    /// use), passing its output to `on_output`. The session is dropped unless the command ran
    /// to its end, so the next command starts a fresh one.
    pub(super) async fn run_in_session(
        &self,
        user: &str,
        dir: &str,
        argv: &[&str],
        deadline: Option<tokio::time::Instant>,
        on_output: impl FnMut(Piece<'_>) -> bool,
    ) -> Result<Finish> {
        let lock = if user == AGENT_USER { &self.agent_session } else { &self.root_session };
        let mut slot = lock.lock().await;
        // A session whose last command was abandoned (a timeout dropped it) is out of step.
        if slot.as_ref().is_some_and(Session::interrupted) {
            *slot = None;
        }
        let session = match &mut *slot {
            Some(session) => session,
            empty => empty.insert(Session::start(&self.docker, &self.container_id, user).await?),
        };
        let finish = session.run(dir, argv, deadline, on_output).await;
        if !matches!(finish, Ok(Finish::Exited(_))) {
            *slot = None;
        }
        finish
    }

    /// Runs the command until it exits or floods its output; the caller bounds it in time.
    async fn run(
        &self,
        command: &str,
        collector: &mut OutputCollector,
        kill_after: usize,
        deadline: tokio::time::Instant,
    ) -> Result<Ending> {
        // Docker carries stdout and stderr as two streams and loses their relative order; one
        // pipe for both, as the local backend gives, keeps what a program printed in the order
        // it printed it. The command still runs as `bash -c COMMAND` (same `$0`, same line
        // numbers in its error messages).
        let argv = ["bash", "-c", "exec bash -c \"$1\" 2>&1", "bash", command];
        let finish = self
            .run_in_session(AGENT_USER, &self.repo_dir, &argv, Some(deadline), |piece| {
                let (Piece::Stdout(bytes) | Piece::Stderr(bytes)) = piece;
                collector.push(bytes);
                collector.total() <= kill_after
            })
            .await
            .with_context(|| format!("lost a command's session in container {}", self.container_id))?;
        Ok(match finish {
            Finish::Exited(code) => Ending::Exited(code),
            Finish::Stopped => Ending::Flooded,
            Finish::TimedOut => Ending::TimedOut,
            // The command killed its own shell, or the container or engine went away: only
            // the first is the command's doing.
            Finish::SessionLost => match self.docker.inspect_container(&self.container_id, None).await {
                Ok(state) if state.state.as_ref().and_then(|s| s.running) == Some(true) => {
                    Ending::Exited(KILLED_STATUS)
                }
                Ok(_) => bail!("container {} stopped during a command", self.container_id),
                Err(error) => {
                    return Err(error).with_context(|| {
                        format!("engine {} lost container {} during a command", self.engine.host, self.container_id)
                    })
                }
            },
        })
    }

    /// Kills every agent process (the command, its children, escapees) and waits for the kill.
    /// The kill is itself a process in the container, so while a fork bomb holds every pid the
    /// container may have, it can fail to start (runc then reports an error as its output); it
    /// is tried again, with back-off, until its marker shows that it ran.
    async fn kill_agent_processes(&self) -> Result<()> {
        let kill = async {
            let mut pause = Duration::from_millis(10);
            loop {
                let exec_id = self.create_exec(KILL_AGENT).await?;
                let mut output = self.attach(&exec_id).await?;
                let mut said = Vec::new();
                while let Some(chunk) = output.next().await {
                    if let Ok(chunk) = chunk {
                        said.extend_from_slice(chunk.as_ref());
                    }
                }
                if said.windows(KILLED_MARKER.len()).any(|w| w == KILLED_MARKER) {
                    return anyhow::Ok(());
                }
                tracing::debug!("the kill did not run in {}: {}", self.container_id, String::from_utf8_lossy(&said));
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        };
        match tokio::time::timeout(CLEANUP_TIMEOUT, kill).await {
            Ok(result) => {
                result.with_context(|| format!("failed to kill the agent's processes in {}", self.container_id))
            }
            Err(_) => {
                bail!("killing the agent's processes in container {} took over {CLEANUP_TIMEOUT:?}", self.container_id)
            }
        }
    }
}

/// How a command's run ended.
enum Ending {
    Exited(i64),
    Flooded,
    TimedOut,
}

impl Sandbox for DockerSandbox {
    fn repo_dir(&self) -> &str {
        &self.repo_dir
    }

    fn base_commit(&self) -> &str {
        &self.base_commit
    }

    async fn probe(&mut self, path: &str) -> Result<Probe> {
        self.probe_in(path).await
    }

    async fn read(&mut self, path: &str) -> Result<Result<Vec<u8>, String>> {
        self.read_in(path).await
    }

    async fn write(&mut self, path: &str, bytes: &[u8]) -> Result<Result<(), String>> {
        self.write_in(path, bytes).await
    }

    async fn list(&mut self, dir: &str) -> Result<Vec<(String, bool)>> {
        self.list_in(dir).await
    }

    async fn walk(&mut self, dir: &str, skip: Skip) -> Result<Vec<(RepoPath, u64)>> {
        self.walk_in(dir, skip).await
    }

    async fn read_files(&mut self, paths: &[RepoPath]) -> Result<Vec<Option<Vec<u8>>>> {
        self.read_files_in(paths).await
    }

    async fn diff(&mut self) -> Result<String> {
        self.diff_in().await
    }

    async fn apply_patch(&mut self, patch: &str) -> Result<ApplyOutcome> {
        self.apply_patch_in(patch).await
    }

    async fn snapshot(&mut self) -> Result<Snapshot> {
        self.snapshot_in().await
    }

    async fn restore(&mut self, snapshot: &Snapshot) -> Result<()> {
        self.restore_in(snapshot).await
    }

    async fn exec(&mut self, command: &str, limits: &ExecLimits) -> Result<Observation> {
        let started = Instant::now();
        let mut collector = OutputCollector::new(limits.output_cap);
        let deadline = tokio::time::Instant::now() + limits.timeout;
        let run = self.run(command, &mut collector, limits.kill_after_bytes, deadline);
        // The session watches the deadline while output comes; this outer bound also covers a
        // session that hangs while it starts.
        let ending = match tokio::time::timeout(limits.timeout + Duration::from_secs(5), run).await {
            Ok(Ok(ending)) => ending,
            Ok(Err(error)) => {
                // The command may still be running; do not leave it behind.
                if let Err(cleanup) = self.kill_agent_processes().await {
                    tracing::warn!("{cleanup:#}");
                }
                return Err(error);
            }
            Err(_) => Ending::TimedOut,
        };
        let exit_code = match ending {
            Ending::Exited(code) => Some(code),
            Ending::Flooded | Ending::TimedOut => {
                self.kill_agent_processes().await?;
                None
            }
        };
        let (output, elided_bytes) = collector.finish();
        Ok(Observation {
            output,
            exit_code,
            timed_out: matches!(ending, Ending::TimedOut),
            output_limited: matches!(ending, Ending::Flooded),
            elided_bytes,
            duration: started.elapsed(),
        })
    }

    async fn close(mut self) -> Result<()> {
        let id = std::mem::take(&mut self.container_id);
        remove_container(&self.docker, &id).await
    }
}

impl Drop for DockerSandbox {
    /// Best effort for sandboxes dropped without `close` (an early `?`, a panic). The removal
    /// runs on its own thread and runtime, because the caller's runtime may be shutting down
    /// (a panicking `#[tokio::test]`) and would cancel a spawned task; it is not awaited, so a
    /// process that exits right away can still leak the container: [`remove_orphans`] finds
    /// those once the process is gone.
    fn drop(&mut self) {
        if self.container_id.is_empty() {
            return;
        }
        let id = std::mem::take(&mut self.container_id);
        let engine = self.engine.clone();
        let spawned = std::thread::Builder::new().name("srl-sandbox-drop".into()).spawn(move || {
            let removal = async { remove_container(&engine.connect().await?, &id).await };
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start a runtime to remove a dropped sandbox")
                .and_then(|runtime| runtime.block_on(removal));
            if let Err(error) = result {
                tracing::warn!("dropped sandbox container {id} not removed: {error:#}");
            }
        });
        if let Err(error) = spawned {
            tracing::warn!("cannot start the removal of a dropped sandbox container: {error}");
        }
    }
}

/// The `size` storage option for a sandbox, when the engine can enforce one. Docker's btrfs
/// driver limits what the container's subvolume references, the image's files included, so the
/// limit is the image's size plus the allowance.
async fn disk_limit(docker: &Docker, engine: &Engine, options: &DockerOptions) -> Option<HashMap<String, String>> {
    if options.disk_bytes <= 0 {
        return None;
    }
    let driver = storage_driver(docker, engine).await?;
    if driver != "btrfs" {
        tracing::debug!("storage driver {driver} cannot limit a sandbox's disk; none set");
        return None;
    }
    let image = docker.inspect_image(&options.image).await.ok()?.size.unwrap_or(0);
    Some(HashMap::from([("size".to_string(), (image + options.disk_bytes).to_string())]))
}

/// The engine's storage driver, asked once per engine and process (an engine's driver is fixed
/// while it runs).
async fn storage_driver(docker: &Docker, engine: &Engine) -> Option<String> {
    static DRIVERS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let known =
        |drivers: &[(String, String)]| drivers.iter().find(|(host, _)| host == &engine.host).map(|(_, d)| d.clone());
    if let Some(driver) = known(&DRIVERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())) {
        return Some(driver);
    }
    let driver = docker.info().await.ok()?.driver?;
    DRIVERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push((engine.host.clone(), driver.clone()));
    Some(driver)
}

fn container_body(
    repo_dir: &str,
    options: &DockerOptions,
    storage_opt: Option<HashMap<String, String>>,
) -> ContainerCreateBody {
    let host_config = HostConfig {
        storage_opt,
        network_mode: Some("none".into()),
        memory: Some(options.memory_bytes),
        memory_swap: Some(options.memory_bytes),
        pids_limit: Some(options.pids_limit),
        nano_cpus: Some(options.nano_cpus),
        cap_drop: Some(vec!["ALL".into()]),
        // For the harness's own root commands (preparing the repository, restoring snapshots):
        // the agent runs as uid 1000 under no-new-privileges, so it never holds these.
        cap_add: Some(vec!["CHOWN".into(), "DAC_OVERRIDE".into(), "FOWNER".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        // tini as pid 1 reaps the zombies of killed commands.
        init: Some(true),
        // The repository lives in the container's writable layer. Docker does not limit disk use
        // on this storage driver: scratch space is tmpfs (counted against the memory limit) and
        // no single file may pass FILE_SIZE_LIMIT, but many files can still add up.
        readonly_rootfs: Some(false),
        tmpfs: Some(HashMap::from([
            ("/tmp".to_string(), format!("rw,nosuid,size={TMPFS_SIZE},mode=1777")),
            ("/home/agent".to_string(), format!("rw,nosuid,size={TMPFS_SIZE},uid={AGENT_ID},gid={AGENT_ID}")),
        ])),
        ulimits: Some(vec![ResourcesUlimits {
            name: Some("fsize".into()),
            soft: Some(FILE_SIZE_LIMIT),
            hard: Some(FILE_SIZE_LIMIT),
        }]),
        ..Default::default()
    };
    let labels = HashMap::from([
        (LABEL_RUN.to_string(), options.run_id.clone()),
        (LABEL_PID.to_string(), std::process::id().to_string()),
        (LABEL_HOST.to_string(), host_name()),
    ]);
    ContainerCreateBody {
        image: Some(options.image.clone()),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        user: Some(INIT_USER.into()),
        working_dir: Some(repo_dir.to_string()),
        // Instance images have no account for the agent's uid; its home is the tmpfs below.
        env: Some(vec!["HOME=/home/agent".to_string()]),
        // Without it Docker still builds a "none" network sandbox: ~0.1 s more per start.
        network_disabled: Some(true),
        labels: Some(labels),
        host_config: Some(host_config),
        ..Default::default()
    }
}

/// `srl-<run id>-<8 random hex digits>`, with characters Docker refuses in names replaced.
fn container_name(run_id: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let clean: String = run_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' })
        .collect();
    // Each RandomState has fresh keys, which is all the randomness a name needs.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    format!("srl-{clean}-{:08x}", hasher.finish() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_are_valid_and_distinct() {
        let a = container_name("run 1/x");
        let b = container_name("run 1/x");
        assert!(a.starts_with("srl-run-1-x-"), "{a}");
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')));
    }
}
