//! The host side of a sandbox: a private copy of the task repository (with git2), the mapping
//! from paths the agent uses (`/testbed/x.py`) to host paths, file access, diffs against the
//! base commit, and patch application the way the SWE-bench harness does it.
//!
//! Layout of one work tree on the host: `<temp>/repo` is the repository (what a container sees
//! at the mount path) and `<temp>/state` holds what the agent must never touch (the snapshot
//! object store and index, see `state.rs`).

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use git2::{IndexAddOption, Oid, Repository};

/// A repository copy owned by one sandbox; removed from disk when dropped.
pub struct WorkTree {
    temp: tempfile::TempDir,
    /// `temp/repo` with every symlink resolved, so host and sandbox paths map both ways.
    root: PathBuf,
    mount_path: String,
    base_commit: Oid,
    /// uid/gid that must own the files so the sandbox's agent user can write them.
    owner: Option<(u32, u32)>,
}

/// How a patch went in (or not), with the tool output for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// `git apply`, `git apply --reject`, `patch --fuzz`, or `None` when all failed.
    pub method: Option<&'static str>,
    pub log: String,
}

impl WorkTree {
    /// A work tree from a plain directory of files: copied, `git init`, everything committed.
    pub fn from_files(source: &Path, mount_path: &str) -> Result<WorkTree> {
        let temp = new_temp()?;
        let dir = temp.path().join("repo");
        copy_dir(source, &dir).with_context(|| format!("failed to copy {}", source.display()))?;
        let repo =
            Repository::init(&dir).with_context(|| format!("failed to init a repository in {}", dir.display()))?;
        let mut index = repo.index()?;
        index.add_all(["*"], IndexAddOption::DEFAULT, None)?;
        index.write()?;
        let tree = repo.find_tree(index.write_tree()?)?;
        // A fixed author and time make the base commit a function of the files alone, so a task
        // shipped as a directory has the same `base_commit` on every machine.
        let signature = git2::Signature::new("srl", "srl@localhost", &git2::Time::new(0, 0))?;
        let commit = repo.commit(Some("HEAD"), &signature, &signature, "base", &tree, &[])?;
        WorkTree::finish(temp, mount_path, commit)
    }

    /// A work tree cloned from a repository (a local path, bare or not, or a URL) at `commit`
    /// (default: its HEAD), checked out detached.
    pub fn from_repository(source: &str, commit: Option<&str>, mount_path: &str) -> Result<WorkTree> {
        let temp = new_temp()?;
        let dir = temp.path().join("repo");
        // Dropped once cloned; errors name `source`, the repository the user gave.
        let staging =
            tempfile::Builder::new().prefix("srl-mirror-").tempdir().context("cannot create a temporary directory")?;
        let staged = stage_without_refs(Path::new(source), staging.path())?;
        let clone_from = staged.as_deref().and_then(Path::to_str).unwrap_or(source);
        let mut builder = git2::build::RepoBuilder::new();
        if Path::new(clone_from).exists() {
            builder.clone_local(git2::build::CloneLocal::Local);
        }
        let repo = builder.clone(clone_from, &dir).with_context(|| format!("failed to clone {source}"))?;
        let target = match commit {
            Some(rev) => repo
                .revparse_single(rev)
                .with_context(|| format!("commit {rev} not found in {source}"))?
                .peel_to_commit()?,
            None => repo.head()?.peel_to_commit()?,
        };
        repo.checkout_tree(target.as_object(), Some(git2::build::CheckoutBuilder::new().force()))?;
        repo.set_head_detached(target.id())?;
        WorkTree::finish(temp, mount_path, target.id())
    }

    fn finish(temp: tempfile::TempDir, mount_path: &str, base_commit: Oid) -> Result<WorkTree> {
        if !mount_path.starts_with('/') || mount_path.len() < 2 {
            bail!("the repository path inside the sandbox must be absolute, got {mount_path:?}");
        }
        fs::create_dir_all(temp.path().join("state"))?;
        let root = temp.path().join("repo").canonicalize().context("the new work tree vanished")?;
        let mount_path = mount_path.trim_end_matches('/').to_string();
        let tree = WorkTree { temp, root, mount_path, base_commit, owner: None };
        crate::sandbox::state::init(&tree)?;
        Ok(tree)
    }

    /// The repository directory on the host.
    pub fn host_dir(&self) -> PathBuf {
        self.root.clone()
    }

    /// Host-only directory for bookkeeping the agent must not see.
    pub fn state_dir(&self) -> PathBuf {
        self.temp.path().join("state")
    }

    /// Where the sandbox sees the repository, e.g. `/testbed`.
    pub fn mount_path(&self) -> &str {
        &self.mount_path
    }

    pub fn base_commit(&self) -> Oid {
        self.base_commit
    }

    /// Makes every file belong to `uid:gid` now and after every write or restore.
    pub fn set_owner(&mut self, uid: u32, gid: u32) -> Result<()> {
        self.owner = Some((uid, gid));
        self.fix_ownership()
    }

    pub fn fix_ownership(&self) -> Result<()> {
        let Some((uid, gid)) = self.owner else { return Ok(()) };
        chown_tree(&self.host_dir(), uid, gid)
    }

    /// The host path of `path` as the agent wrote it: absolute under the mount path, or
    /// relative to the repository root. Paths that leave the repository, directly or through
    /// a symlink, are refused: host-side tools must never touch the host's own files.
    pub fn host_path(&self, path: &str) -> Result<PathBuf> {
        let relative = if let Some(rest) = path.strip_prefix(&self.mount_path) {
            if !(rest.is_empty() || rest.starts_with('/')) {
                bail!("{path} is outside the repository {}", self.mount_path);
            }
            rest.trim_start_matches('/')
        } else if path.starts_with('/') {
            bail!("{path} is outside the repository {}", self.mount_path);
        } else {
            path
        };
        let mut clean = PathBuf::new();
        for component in Path::new(relative).components() {
            match component {
                Component::Normal(part) => clean.push(part),
                Component::CurDir => {}
                Component::ParentDir if clean.pop() => {}
                _ => bail!("{path} is outside the repository {}", self.mount_path),
            }
        }
        let host = self.root.join(&clean);
        // The deepest part of the path that exists, a symlink itself included (`exists()` would
        // follow it); it must resolve inside the repository, and a dangling link is refused
        // because writing through it would create its target wherever it points.
        let mut existing = host.as_path();
        while existing.symlink_metadata().is_err() {
            existing = existing.parent().unwrap_or(&self.root);
        }
        match existing.canonicalize() {
            Ok(resolved) if resolved.starts_with(&self.root) => Ok(host),
            Ok(_) => bail!("{path} leads outside the repository {} (through a symlink)", self.mount_path),
            Err(_) => bail!("{path} goes through a dangling symlink"),
        }
    }

    /// The agent-visible path of a host path inside the work tree.
    pub fn sandbox_path(&self, host: &Path) -> String {
        match host.strip_prefix(self.host_dir()) {
            Ok(rel) if rel.as_os_str().is_empty() => self.mount_path.clone(),
            Ok(rel) => format!("{}/{}", self.mount_path, rel.display()),
            Err(_) => host.display().to_string(),
        }
    }

    pub fn read_file(&self, path: &str) -> Result<String> {
        let host = self.host_path(path)?;
        let bytes = fs::read(&host).with_context(|| format!("cannot read {path}"))?;
        String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{path} is not a UTF-8 text file"))
    }

    pub fn write_file(&self, path: &str, contents: &str) -> Result<()> {
        let host = self.host_path(path)?;
        if let Some(parent) = host.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create the directory of {path}"))?;
        }
        fs::write(&host, contents).with_context(|| format!("cannot write {path}"))?;
        self.fix_ownership_of(&host)
    }

    /// Gives `host` and its parent directories up to the root to the sandbox's agent user.
    pub fn fix_ownership_of(&self, host: &Path) -> Result<()> {
        match self.owner {
            Some((uid, gid)) => {
                let mut path = host.to_path_buf();
                let root = self.host_dir();
                while path.starts_with(&root) && path != root {
                    std::os::unix::fs::lchown(&path, Some(uid), Some(gid))?;
                    path.pop();
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The changes since the base commit as a git patch, new untracked files included and
    /// `.gitignore`d files left out (what `git add -A && git diff --cached BASE` gives).
    pub fn diff(&self) -> Result<String> {
        let repo = Repository::open(self.host_dir()).context("the work tree's repository is gone")?;
        let mut index = git2::Index::new()?;
        let base_tree = repo.find_commit(self.base_commit)?.tree()?;
        index.read_tree(&base_tree)?;
        repo.set_index(&mut index)?;
        index.add_all(["*"], IndexAddOption::DEFAULT, None)?;
        index.update_all(["*"], None)?;
        let tree = repo.find_tree(index.write_tree_to(&repo)?)?;
        let mut options = git2::DiffOptions::new();
        options.show_binary(true);
        let diff = repo.diff_tree_to_tree(Some(&base_tree), Some(&tree), Some(&mut options))?;
        patch_text(&diff)
    }

    /// Applies `patch` like the SWE-bench harness: `git apply`, then `git apply --reject`,
    /// then `patch --batch --fuzz=5 -p1`; the first that succeeds wins.
    pub fn apply_patch(&self, patch: &str) -> Result<ApplyOutcome> {
        let file = self.state_dir().join("apply.patch");
        fs::write(&file, patch).context("cannot stage the patch")?;
        let attempts: [(&'static str, &str, Vec<String>); 3] = [
            ("git apply", "git", vec!["apply".into(), "--verbose".into(), file.display().to_string()]),
            (
                "git apply --reject",
                "git",
                vec!["apply".into(), "--verbose".into(), "--reject".into(), file.display().to_string()],
            ),
            (
                "patch --fuzz",
                "patch",
                vec!["--batch".into(), "--fuzz=5".into(), "-p1".into(), "-i".into(), file.display().to_string()],
            ),
        ];
        let mut log = String::new();
        for (method, program, args) in attempts {
            let out = Command::new(program)
                .args(&args)
                .current_dir(self.host_dir())
                .output()
                .with_context(|| format!("cannot run {program}"))?;
            log.push_str(&format!(
                ">>> {method}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
            if out.status.success() {
                self.fix_ownership()?;
                return Ok(ApplyOutcome { method: Some(method), log });
            }
        }
        Ok(ApplyOutcome { method: None, log })
    }
}

/// A bare repository shipped as `objects/`, `packed-refs` and `HEAD` only (read-only fixtures,
/// some archives) has no `refs/` directory, without which git does not recognise it. Such a
/// repository is copied under `temp` with an empty `refs/`, and the copy is cloned instead.
fn stage_without_refs(source: &Path, temp: &Path) -> Result<Option<PathBuf>> {
    let bare_without_refs =
        source.join("objects").is_dir() && source.join("HEAD").is_file() && !source.join("refs").exists();
    if !bare_without_refs {
        return Ok(None);
    }
    let staged = temp.join("source.git");
    copy_dir(source, &staged).with_context(|| format!("failed to copy {}", source.display()))?;
    for dir in ["refs/heads", "refs/tags"] {
        fs::create_dir_all(staged.join(dir))?;
    }
    // The copy keeps the read-only modes of the original; git writes nothing to it, but the
    // temporary directory must be removable.
    make_writable(&staged)?;
    Ok(Some(staged))
}

fn make_writable(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let mode = entry.metadata()?.permissions().mode();
        fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode | 0o200))?;
        if entry.file_type()?.is_dir() {
            make_writable(&entry.path())?;
        }
    }
    let mode = fs::metadata(dir)?.permissions().mode();
    fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o200))?;
    Ok(())
}

/// A git diff as the text of a patch (`git diff` output).
pub fn patch_text(diff: &git2::Diff) -> Result<String> {
    let mut patch = Vec::new();
    diff.print(git2::DiffFormat::Patch, |_, _, line| {
        // Content lines carry their origin (`+`, `-`, ` `) apart from the text; headers do not.
        if matches!(line.origin(), '+' | '-' | ' ') {
            patch.push(line.origin() as u8);
        }
        patch.extend_from_slice(line.content());
        true
    })?;
    Ok(String::from_utf8_lossy(&patch).into_owned())
}

fn new_temp() -> Result<tempfile::TempDir> {
    static OWNER_CHECK: std::sync::Once = std::sync::Once::new();
    // Work trees are chowned to the sandbox's agent user, yet this process keeps using them;
    // libgit2's "dubious ownership" check would refuse to open our own copies.
    // SAFETY: a global libgit2 option, set once before any repository is opened by us.
    OWNER_CHECK.call_once(|| unsafe {
        let _ = git2::opts::set_verify_owner_validation(false);
    });
    tempfile::Builder::new().prefix("srl-sandbox-").tempdir().context("cannot create a temporary directory")
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                copy_dir(&entry.path(), &target)?;
            }
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn chown_tree(dir: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::lchown(dir, Some(uid), Some(gid)).with_context(|| format!("cannot chown {}", dir.display()))?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            chown_tree(&entry.path(), uid, gid)?;
        } else {
            std::os::unix::fs::lchown(entry.path(), Some(uid), Some(gid))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git").args(args).current_dir(dir).status().expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    /// A bare mirror whose refs all live in `packed-refs`, stored without its empty `refs/`
    /// (as the fixtures' shallow mirrors are): cloned from a staged copy, the original untouched.
    #[test]
    fn a_mirror_without_refs_is_cloned_and_left_as_it_was() {
        let temp = tempfile::tempdir().expect("temp dir");
        let source = temp.path().join("source");
        fs::create_dir_all(&source).expect("mkdir");
        git(&source, &["init", "-q"]);
        fs::write(source.join("a.py"), "x = 1\n").expect("write");
        git(&source, &["add", "a.py"]);
        git(&source, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base"]);
        let commit = String::from_utf8(
            Command::new("git").args(["rev-parse", "HEAD"]).current_dir(&source).output().expect("git").stdout,
        )
        .expect("utf-8");
        git(temp.path(), &["clone", "-q", "--bare", "source", "o__r.git"]);
        let mirror = temp.path().join("o__r.git");
        git(&mirror, &["pack-refs", "--all"]);
        fs::remove_dir_all(mirror.join("refs")).expect("remove refs");

        let tree =
            WorkTree::from_repository(mirror.to_str().expect("utf-8"), Some(commit.trim()), "/testbed").expect("clone");
        assert_eq!(tree.read_file("a.py").expect("a.py"), "x = 1\n");
        assert_eq!(tree.base_commit().to_string(), commit.trim());
        assert!(!mirror.join("refs").exists(), "the original is not written");
    }
}
