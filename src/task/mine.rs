//! Turning a real commit that changes both code and tests into a task instance: the commit's
//! diff is split into the code patch (the gold patch) and the test patch, the parent commit is
//! the base, and FAIL_TO_PASS / PASS_TO_PASS come from running the tests (`build::derive_tests`).
//!
//! A file is a test file when a path component is `test`/`tests`/`testing` or its name starts
//! with `test_` or ends with `_test.py`/`_tests.py`/`_test.go`, or is `conftest.py` — the
//! conventions of pytest, unittest and Go.

use std::path::Path;

use anyhow::{bail, Context, Result};
use git2::{DiffOptions, Repository};

use crate::sandbox::repo::patch_text;

/// A commit split into what a task instance needs.
#[derive(Debug, Clone)]
pub struct SplitCommit {
    pub parent: String,
    pub patch: String,
    pub test_patch: String,
    pub test_files: Vec<String>,
    pub message: String,
    pub created_at: String,
}

pub fn is_test_file(path: &str) -> bool {
    let path = Path::new(path);
    let in_test_dir = path.parent().is_some_and(|dir| {
        dir.components().any(|c| matches!(c.as_os_str().to_str(), Some("test" | "tests" | "testing")))
    });
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    in_test_dir
        || name.starts_with("test_")
        || name == "conftest.py"
        || ["_test.py", "_tests.py", "_test.go"].iter().any(|suffix| name.ends_with(suffix))
}

/// Splits `commit` of the repository at `repo` into code and test patches against its parent.
pub fn split_commit(repo: &Path, commit: &str) -> Result<SplitCommit> {
    let repository = Repository::open(repo).with_context(|| format!("{} is not a git repository", repo.display()))?;
    let commit =
        repository.revparse_single(commit).with_context(|| format!("commit {commit} not found"))?.peel_to_commit()?;
    let parent = commit.parent(0).context("the commit has no parent to use as the base")?;
    let (old, new) = (parent.tree()?, commit.tree()?);
    let diff = repository.diff_tree_to_tree(Some(&old), Some(&new), None)?;
    let mut code_paths = Vec::new();
    let mut test_files = Vec::new();
    for delta in diff.deltas() {
        let path =
            delta.new_file().path().or(delta.old_file().path()).map(|p| p.display().to_string()).unwrap_or_default();
        if is_test_file(&path) {
            test_files.push(path);
        } else {
            code_paths.push(path);
        }
    }
    if code_paths.is_empty() || test_files.is_empty() {
        bail!(
            "the commit must change both code and tests (code files: {}, test files: {})",
            code_paths.len(),
            test_files.len()
        );
    }
    let patch_of = |paths: &[String]| -> Result<String> {
        let mut options = DiffOptions::new();
        for path in paths {
            options.pathspec(path);
        }
        options.disable_pathspec_match(true);
        let diff = repository.diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options))?;
        patch_text(&diff)
    };
    let seconds = commit.time().seconds();
    Ok(SplitCommit {
        parent: parent.id().to_string(),
        patch: patch_of(&code_paths)?,
        test_patch: patch_of(&test_files)?,
        test_files,
        message: commit.message().unwrap_or_default().trim().to_string(),
        created_at: format!("{seconds}"),
    })
}

#[cfg(test)]
mod tests {
    use super::is_test_file;

    #[test]
    fn test_file_conventions() {
        for path in
            ["tests/test_a.py", "pkg/tests/helpers.py", "test_x.py", "pkg/a_test.py", "conftest.py", "x/foo_test.go"]
        {
            assert!(is_test_file(path), "{path}");
        }
        for path in ["pkg/testing_utils.py", "src/contest.py", "latest/a.py", "pkg/a.py"] {
            assert!(!is_test_file(path), "{path}");
        }
    }
}
