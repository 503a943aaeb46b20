//! The repository questions of `files.rs` answered on a host work tree with `std::fs` (the
//! local backend). Every path here is already a repository path; the probe is what keeps a
//! tool from following a link out of the work tree.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::files::{Kind, Probe, RepoPath, Skip};
use super::WorkTree;

impl WorkTree {
    fn under_root(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            self.host_dir()
        } else {
            self.host_dir().join(path)
        }
    }

    /// The repository path of a host path inside the work tree.
    fn repo_path_of(&self, host: &Path) -> Option<RepoPath> {
        let rel = host.strip_prefix(self.host_dir()).ok()?;
        Some(rel.to_string_lossy().into_owned())
    }

    /// Where `path` leads: every symbolic link on the way must resolve inside the work tree.
    pub fn probe(&self, path: &str) -> Result<Probe> {
        let root = self.host_dir();
        let mut prefix = root.clone();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            prefix.push(part);
            match fs::symlink_metadata(&prefix) {
                Ok(meta) if meta.file_type().is_symlink() => match fs::canonicalize(&prefix) {
                    Ok(target) if target.starts_with(&root) => {}
                    _ => return Ok(Probe::Escapes),
                },
                Ok(_) => {}
                // Nothing below a missing part can exist.
                Err(_) => break,
            }
        }
        let host = self.under_root(path);
        let kind = match fs::metadata(&host) {
            Ok(meta) if meta.is_dir() => Kind::Dir,
            Ok(meta) if meta.is_file() => {
                Kind::File { len: meta.len(), executable: meta.permissions().mode() & 0o111 != 0 }
            }
            Ok(_) => Kind::Other,
            Err(_) => Kind::Missing,
        };
        let canonical = fs::canonicalize(&host).ok().and_then(|c| self.repo_path_of(&c));
        Ok(Probe::Inside { kind, canonical })
    }

    /// A file's bytes; `Err` holds the reason it could not be read, for the agent.
    pub fn read_bytes(&self, path: &str) -> Result<Vec<u8>, String> {
        fs::read(self.under_root(path)).map_err(|e| e.to_string())
    }

    /// Writes a file (creating its directories), never through a final symbolic link, and gives
    /// it to the sandbox's user; `Err` holds the reason it could not be written, for the agent.
    pub fn write_bytes(&self, path: &str, bytes: &[u8]) -> Result<Result<(), String>> {
        let host = self.under_root(path);
        if let Some(parent) = host.parent() {
            if let Err(e) = fs::create_dir_all(parent) {
                return Ok(Err(e.to_string()));
            }
        }
        let written = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&host)
            .and_then(|mut file| file.write_all(bytes));
        match written {
            Ok(()) => self.fix_ownership_of(&host).map(Ok),
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    /// Names in a directory, sorted, each with whether it is a real directory (not a link to one).
    pub fn list(&self, dir: &str) -> Vec<(String, bool)> {
        let Ok(entries) = fs::read_dir(self.under_root(dir)) else { return Vec::new() };
        let mut names: Vec<(String, bool)> = entries
            .flatten()
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.file_type().is_ok_and(|t| t.is_dir())))
            .collect();
        names.sort();
        names
    }

    /// Regular files under `dir` with their sizes, not following symbolic links, leaving out
    /// what `skip` names (and everything below it); sorted by path.
    pub fn walk(&self, dir: &str, skip: Skip) -> Vec<(RepoPath, u64)> {
        let mut files = Vec::new();
        let mut pending = vec![self.under_root(dir)];
        while let Some(dir) = pending.pop() {
            // An unreadable directory is skipped, as `find` does after printing a warning.
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                if skip.skips(&entry.file_name().to_string_lossy()) {
                    continue;
                }
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() {
                    pending.push(entry.path());
                } else if kind.is_file() {
                    let len = entry.metadata().map_or(0, |m| m.len());
                    if let Some(path) = self.repo_path_of(&entry.path()) {
                        files.push((path, len));
                    }
                }
            }
        }
        files.sort();
        files
    }

    /// The contents of several files; `None` for one that cannot be read.
    pub fn read_files(&self, paths: &[RepoPath]) -> Vec<Option<Vec<u8>>> {
        paths.iter().map(|path| fs::read(self.under_root(path)).ok()).collect()
    }
}
