//! Snapshots of a work tree, so a rollout at step k starts from the expert's state after steps
//! 1..k−1 without replaying them.
//!
//! A snapshot is a git tree of every file in the work tree (untracked and ignored files too;
//! deletions are captured by absence) written to a host-only object store in `state/`, which
//! borrows the task repository's objects through git alternates. Taking one hashes only files
//! whose stat changed since the last (git's index stat cache); restoring checks the tree out
//! with force and removes every file the snapshot does not hold. The agent's own `.git` is not
//! part of a snapshot: what it does to its repository's history survives a restore, while the
//! files are exact. Empty directories are not captured (git does not track them).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};
use git2::{IndexAddOption, Oid, Repository};

use super::{Snapshot, WorkTree};

/// Creates the snapshot store of a fresh work tree.
pub(super) fn init(tree: &WorkTree) -> Result<()> {
    let store = tree.state_dir().join("snapshots.git");
    Repository::init_bare(&store).context("cannot create the snapshot store")?;
    let objects = tree.host_dir().join(".git/objects");
    fs::write(store.join("objects/info/alternates"), format!("{}\n", objects.display()))
        .context("cannot link the snapshot store")?;
    Ok(())
}

fn open_store(tree: &WorkTree) -> Result<(Repository, git2::Index)> {
    let repo = Repository::open_bare(tree.state_dir().join("snapshots.git")).context("the snapshot store is gone")?;
    repo.set_workdir(&tree.host_dir(), false)?;
    let index = git2::Index::open(&tree.state_dir().join("snapshot.index"))?;
    Ok((repo, index))
}

impl WorkTree {
    /// Saves the current files.
    pub fn snapshot(&mut self) -> Result<Snapshot> {
        let (repo, mut index) = open_store(self)?;
        repo.set_index(&mut index)?;
        index.add_all(["*"], IndexAddOption::FORCE, None).context("cannot read the work tree for a snapshot")?;
        index.update_all(["*"], None)?;
        index.write()?;
        let tree = index.write_tree_to(&repo)?;
        Ok(Snapshot(tree.to_string()))
    }

    /// Puts the files back exactly as they were when `snapshot` was taken. Only the files that
    /// differ are touched: the index's stat cache says which ones changed since it last saw
    /// them, so the cost follows the size of the difference, not of the repository.
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<()> {
        let (repo, mut index) = open_store(self)?;
        repo.set_index(&mut index)?;
        let id = Oid::from_str(&snapshot.0).context("not a snapshot of this backend")?;
        let tree = repo.find_tree(id).context("snapshot not found in this work tree's store")?;
        let mut options = git2::DiffOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(true)
            .recurse_ignored_dirs(true)
            .include_typechange(true);
        let diff = repo.diff_tree_to_workdir_with_index(Some(&tree), Some(&mut options))?;
        let root = self.host_dir();
        for delta in diff.deltas() {
            let Some(rel) = delta.new_file().path().or(delta.old_file().path()).map(Path::to_path_buf) else {
                continue;
            };
            let host = root.join(&rel);
            match tree.get_path(&rel) {
                // A file where the snapshot has a directory: the directory's files come back as
                // their own deltas.
                Ok(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                    remove_path(&host, &root).with_context(|| format!("cannot remove {}", rel.display()))?;
                }
                Ok(entry) => {
                    write_entry(&repo, &entry, &host).with_context(|| format!("cannot restore {}", rel.display()))?;
                    index.add_path(&rel)?;
                }
                Err(_) => {
                    remove_path(&host, &root).with_context(|| format!("cannot remove {}", rel.display()))?;
                    let _ = index.remove_path(&rel);
                }
            }
        }
        index.write()?;
        self.fix_ownership()
    }
}

/// Writes one blob of a snapshot tree to `host`, with its mode (executable bit, symlink).
fn write_entry(repo: &Repository, entry: &git2::TreeEntry, host: &Path) -> Result<()> {
    let blob = repo.find_blob(entry.id())?;
    if let Ok(meta) = host.symlink_metadata() {
        if meta.is_dir() {
            fs::remove_dir_all(host)?;
        } else {
            fs::remove_file(host)?;
        }
    }
    if let Some(parent) = host.parent() {
        if parent.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
            fs::remove_file(parent)?;
        }
        fs::create_dir_all(parent)?;
    }
    if entry.filemode() == i32::from(git2::FileMode::Link) {
        let target = std::str::from_utf8(blob.content()).context("symlink target is not UTF-8")?;
        std::os::unix::fs::symlink(target, host)?;
        return Ok(());
    }
    fs::write(host, blob.content())?;
    let mode = if entry.filemode() == i32::from(git2::FileMode::BlobExecutable) { 0o755 } else { 0o644 };
    fs::set_permissions(host, fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Removes a file the snapshot does not have, and the directories it leaves empty.
fn remove_path(host: &Path, root: &Path) -> Result<()> {
    match host.symlink_metadata() {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(host)?,
        Ok(_) => fs::remove_file(host)?,
        Err(_) => return Ok(()),
    }
    let mut dir = host.parent();
    while let Some(parent) = dir.filter(|d| *d != root && d.starts_with(root)) {
        if fs::remove_dir(parent).is_err() {
            break;
        }
        dir = parent.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(tree: &WorkTree) -> Vec<(String, String)> {
        let mut out = Vec::new();
        walk(&tree.host_dir(), &tree.host_dir(), &mut out);
        out.sort();
        out
    }

    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            if rel == ".git" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push((rel, fs::read_to_string(&path).unwrap_or_default()));
            }
        }
    }

    #[test]
    fn restore_is_exact_for_edits_new_deleted_and_ignored_files() {
        let source = tempfile::tempdir().unwrap();
        fs::write(source.path().join("a.py"), "a = 1\n").unwrap();
        fs::write(source.path().join(".gitignore"), "*.log\n").unwrap();
        fs::create_dir(source.path().join("pkg")).unwrap();
        fs::write(source.path().join("pkg/b.py"), "b = 2\n").unwrap();
        let mut tree = WorkTree::from_files(source.path(), "/testbed").unwrap();
        fs::write(tree.host_dir().join("a.py"), "a = 10\n").unwrap();
        fs::write(tree.host_dir().join("new.py"), "new\n").unwrap();
        fs::write(tree.host_dir().join("run.log"), "ignored but kept\n").unwrap();
        fs::remove_file(tree.host_dir().join("pkg/b.py")).unwrap();
        fs::write(tree.host_dir().join("pkg/c.py"), "c = 3\n").unwrap();
        let before = files(&tree);
        let snapshot = tree.snapshot().unwrap();

        fs::write(tree.host_dir().join("a.py"), "a = 99\n").unwrap();
        fs::write(tree.host_dir().join("pkg/b.py"), "back\n").unwrap();
        fs::remove_file(tree.host_dir().join("new.py")).unwrap();
        fs::write(tree.host_dir().join("other.log"), "x\n").unwrap();
        fs::remove_dir_all(tree.host_dir().join("pkg")).unwrap();
        fs::write(tree.host_dir().join("pkg"), "a file where a directory was\n").unwrap();
        fs::create_dir_all(tree.host_dir().join("deep/er")).unwrap();
        fs::write(tree.host_dir().join("deep/er/c.txt"), "c\n").unwrap();
        tree.restore(&snapshot).unwrap();
        assert_eq!(files(&tree), before);

        let again = tree.snapshot().unwrap();
        assert_eq!(again, snapshot, "same files, same tree id");
        assert!(tree.diff().unwrap().contains("+a = 10"));
    }
}
