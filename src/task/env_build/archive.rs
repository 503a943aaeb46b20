//! Tar archives of host files for the Engine API's archive upload (`PUT /containers/{id}/archive`,
//! unpacked at `/`): a repository with its `.git`, and the package-index settings.
//!
//! Symbolic links stay links (a repository's links must not pull in host files), and entries are
//! written with the host's modes; owners are fixed in the container afterwards (`chown`). The
//! archive is built in memory: a shallow repository is a few megabytes, and the API takes one
//! body either way.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// `dir` (a repository work tree) as `target/…` (`target` absolute, e.g. `/testbed`).
pub fn directory(dir: &Path, target: &str) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder
        .append_dir_all(target.trim_start_matches('/'), dir)
        .with_context(|| format!("failed to archive {}", dir.display()))?;
    builder.into_inner().with_context(|| format!("failed to archive {}", dir.display()))
}

/// Each host file or folder at its target path.
pub fn files(files: &[(PathBuf, String)]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (host, target) in files {
        let name = target.trim_start_matches('/');
        let added = if host.is_dir() {
            builder.append_dir_all(name, host)
        } else {
            // `append_path_with_name` follows a link to a file: a CA bundle is often a link.
            builder.append_path_with_name(host, name)
        };
        added.with_context(|| format!("failed to archive {}", host.display()))?;
    }
    builder.into_inner().context("failed to archive the package-index settings")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_keep_their_links_and_land_under_the_target() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
        std::fs::write(dir.path().join(".git/HEAD"), "ref: x\n").expect("write");
        std::fs::write(dir.path().join("a.py"), "x = 1\n").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).expect("symlink");
        let bytes = directory(dir.path(), "/testbed").expect("archive");
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut entries: Vec<(String, bool)> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                (e.path().expect("path").display().to_string(), e.header().entry_type().is_symlink())
            })
            .collect();
        entries.sort();
        assert_eq!(
            entries,
            [
                ("testbed/".to_string(), false),
                ("testbed/.git".to_string(), false),
                ("testbed/.git/HEAD".to_string(), false),
                ("testbed/a.py".to_string(), false),
                ("testbed/link".to_string(), true),
            ]
        );
    }
}
