//! Where an instance's repository comes from: a directory of repositories (`--repos DIR`)
//! holding either this project's task directories (`DIR/<name>/repo`, a plain tree whose
//! deterministic commit is the base commit) or git mirrors (`DIR/<owner>__<name>.git` or
//! `DIR/<owner>__<name>`), checked out at the instance's base commit; or the instance's image,
//! which holds it already (`open_sandbox`).

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::images::{image_name, is_shipped, ImageNaming};
use super::instance::Instance;
use crate::sandbox::engine::Lease;
use crate::sandbox::{self, docker, image, AnySandbox, Backend, RepoSource, WorkTree};

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

/// Which instance images a run uses and whether it may pull them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceImages {
    pub naming: ImageNaming,
    /// Pull a missing image from its registry (`--no-pull` turns it off).
    pub pull: bool,
}

impl Default for InstanceImages {
    fn default() -> InstanceImages {
        InstanceImages { naming: ImageNaming::swebench(), pull: true }
    }
}

/// A sandbox for `instance` at its base commit.
///
/// With Docker, the instance's image (`task::images::image_name`) holds the repository and its
/// environment: used when the engine has it, else pulled (unless `images.pull` is off), else an
/// error that says how to build it. The shipped tasks need nothing beyond the base image, so
/// without an image of their own their repository is uploaded from `repos` into `base_image`.
/// The local backend (and `auto` without a daemon) works on a host copy from `repos`.
///
/// With a `lease` (a run spread over several engines) the sandbox goes to the lease's engine,
/// and an image that engine lacks is pulled or streamed from another engine of the run.
pub async fn open_sandbox(
    instance: &Instance,
    repos: &Path,
    backend: Backend,
    base_image: &str,
    images: &InstanceImages,
    run_id: &str,
    lease: Option<&Lease>,
) -> Result<AnySandbox> {
    let docker = match backend {
        Backend::Local => false,
        Backend::Docker => true,
        Backend::Auto => docker::daemon_available().await,
    };
    if !docker {
        return sandbox::open(Backend::Local, work_tree(instance, repos)?.into(), run_id, base_image).await;
    }
    let engine = lease.map(|lease| lease.engine().clone());
    let client = match &engine {
        Some(engine) => engine.connect().await?,
        None => image::connect().await?,
    };
    let ensure = |name: String| {
        let client = client.clone();
        async move {
            match lease {
                Some(lease) => {
                    let sources = lease.pool().others(lease.engine());
                    image::ensure_on_engine(&client, lease.engine(), &sources, &name, images.pull).await
                }
                None => image::ensure_image(&client, &name, images.pull).await,
            }
        }
    };
    let name = image_name(instance, &images.naming);
    let found = match image::inspect(&client, &name).await? {
        Some(info) => Some(info),
        None if is_shipped(instance) && !has_image_elsewhere(lease, &name).await => None,
        None => {
            ensure(name.clone()).await.with_context(|| format!("{}: no environment image", instance.instance_id))?;
            image::inspect(&client, &name).await?
        }
    };
    let Some(info) = found else {
        if lease.is_some() {
            ensure(base_image.to_string()).await?;
        }
        let tree = work_tree(instance, repos)?;
        return sandbox::open_on(Backend::Docker, tree.into(), run_id, base_image, engine).await;
    };
    // An image's HEAD can be the harness's empty commit on top of the base commit: the label
    // (images of `srl env build`) or the instance says which commit the diff is taken against.
    let base_commit =
        info.labels.get(image::LABEL_BASE_COMMIT).cloned().unwrap_or_else(|| instance.base_commit.clone());
    let repo_dir = info.labels.get(image::LABEL_REPO_DIR).cloned().unwrap_or_else(|| MOUNT_PATH.to_string());
    let source = RepoSource::InImage { repo_dir, base_commit: Some(base_commit) };
    sandbox::open_on(Backend::Docker, source, run_id, &name, engine).await
}

/// Whether another engine of the lease's run holds `name` (a shipped task's image built there),
/// so that every engine runs the task in the same image.
async fn has_image_elsewhere(lease: Option<&Lease>, name: &str) -> bool {
    let Some(lease) = lease else {
        return false;
    };
    for engine in lease.pool().others(lease.engine()) {
        if let Ok(docker) = engine.connect().await {
            if matches!(image::inspect(&docker, name).await, Ok(Some(_))) {
                return true;
            }
        }
    }
    false
}
