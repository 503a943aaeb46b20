//! What the file tools need to know about a sandbox's repository, whichever backend holds it:
//! paths as the agent writes them mapped to repository-relative ones (escapes refused before
//! anything is touched), and the answer of a probe of one path.
//!
//! Both backends answer the same questions: the local backend with `std::fs` on its host work
//! tree (`host_files.rs`), the Docker backend with commands and archive transfers inside the
//! container (`container.rs`). The rules live here once, so the two cannot drift.

/// A path inside the repository, relative to its root, `/`-separated, with no `.`, `..` or empty
/// parts; `""` is the root itself.
pub type RepoPath = String;

/// What a path is, following symbolic links (as `stat` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Missing,
    File {
        len: u64,
        executable: bool,
    },
    Dir,
    /// A socket, device or fifo.
    Other,
}

/// The answer of a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The path stays in the repository.
    Inside {
        kind: Kind,
        /// Where it leads once every symbolic link is resolved (itself when it has none, and
        /// `None` while it does not exist).
        canonical: Option<RepoPath>,
    },
    /// A symbolic link on the way leads out of the repository, or dangles: writing through it
    /// could create a file anywhere.
    Escapes,
}

/// Which entries a walk of the repository leaves out, with everything below them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Names starting with `.` (`find ! -path '*/.*'`).
    Hidden,
    /// Only entries named `.git`.
    GitDir,
}

impl Skip {
    pub fn skips(self, name: &str) -> bool {
        match self {
            Skip::Hidden => name.starts_with('.'),
            Skip::GitDir => name == ".git",
        }
    }
}

/// Largest file read for a search; larger ones are skipped (grep would read them; the harness
/// must not hold them).
pub const MAX_SEARCHED_BYTES: u64 = 64 << 20;

/// The repository path of `path` as the agent wrote it: absolute under `repo_dir` or relative to
/// the repository root; `..` is resolved lexically and may not climb above the root. `None` when
/// the path is outside.
pub fn repo_path(repo_dir: &str, path: &str) -> Option<RepoPath> {
    let relative = if let Some(rest) = path.strip_prefix(repo_dir) {
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        rest
    } else if path.starts_with('/') {
        return None;
    } else {
        path
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// The agent-visible path of a repository path (`/testbed/src/x.py`).
pub fn agent_path(repo_dir: &str, path: &str) -> String {
    if path.is_empty() {
        repo_dir.to_string()
    } else {
        format!("{repo_dir}/{path}")
    }
}

/// The repository path of `child` inside directory `dir`.
pub fn join(dir: &str, child: &str) -> RepoPath {
    if dir.is_empty() {
        child.to_string()
    } else {
        format!("{dir}/{child}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_paths_map_into_the_repository_or_are_refused() {
        assert_eq!(repo_path("/testbed", "/testbed").as_deref(), Some(""));
        assert_eq!(repo_path("/testbed", "/testbed/").as_deref(), Some(""));
        assert_eq!(repo_path("/testbed", "/testbed//src/./x.py").as_deref(), Some("src/x.py"));
        assert_eq!(repo_path("/testbed", "src/../y.py").as_deref(), Some("y.py"));
        assert_eq!(repo_path("/testbed", "."), Some(String::new()));
        assert_eq!(repo_path("/testbed", "/testbed/../etc/passwd"), None);
        assert_eq!(repo_path("/testbed", "../x"), None);
        assert_eq!(repo_path("/testbed", "/testbedx/y"), None);
        assert_eq!(repo_path("/testbed", "/etc/passwd"), None);
        assert_eq!(agent_path("/testbed", ""), "/testbed");
        assert_eq!(agent_path("/testbed", "a/b"), "/testbed/a/b");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a/b");
    }

    #[test]
    fn walks_skip_hidden_names_or_only_git() {
        assert!(Skip::Hidden.skips(".github"));
        assert!(!Skip::Hidden.skips("src"));
        assert!(Skip::GitDir.skips(".git"));
        assert!(!Skip::GitDir.skips(".github"));
    }
}
