//! The repository of a Docker sandbox, inside its container: every operation is a command run
//! through the Engine API's exec, or an archive upload or download, so the engine never needs
//! this machine's file system (a remote engine works the same way).
//!
//! Who runs what: what the agent could do itself runs as the agent user (reads, writes, diffs,
//! `git apply`), with the repository's own git configuration; the snapshot store runs as root
//! with a git directory of its own in `/srl/snap` (mode 0700), with no user or system
//! configuration, so nothing the agent writes in the repository (its `.git/config`, hooks,
//! attributes) runs as root or reaches the store. Restores write as root, then give every file
//! not owned by the agent back to it.
//!
//! The store does not borrow the repository's objects (no alternates): a rollout that deletes
//! `.git` must not make the expert's states unrestorable. Its first snapshot hashes every file
//! (about 0.1 s for 500 files); later ones only what changed since (git's index stat cache).

use std::collections::HashMap;
use std::io::Read;

use anyhow::{bail, Context, Result};
use bollard::query_parameters::UploadToContainerOptionsBuilder;

use super::docker::{DockerSandbox, AGENT_USER};
use super::files::{Kind, Probe, RepoPath, Skip};
use super::session::{Finish, Piece};
use super::{ApplyOutcome, Snapshot, WorkTree};

const ROOT_USER: &str = "0:0";
/// Root-only bookkeeping inside the container: the snapshot store and staged patches.
const STATE_DIR: &str = "/srl";
/// The most paths given to one `tar` command line when reading files in bulk.
const PATHS_PER_READ: usize = 2000;

/// What an internal command printed and how it ended.
pub(super) struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: i64,
}

impl Output {
    fn text(&self) -> String {
        format!("{}{}", String::from_utf8_lossy(&self.stdout), String::from_utf8_lossy(&self.stderr))
    }

    fn ok(self, what: &str) -> Result<Output> {
        if self.code != 0 {
            bail!("{what} failed in the sandbox (exit {}): {}", self.code, self.text().trim());
        }
        Ok(self)
    }
}

/// Git as root on the snapshot store, with no configuration but its own.
const STORE_GIT: &str = r#"sgit() { GIT_DIR=/srl/snap/.git GIT_WORK_TREE="$REPO" GIT_INDEX_FILE=/srl/snap.index \
GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=/srl git -c safe.directory='*' -c core.autocrlf=false \
-c core.fileMode=true -c core.symlinks=true "$@"; }"#;

/// Makes the state directory and the snapshot store, and gives the repository to the agent.
const SETUP: &str = r#"set -e
REPO=$1
[ -d "$REPO/.git" ] || { echo "no git repository at $REPO in this image" >&2; exit 3; }
mkdir -p /srl/patches && chmod 0755 /srl /srl/patches
git init -q /srl/snap && chmod 0700 /srl/snap
find "$REPO" ! -user 1000 -exec chown -h 1000:1000 {} +
"#;

/// `kind size executable canonical`, tab-separated, or `escapes`.
const PROBE: &str = r#"root=$(realpath -e -- "$1") || exit 3
rel=$2
p=$root
if [ -n "$rel" ]; then
  IFS=/ read -r -a parts <<< "$rel"
  for part in "${parts[@]}"; do
    p=$p/$part
    if [ -L "$p" ]; then
      t=$(realpath -e -- "$p" 2>/dev/null) || { echo escapes; exit 0; }
      case $t in "$root"|"$root"/*) ;; *) echo escapes; exit 0;; esac
    elif [ ! -e "$p" ]; then
      break
    fi
  done
fi
full=$root${rel:+/$rel}
size=0; x=0
if [ -d "$full" ]; then kind=dir
elif [ -f "$full" ]; then kind=file; size=$(stat -L -c %s -- "$full"); [ -x "$full" ] && x=1
elif [ -e "$full" ]; then kind=other
else kind=missing; fi
canon=$(realpath -e -- "$full" 2>/dev/null) || canon=
case $canon in "$root"|"$root"/*) canon=${canon#"$root"}; canon=${canon#/}; have=1 ;; *) have=0 ;; esac
printf '%s\t%s\t%s\t%s\t%s' "$kind" "$size" "$x" "$have" "$canon"
"#;

/// Entries of one directory: `type<TAB>name<NUL>`, links not followed.
const LIST: &str = r#"find "$1" -mindepth 1 -maxdepth 1 -printf '%y\t%f\0' 2>/dev/null; exit 0"#;

/// Regular files below a directory: `size<TAB>path<NUL>`, pruning names that match `$2`.
const WALK: &str = r#"find "$1" -mindepth 1 -name "$2" -prune -o -type f -printf '%s\t%P\0' 2>/dev/null; exit 0"#;

/// A file's bytes through the session (one message each way, where an archive download is a
/// request of its own). Like the archive download it replaces, a final link is not followed
/// (its content reads as empty); the tools resolve links with the probe first.
const READ: &str = r#"if [ -L "$1" ]; then exit 0; elif [ -d "$1" ]; then exit 21; elif [ ! -e "$1" ]; then exit 2; fi
exec cat -- "$1""#;

/// A tar of the named files, relative to the repository; unreadable ones are left out.
const READ_FILES: &str = r#"cd "$1" && shift && tar -cf - --no-recursion -- "$@" 2>/dev/null; exit 0"#;

/// `git add -A && git diff --cached BASE` on a throwaway index, as the agent.
const DIFF: &str = r#"set -e
cd "$1"
export GIT_INDEX_FILE
GIT_INDEX_FILE=$(mktemp /tmp/srl-diff-index.XXXXXX)
trap 'rm -f "$GIT_INDEX_FILE"' EXIT
git read-tree "$2"
git add -A .
git -c diff.noprefix=false -c diff.mnemonicPrefix=false -c core.quotePath=true \
  diff --cached --binary --no-ext-diff --no-textconv --no-color "$2"
"#;

impl DockerSandbox {
    /// Runs `script` with `bash -c` and `args` as `$1…` in `/`, to the end, collecting its
    /// output, through `user`'s attached session.
    pub(super) async fn run_script(&self, user: &str, script: &str, args: &[&str]) -> Result<Output> {
        let mut argv = vec!["bash", "-c", script, "srl"];
        argv.extend_from_slice(args);
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let finish = self
            .run_in_session(user, "/", &argv, None, |piece| {
                match piece {
                    Piece::Stdout(bytes) => stdout.extend_from_slice(bytes),
                    Piece::Stderr(bytes) => stderr.extend_from_slice(bytes),
                }
                true
            })
            .await
            .with_context(|| format!("an internal command failed in container {}", self.container_id()))?;
        match finish {
            Finish::Exited(code) => Ok(Output { stdout, stderr, code }),
            Finish::Stopped | Finish::SessionLost | Finish::TimedOut => {
                bail!("the shell session of container {} ended during an internal command", self.container_id())
            }
        }
    }

    async fn store_git(&self, script: &str, args: &[&str]) -> Result<Output> {
        let script = format!("set -e\nREPO=$1\nshift\n{STORE_GIT}\ncd \"$REPO\"\n{script}");
        let mut all = vec![self.repo_dir.as_str()];
        all.extend_from_slice(args);
        self.run_script(ROOT_USER, &script, &all).await
    }

    /// Uploads a tar archive and unpacks it into directory `dir` of the container.
    pub(super) async fn upload(&self, dir: &str, tar: Vec<u8>) -> Result<()> {
        let options = UploadToContainerOptionsBuilder::new().path(dir).build();
        self.docker
            .upload_to_container(self.container_id(), Some(options), bollard::body_full(tar.into()))
            .await
            .with_context(|| format!("failed to upload files to {dir} in the sandbox"))
    }

    /// Prepares the repository at start: uploads a host tree when there is one, then the state
    /// directory and snapshot store.
    pub(super) async fn prepare_repository(&self, tree: Option<&WorkTree>) -> Result<()> {
        if let Some(tree) = tree {
            let tar = tar_of_dir(&tree.host_dir()).context("cannot pack the repository for the sandbox")?;
            self.run_script(ROOT_USER, "mkdir -p \"$1\"", &[&self.repo_dir])
                .await?
                .ok("creating the repository dir")?;
            self.upload(&self.repo_dir, tar).await?;
        }
        self.run_script(ROOT_USER, SETUP, &[&self.repo_dir]).await?.ok("preparing the repository")?;
        Ok(())
    }

    /// The repository's `HEAD` commit.
    pub(super) async fn head_commit(&self) -> Result<String> {
        let out = self.run_script(AGENT_USER, "cd \"$1\" && git rev-parse HEAD", &[&self.repo_dir]).await?;
        let out = out.ok("reading the repository's HEAD")?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    pub(super) async fn probe_in(&self, path: &str) -> Result<Probe> {
        let out = self.run_script(ROOT_USER, PROBE, &[&self.repo_dir, path]).await?.ok("probing a path")?;
        let text = String::from_utf8_lossy(&out.stdout);
        if text == "escapes\n" {
            return Ok(Probe::Escapes);
        }
        let fields: Vec<&str> = text.splitn(5, '\t').collect();
        let [kind, size, executable, have, canonical] = fields[..] else {
            bail!("unexpected probe answer from the sandbox: {text:?}");
        };
        let kind = match kind {
            "dir" => Kind::Dir,
            "file" => Kind::File { len: size.parse().unwrap_or(0), executable: executable == "1" },
            "other" => Kind::Other,
            _ => Kind::Missing,
        };
        Ok(Probe::Inside { kind, canonical: (have == "1").then(|| canonical.to_string()) })
    }

    pub(super) async fn read_in(&self, path: &str) -> Result<Result<Vec<u8>, String>> {
        let out = self.run_script(ROOT_USER, READ, &[&self.full_path(path)]).await?;
        Ok(match out.code {
            0 => Ok(out.stdout),
            2 => Err("No such file or directory (os error 2)".into()),
            21 => Err("Is a directory (os error 21)".into()),
            _ => Err(out.text().trim().to_string()),
        })
    }

    /// Writes a file through an archive upload, owned by the agent, keeping the executable bit
    /// of the file it replaces.
    pub(super) async fn write_in(&self, path: &str, bytes: &[u8]) -> Result<Result<(), String>> {
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (self.full_path(dir), name),
            None => (self.repo_dir.clone(), path),
        };
        if name.is_empty() {
            return Ok(Err("Is a directory (os error 21)".into()));
        }
        let mode = match self.probe_in(path).await? {
            Probe::Inside { kind: Kind::File { executable: true, .. }, .. } => 0o755,
            Probe::Inside { kind: Kind::Dir, .. } => return Ok(Err("Is a directory (os error 21)".into())),
            _ => 0o644,
        };
        let tar = tar_of_file(name, bytes, mode).context("cannot pack a file for the sandbox")?;
        if self.upload(&dir, tar.clone()).await.is_ok() {
            return Ok(Ok(()));
        }
        // The directory is missing (the only common failure): made as the agent, then once more.
        let made = self.run_script(AGENT_USER, "mkdir -p -- \"$1\"", &[&dir]).await?;
        if made.code != 0 {
            return Ok(Err(made.text().trim().to_string()));
        }
        match self.upload(&dir, tar).await {
            Ok(()) => Ok(Ok(())),
            Err(e) => Ok(Err(format!("{e:#}"))),
        }
    }

    pub(super) async fn list_in(&self, dir: &str) -> Result<Vec<(String, bool)>> {
        let out = self.run_script(ROOT_USER, LIST, &[&self.full_path(dir)]).await?;
        let mut names: Vec<(String, bool)> = nul_records(&out.stdout)
            .filter_map(|record| record.split_once('\t').map(|(kind, name)| (name.to_string(), kind == "d")))
            .collect();
        names.sort();
        Ok(names)
    }

    pub(super) async fn walk_in(&self, dir: &str, skip: Skip) -> Result<Vec<(RepoPath, u64)>> {
        let pattern = match skip {
            Skip::Hidden => ".*",
            Skip::GitDir => ".git",
        };
        let out = self.run_script(ROOT_USER, WALK, &[&self.full_path(dir), pattern]).await?;
        let mut files: Vec<(RepoPath, u64)> = nul_records(&out.stdout)
            .filter_map(|record| {
                let (size, rel) = record.split_once('\t')?;
                Some((super::files::join(dir, rel), size.parse().unwrap_or(0)))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    pub(super) async fn read_files_in(&self, paths: &[RepoPath]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut found: HashMap<String, Vec<u8>> = HashMap::new();
        for chunk in paths.chunks(PATHS_PER_READ) {
            let mut args = vec![self.repo_dir.as_str()];
            args.extend(chunk.iter().map(String::as_str));
            let out = self.run_script(AGENT_USER, READ_FILES, &args).await?;
            let mut archive = tar::Archive::new(&out.stdout[..]);
            for entry in archive.entries().context("the sandbox sent a broken archive")? {
                let mut entry = entry.context("the sandbox sent a broken archive")?;
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                let name = entry.path().context("a bad name in the sandbox's archive")?.to_string_lossy().into_owned();
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).context("the sandbox sent a broken archive")?;
                found.insert(name, bytes);
            }
        }
        Ok(paths.iter().map(|path| found.remove(path)).collect())
    }

    pub(super) async fn diff_in(&self) -> Result<String> {
        let out = self.run_script(AGENT_USER, DIFF, &[&self.repo_dir, &self.base_commit]).await?;
        let out = out.ok("computing the repository's diff")?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub(super) async fn apply_patch_in(&mut self, patch: &str) -> Result<ApplyOutcome> {
        self.patches += 1;
        let name = format!("{}.patch", self.patches);
        self.upload(&format!("{STATE_DIR}/patches"), tar_of_file(&name, patch.as_bytes(), 0o644)?).await?;
        let file = format!("{STATE_DIR}/patches/{name}");
        let attempts: [(&'static str, &str); 3] = [
            ("git apply", "git apply --verbose \"$2\""),
            ("git apply --reject", "git apply --verbose --reject \"$2\""),
            ("patch --fuzz", "patch --batch --fuzz=5 -p1 -i \"$2\""),
        ];
        let mut log = String::new();
        for (method, command) in attempts {
            let script = format!("cd \"$1\" && {command}");
            let out = self.run_script(AGENT_USER, &script, &[&self.repo_dir, &file]).await?;
            log.push_str(&format!(">>> {method}\n{}", out.text()));
            if out.code == 0 {
                return Ok(ApplyOutcome { method: Some(method), log });
            }
        }
        Ok(ApplyOutcome { method: None, log })
    }

    pub(super) async fn snapshot_in(&self) -> Result<Snapshot> {
        let out = self.store_git("sgit add -A -f . >/dev/null\nsgit write-tree", &[]).await?;
        let out = out.ok("taking a snapshot")?;
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if id.len() < 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("the snapshot store answered {id:?} instead of a tree id");
        }
        Ok(Snapshot(id))
    }

    pub(super) async fn restore_in(&self, snapshot: &Snapshot) -> Result<()> {
        let script = "sgit read-tree --reset -u \"$1\"\nsgit clean -ffdxq\n\
                      find . -path ./.git -prune -o ! -user 1000 -exec chown -h 1000:1000 {} +";
        self.store_git(script, &[snapshot.id()]).await?.ok("restoring a snapshot")?;
        Ok(())
    }

    fn full_path(&self, path: &str) -> String {
        super::files::agent_path(&self.repo_dir, path)
    }
}

/// Records of `find -printf '…\0'` output.
fn nul_records(bytes: &[u8]) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    bytes.split(|&b| b == 0).filter(|r| !r.is_empty()).map(String::from_utf8_lossy)
}

/// A tar holding one regular file owned by the agent.
fn tar_of_file(name: &str, bytes: &[u8], mode: u32) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(mode);
    header.set_uid(1000);
    header.set_gid(1000);
    header.set_mtime(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()));
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, name, bytes)?;
    Ok(builder.into_inner()?)
}

/// A tar of a directory's contents (its `.git` included), links kept as links.
fn tar_of_dir(dir: &std::path::Path) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Complete);
    builder.append_dir_all(".", dir)?;
    Ok(builder.into_inner()?)
}
