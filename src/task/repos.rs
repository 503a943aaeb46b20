//! Where an instance's repository comes from: a directory of repositories (`--repos DIR`)
//! holding either this project's task directories (`DIR/<name>/repo`, a plain tree whose
//! deterministic commit is the base commit) or git mirrors (`DIR/<owner>__<name>.git` or
//! `DIR/<owner>__<name>`), checked out at the instance's base commit.

use std::path::Path;

use anyhow::{bail, Result};

use super::instance::Instance;
use crate::sandbox::WorkTree;

/// Where the sandbox sees the repository, as in the SWE-bench images.
pub const MOUNT_PATH: &str = "/testbed";

/// A fresh work tree of `instance`'s repository at its base commit.
pub fn work_tree(instance: &Instance, repos: &Path) -> Result<WorkTree> {
    let name = instance.repo.rsplit('/').next().unwrap_or(&instance.repo);
    let task_repo = repos.join(name).join("repo");
    if task_repo.is_dir() {
        let tree = WorkTree::from_files(&task_repo, MOUNT_PATH)?;
        if tree.base_commit().to_string() != instance.base_commit {
            bail!(
                "{}: repository at {} has commit {}, the instance expects {} (rebuild it with `srl tasks build`)",
                instance.instance_id,
                task_repo.display(),
                tree.base_commit(),
                instance.base_commit
            );
        }
        return Ok(tree);
    }
    let mirror_name = instance.repo.replace('/', "__");
    for candidate in [repos.join(format!("{mirror_name}.git")), repos.join(&mirror_name)] {
        if candidate.exists() {
            return WorkTree::from_repository(
                &candidate.display().to_string(),
                Some(&instance.base_commit),
                MOUNT_PATH,
            );
        }
    }
    bail!(
        "{}: no repository for {} under {} (expected {}/{name}/repo or a mirror {}/{mirror_name}.git)",
        instance.instance_id,
        instance.repo,
        repos.display(),
        repos.display(),
        repos.display()
    )
}
