//! The local backend: commands run as processes on this machine, over a host work tree that the
//! sandbox owns (its files, diffs, patches and snapshots are done on the host with git2).
//!
//! Isolation is weaker than Docker's and depends on privileges. Run as root, each command gets
//! private mount and network namespaces (no network; the work tree bind-mounted at the
//! repository path, so `/testbed/...` paths in expert actions work), runs under a uid of its
//! own that no account uses, with private scratch directories (`/tmp`, `/var/tmp` and
//! `/dev/shm` are fresh 512 MiB tmpfs mounts), and everything that uid runs is killed on
//! timeout, setsid'd escapees included. Run as another user, a command runs as that user in the work tree's host
//! directory, with no network isolation, in its own process group that is killed on timeout.
//! Either way rlimits cap memory, file size and CPU time, but the host's files outside the work
//! tree are readable where they are world-readable, and writable where the sandbox uid may
//! write. Use Docker for anything untrusted.

use std::ffi::CString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::oneshot;

use super::output::OutputCollector;
use super::{ApplyOutcome, ExecLimits, Observation, Probe, RepoPath, Sandbox, Skip, Snapshot, WorkTree};

/// Memory (address space) limit of one command.
const MEMORY_LIMIT: u64 = 4 << 30;
/// Largest file a command may write.
const FILE_SIZE_LIMIT: u64 = 1 << 30;
/// Size of each private scratch tmpfs (`/tmp`, `/var/tmp`, `/dev/shm`) of an isolated sandbox.
const SCRATCH_SIZE: &str = "512m";
/// Processes of one isolated sandbox (its uid), like the Docker backend's pids limit.
const PROCESS_LIMIT: u64 = 256;
/// Sandbox uids come from a range no distribution allocates to accounts.
const UID_BASE: u32 = 2_000_000;

static NEXT_UID: AtomicU32 = AtomicU32::new(0);

pub struct LocalSandbox {
    work_tree: WorkTree,
    base_commit: String,
    /// The uid commands run under, when this process is root.
    uid: Option<u32>,
}

impl LocalSandbox {
    pub fn start(mut work_tree: WorkTree) -> Result<LocalSandbox> {
        let uid = if unsafe { libc::geteuid() } == 0 {
            let offset = (std::process::id() % 10_000) * 100 + NEXT_UID.fetch_add(1, Ordering::Relaxed) % 100;
            let uid = UID_BASE + offset;
            std::fs::create_dir_all(work_tree.mount_path())
                .with_context(|| format!("cannot create the mount point {}", work_tree.mount_path()))?;
            work_tree.set_owner(uid, uid)?;
            Some(uid)
        } else {
            None
        };
        let base_commit = work_tree.base_commit().to_string();
        Ok(LocalSandbox { work_tree, base_commit, uid })
    }

    /// The host work tree the commands run over.
    pub fn work_tree(&self) -> &WorkTree {
        &self.work_tree
    }

    /// Whether commands run in their own namespaces under a dedicated uid.
    pub fn isolated(&self) -> bool {
        self.uid.is_some()
    }

    fn command(
        &self,
        command: &str,
        limits: &ExecLimits,
        writer: std::io::PipeWriter,
    ) -> Result<std::process::Command> {
        let mut cmd = std::process::Command::new("bash");
        cmd.arg("-c")
            .arg(command)
            .current_dir(self.work_tree.host_dir())
            .env_clear()
            .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C.UTF-8")
            .env("HOME", "/tmp")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer)
            .process_group(0);
        let cpu_seconds = limits.timeout.as_secs() + 5;
        let isolation = match self.uid {
            Some(uid) => Some(Isolation::new(&self.work_tree, uid)?),
            None => None,
        };
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe system
        // calls (setrlimit, unshare, mount, chdir, setgroups, setgid, setuid) on values prepared
        // before the fork; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                set_limit(libc::RLIMIT_AS, MEMORY_LIMIT)?;
                set_limit(libc::RLIMIT_FSIZE, FILE_SIZE_LIMIT)?;
                set_limit(libc::RLIMIT_CPU, cpu_seconds)?;
                set_limit(libc::RLIMIT_CORE, 0)?;
                match &isolation {
                    // Counted per uid, so only meaningful for the sandbox's own uid: a fork bomb
                    // stops at this many processes instead of taking the host down.
                    Some(isolation) => {
                        set_limit(libc::RLIMIT_NPROC, PROCESS_LIMIT)?;
                        isolation.enter()
                    }
                    None => Ok(()),
                }
            });
        }
        Ok(cmd)
    }

    /// Kills everything the command started: every process of the sandbox uid, or the group.
    async fn kill_all(&self, pgid: u32) {
        match self.uid {
            Some(uid) => {
                let status = tokio::process::Command::new("bash")
                    .args(["-c", "kill -KILL -1"])
                    .uid(uid)
                    .gid(uid)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .await;
                if let Err(e) = status {
                    tracing::warn!("cannot run the kill sweep as uid {uid}: {e}");
                }
            }
            // A pgid of 0 would mean our own group: never signal that.
            None if pgid > 0 => unsafe {
                libc::kill(-(pgid as i32), libc::SIGKILL);
            },
            None => {}
        }
    }
}

/// What a command needs to enter its namespaces, prepared before the fork.
struct Isolation {
    source: CString,
    target: CString,
    root: CString,
    /// World-writable directories that get a private tmpfs, so sandboxes (each with its own
    /// uid) never meet each other's scratch files, e.g. pytest's `/tmp/pytest-of-<user>`.
    scratch: [CString; 3],
    tmpfs: CString,
    tmpfs_options: CString,
    uid: u32,
}

impl Isolation {
    fn new(work_tree: &WorkTree, uid: u32) -> Result<Isolation> {
        let cstring = |s: &str| CString::new(s).context("path contains a NUL byte");
        Ok(Isolation {
            source: cstring(&work_tree.host_dir().display().to_string())?,
            target: cstring(work_tree.mount_path())?,
            root: cstring("/")?,
            scratch: [cstring("/tmp")?, cstring("/var/tmp")?, cstring("/dev/shm")?],
            tmpfs: cstring("tmpfs")?,
            tmpfs_options: cstring(&format!("size={SCRATCH_SIZE},mode=1777"))?,
            uid,
        })
    }

    fn enter(&self) -> std::io::Result<()> {
        // SAFETY: plain system calls on NUL-terminated strings that outlive the call.
        unsafe {
            check(libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET))?;
            check(libc::mount(
                std::ptr::null(),
                self.root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                self.source.as_ptr(),
                self.target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ))?;
            for dir in &self.scratch {
                let flags = libc::MS_NOSUID | libc::MS_NODEV;
                check(libc::mount(
                    self.tmpfs.as_ptr(),
                    dir.as_ptr(),
                    self.tmpfs.as_ptr(),
                    flags,
                    self.tmpfs_options.as_ptr().cast(),
                ))?;
            }
            check(libc::chdir(self.target.as_ptr()))?;
            check(libc::setgroups(0, std::ptr::null()))?;
            check(libc::setgid(self.uid))?;
            check(libc::setuid(self.uid))?;
        }
        Ok(())
    }
}

fn check(result: libc::c_int) -> std::io::Result<()> {
    if result == -1 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> std::io::Result<()> {
    let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
    // SAFETY: setrlimit reads the struct and nothing else.
    check(unsafe { libc::setrlimit(resource, &limit) })
}

/// Drains the command's output on a blocking thread; says once when it passes the kill limit.
fn spawn_reader(
    mut reader: std::io::PipeReader,
    collector: Arc<Mutex<OutputCollector>>,
    kill_after: usize,
    flood: oneshot::Sender<()>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        let mut flood = Some(flood);
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            let Ok(mut collector) = collector.lock() else { break };
            collector.push(&buf[..n]);
            if collector.total() > kill_after {
                if let Some(flood) = flood.take() {
                    let _ = flood.send(());
                }
            }
        }
    })
}

impl Sandbox for LocalSandbox {
    fn repo_dir(&self) -> &str {
        self.work_tree.mount_path()
    }

    fn base_commit(&self) -> &str {
        &self.base_commit
    }

    async fn exec(&mut self, command: &str, limits: &ExecLimits) -> Result<Observation> {
        let started = Instant::now();
        let (reader, writer) = std::io::pipe().context("cannot create a pipe")?;
        let cmd = self.command(command, limits, writer)?;
        let mut child = tokio::process::Command::from(cmd).spawn().context("cannot start bash")?;
        let pgid = child.id().unwrap_or(0);
        let collector = Arc::new(Mutex::new(OutputCollector::new(limits.output_cap)));
        let (flood_tx, flood_rx) = oneshot::channel();
        let reader_task = spawn_reader(reader, collector.clone(), limits.kill_after_bytes, flood_tx);

        let (mut timed_out, mut output_limited) = (false, false);
        let status = tokio::select! {
            status = child.wait() => Some(status.context("cannot wait for the command")?),
            _ = tokio::time::sleep(limits.timeout) => { timed_out = true; None }
            Ok(()) = flood_rx => { output_limited = true; None }
        };
        // Background processes the command left behind die with it: an action is over when it returns.
        self.kill_all(pgid).await;
        let _ = child.wait().await;
        let _ = tokio::time::timeout(Duration::from_millis(500), reader_task).await;
        let collector = std::mem::replace(
            &mut *collector.lock().map_err(|_| anyhow::anyhow!("output reader panicked"))?,
            OutputCollector::new(0),
        );
        let (output, elided_bytes) = collector.finish();
        let exit_code = status.map(|s| {
            use std::os::unix::process::ExitStatusExt;
            s.code().map_or_else(|| 128 + i64::from(s.signal().unwrap_or(0)), i64::from)
        });
        Ok(Observation { output, exit_code, timed_out, output_limited, elided_bytes, duration: started.elapsed() })
    }

    async fn probe(&mut self, path: &str) -> Result<Probe> {
        self.work_tree.probe(path)
    }

    async fn read(&mut self, path: &str) -> Result<Result<Vec<u8>, String>> {
        Ok(self.work_tree.read_bytes(path))
    }

    async fn write(&mut self, path: &str, bytes: &[u8]) -> Result<Result<(), String>> {
        self.work_tree.write_bytes(path, bytes)
    }

    async fn list(&mut self, dir: &str) -> Result<Vec<(String, bool)>> {
        Ok(self.work_tree.list(dir))
    }

    async fn walk(&mut self, dir: &str, skip: Skip) -> Result<Vec<(RepoPath, u64)>> {
        Ok(self.work_tree.walk(dir, skip))
    }

    async fn read_files(&mut self, paths: &[RepoPath]) -> Result<Vec<Option<Vec<u8>>>> {
        Ok(self.work_tree.read_files(paths))
    }

    async fn diff(&mut self) -> Result<String> {
        self.work_tree.diff()
    }

    async fn apply_patch(&mut self, patch: &str) -> Result<ApplyOutcome> {
        self.work_tree.apply_patch(patch)
    }

    async fn snapshot(&mut self) -> Result<Snapshot> {
        self.work_tree.snapshot()
    }

    async fn restore(&mut self, snapshot: &Snapshot) -> Result<()> {
        self.work_tree.restore(snapshot)
    }

    async fn close(self) -> Result<()> {
        if self.uid.is_some() {
            self.kill_all(0).await;
        }
        Ok(())
    }
}
