//! `srl env build`: instance images made on a machine without a container registry, so eval,
//! replay and the agent find the repository and its dependencies at `/testbed` in the image
//! `task::images` names.
//!
//! One image per instance, in a container from the sandbox base image (`srl-sandbox/base`):
//! 1. the repository at its base commit (`task::repos::work_tree`: a shipped task's folder, or a
//!    bare mirror, clone or shallow repository holding the commit) is uploaded to `/testbed`
//!    with its `.git` through the archive API; its remote is removed, as the harness does;
//! 2. for an instance with a spec, the spec's setup script (`task::setup_script`, with the
//!    offline substitutes) runs as root with host networking and the host's package-index
//!    settings ([`index`]); the base image has no conda, so packages go into a venv at
//!    [`PYTHON_ENV`] made with the image's Python, first on the image's `PATH`. A spec asking
//!    for another Python is built anyway, with a WARNING line in the build log. The image gets
//!    a `pip.conf` with `no-index`: its sandboxes have no network, and pip should say so at once
//!    instead of retrying. A shipped task (no spec, its own `test_command`) skips this step: the
//!    base image's Python and pytest run its tests;
//! 3. `/testbed` (and the venv) are given to uid 1000, the sandbox's agent, and the container is
//!    committed with the base image's user and command, working directory `/testbed` and the
//!    labels of `sandbox::image` (`srl.repo_dir`, `srl.base_commit`, `srl.instance_id`,
//!    `srl.inputs`, `srl.python_env`).
//!
//! `srl.inputs` hashes what the image is made of (base image id, spec entry, setup script, base
//! commit, this recipe's version); an image whose hash matches is up to date and skipped. The
//! build container is removed on every path out, failure and timeout included. One instance
//! failing never stops the others: its result names the error and its log.

pub mod archive;
pub mod index;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bollard::Docker;
use futures_util::StreamExt;

use super::images::{image_name, ImageNaming};
use super::instance::Instance;
use super::repos::{self, MOUNT_PATH};
use super::setup_script::{setup_script, PythonEnv, SetupOptions};
use super::spec::Specs;
use crate::sandbox::image::{self as docker_image, BuildContainer, ImageConfig, ImageInfo};
use crate::trajectory::Fnv64;
use index::IndexSettings;

/// Where the instance's Python packages go in an image.
pub const PYTHON_ENV: &str = "/opt/venv";
/// Changes whenever the build steps change, so every image built the old way is rebuilt.
const RECIPE: &str = "srl env build 2";
/// The sandbox's agent, who must own the repository.
const AGENT: &str = "1000:1000";
/// pip in a built image: no network in its sandboxes, so no index either.
const IMAGE_PIP_CONF: &str = "# srl env build: sandboxes have no network; pip must not wait for one\n\
                              [global]\nno-index = true\n";

/// What `srl env build` is asked to do.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub base_image: String,
    pub naming: ImageNaming,
    pub specs: Specs,
    /// One `<instance id>.log` per instance.
    pub logs: PathBuf,
    pub workers: usize,
    /// Limit for one instance's container work (upload, setup, commit).
    pub timeout: Duration,
    /// Rebuild images that are up to date (or that `srl` did not build).
    pub force: bool,
}

/// One instance to build, with the folder its repository is found in (`--repos`, or the
/// shipped tasks' folder).
#[derive(Debug, Clone)]
pub struct BuildJob {
    pub instance: Instance,
    pub repos: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildStatus {
    /// Built now; warnings (also in the log) say where the image differs from the spec.
    Built {
        warnings: Vec<String>,
    },
    /// An image with the same inputs exists.
    UpToDate,
    /// An image of that name exists that `srl env build` did not make (a pulled SWE-bench
    /// image): kept, unless `force`.
    Kept,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct BuildResult {
    pub instance_id: String,
    pub image: String,
    pub status: BuildStatus,
    pub log: PathBuf,
    pub duration: Duration,
}

/// What one image is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The setup script; `None` for an instance with its own `test_command` and no spec.
    pub setup: Option<String>,
    /// The Python the spec asks for.
    pub python: Option<String>,
    /// A spec item the image cannot honour (a conda environment file).
    pub warnings: Vec<String>,
    /// The `srl.inputs` label.
    pub inputs: String,
}

/// The plan for `instance` on a base image with id `base_image_id`.
pub fn plan(instance: &Instance, specs: &Specs, base_image_id: &str) -> Result<Plan, String> {
    let spec = match specs.find(&instance.repo, &instance.version) {
        Ok(spec) => Some(spec),
        Err(_) if instance.test_command.is_some() => None,
        Err(e) => return Err(format!("{e} (add an entry with --specs FILE)")),
    };
    let options = SetupOptions { offline_substitutes: true, python: PythonEnv::Venv(PYTHON_ENV.to_string()) };
    let setup = spec.map(|spec| setup_script(spec, MOUNT_PATH, &options));
    let mut hash = Fnv64::new();
    let spec_text = format!("{spec:?}");
    let parts =
        [RECIPE, base_image_id, &spec_text, setup.as_deref().unwrap_or(""), &instance.base_commit, &instance.version];
    for part in parts {
        hash.write(part.as_bytes());
    }
    let warnings = match spec {
        Some(spec) if !spec.environment_yml.is_empty() => vec![format!(
            "no conda in the base image: the conda environment file ({}) is not installed",
            spec.environment_yml.join(", ")
        )],
        _ => Vec::new(),
    };
    Ok(Plan { setup, python: spec.map(|s| s.python.clone()), warnings, inputs: format!("{:016x}", hash.finish()) })
}

/// Builds the image of every job, `options.workers` at a time, calling `on_done` with each
/// result as it comes. Fails as a whole only when nothing can be built (no daemon, no base
/// image).
pub async fn build_images(
    jobs: &[BuildJob],
    options: &BuildOptions,
    on_done: &mut dyn FnMut(&BuildResult),
) -> Result<Vec<BuildResult>> {
    let docker = docker_image::connect().await?;
    let orphans = docker_image::remove_orphan_builds(&docker).await?;
    if orphans > 0 {
        tracing::warn!("removed {orphans} build containers left by builds that died");
    }
    let Some(base) = docker_image::inspect(&docker, &options.base_image).await? else {
        bail!("base image {} not found (build it with scripts/sandbox-image.sh)", options.base_image);
    };
    std::fs::create_dir_all(&options.logs)
        .with_context(|| format!("cannot create the log folder {}", options.logs.display()))?;
    let settings = index::host_settings();
    let context = Shared { docker, base, settings, options };
    let mut builds = futures_util::stream::iter(jobs.iter().map(|job| build_one(&context, job)))
        .buffer_unordered(options.workers.max(1));
    let mut results = Vec::new();
    while let Some(result) = builds.next().await {
        on_done(&result);
        results.push(result);
    }
    Ok(results)
}

/// What every build of a run shares.
struct Shared<'a> {
    docker: Docker,
    base: ImageInfo,
    settings: IndexSettings,
    options: &'a BuildOptions,
}

async fn build_one(shared: &Shared<'_>, job: &BuildJob) -> BuildResult {
    let started = Instant::now();
    let instance = &job.instance;
    let image = image_name(instance, &shared.options.naming);
    let log = shared.options.logs.join(format!("{}.log", instance.instance_id.replace(['/', '\\'], "_")));
    let status = match build(shared, job, &image, &log).await {
        Ok(status) => status,
        Err(error) => BuildStatus::Failed(format!("{error:#}")),
    };
    BuildResult { instance_id: instance.instance_id.clone(), image, status, log, duration: started.elapsed() }
}

async fn build(shared: &Shared<'_>, job: &BuildJob, image: &str, log_path: &Path) -> Result<BuildStatus> {
    let instance = &job.instance;
    let plan = plan(instance, &shared.options.specs, &shared.base.id).map_err(anyhow::Error::msg)?;
    let existing = docker_image::inspect(&shared.docker, image).await?;
    if let (Some(existing), false) = (&existing, shared.options.force) {
        match existing.labels.get(docker_image::LABEL_INPUTS) {
            Some(inputs) if *inputs == plan.inputs => return Ok(BuildStatus::UpToDate),
            None => return Ok(BuildStatus::Kept),
            Some(_) => {}
        }
    }
    let mut log = File::create(log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    writeln!(
        log,
        "srl env build: {} -> {image}\nbase image {} ({})\nbase commit {}\ninputs {}\n",
        instance.instance_id, shared.options.base_image, shared.base.id, instance.base_commit, plan.inputs
    )?;
    let (owned_instance, repos) = (instance.clone(), job.repos.clone());
    let repository = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
        // Mirrors stored without `refs/` (the fixtures') are handled by `WorkTree::from_repository`.
        let tree = repos::work_tree(&owned_instance, &repos)?;
        archive::directory(&tree.host_dir(), MOUNT_PATH)
    })
    .await
    .context("the repository copy panicked")??;
    let container = BuildContainer::start(&shared.docker, &shared.options.base_image).await?;
    let steps = fill(shared, &container, instance, &plan, repository, (&mut log, log_path));
    let filled = tokio::time::timeout(shared.options.timeout, steps).await;
    let outcome = match filled {
        Ok(Ok(warnings)) => commit(shared, &container, instance, &plan, image).await.map(|id| (warnings, id)),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(anyhow::anyhow!("the build took over {} s (--timeout)", shared.options.timeout.as_secs())),
    };
    let removed = container.remove().await;
    let (warnings, id) = outcome.with_context(|| format!("log: {}", log_path.display()))?;
    removed?;
    if let Some(previous) = existing.filter(|previous| previous.id != id) {
        docker_image::remove_if_unused(&shared.docker, &previous.id).await;
    }
    writeln!(log, "\nbuilt {image}")?;
    Ok(BuildStatus::Built { warnings })
}

/// Steps 1 and 2 in the container; returns the warnings.
async fn fill(
    shared: &Shared<'_>,
    container: &BuildContainer,
    instance: &Instance,
    plan: &Plan,
    repository: Vec<u8>,
    (log, log_path): (&mut File, &Path),
) -> Result<Vec<String>> {
    container.upload(repository).await?;
    let base = &instance.base_commit;
    let check = format!(
        "set -e; cd {MOUNT_PATH}; git remote remove origin 2>/dev/null || true; \
         test \"$(git rev-parse HEAD)\" = {base} || {{ echo \"HEAD is $(git rev-parse HEAD), not {base}\"; exit 1; }}"
    );
    run_step(container, "repository", &check, &[], log).await?;
    let Some(setup) = &plan.setup else { return Ok(Vec::new()) };
    let mut warnings = plan.warnings.clone();
    let (_, version) = container.output("python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])'").await?;
    let version = version.trim();
    if let Some(wanted) = plan.python.as_deref().filter(|wanted| *wanted != version) {
        warnings.push(format!("the spec asks for Python {wanted}; the base image has Python {version}, used instead"));
    }
    for warning in &warnings {
        writeln!(log, "WARNING: {warning}")?;
    }
    let carried: Vec<String> = shared.settings.files.iter().map(|(_, target)| target.clone()).collect();
    run_step(container, "save files the settings cover", &save_originals(&carried), &[], log).await?;
    container.upload(archive::files(&shared.settings.files)?).await?;
    let mut env = shared.settings.env.clone();
    env.extend(["HOME=/root", "PIP_NO_INPUT=1", "PIP_ROOT_USER_ACTION=ignore"].map(String::from));
    if let Some(version) = scm_version(container, instance).await? {
        writeln!(log, "note: the repository has no tags (a shallow mirror); setuptools_scm is told {version}")?;
        env.push(format!("SETUPTOOLS_SCM_PRETEND_VERSION={version}"));
    }
    // The script travels in the environment: no quoting or delimiter can break it.
    env.push(format!("SRL_SETUP_SCRIPT={setup}"));
    writeln!(log, "$ setup script\n{setup}")?;
    let code = container.exec("exec bash -c \"$SRL_SETUP_SCRIPT\"", &env, log).await?;
    if code != 0 {
        // The container is thrown away: the host's settings leave with it.
        let text = std::fs::read_to_string(log_path).with_context(|| format!("cannot read {}", log_path.display()))?;
        bail!("the setup script failed (exit {code}): {}", last_error(&text));
    }
    run_step(container, "take the host's settings out", &restore_originals(&carried), &[], log).await?;
    let pip_conf = format!("printf %s {} > /etc/pip.conf", super::eval_script::quote(IMAGE_PIP_CONF));
    run_step(container, "image pip.conf", &pip_conf, &[], log).await?;
    Ok(warnings)
}

/// The version setuptools_scm should report when the repository holds no tags: a shallow
/// mirror has none, and setuptools_scm then says `0.1.dev1`, which projects that check their
/// own version refuse (pytest's `minversion`). The harness's images clone whole repositories;
/// the instance's `version` (`8.0`) as `8.0.0.dev0` stands in for what their tags gave.
async fn scm_version(container: &BuildContainer, instance: &Instance) -> Result<Option<String>> {
    if instance.version.is_empty() {
        return Ok(None);
    }
    let (code, _) = container.output(&format!("git -C {MOUNT_PATH} describe --tags --abbrev=0")).await?;
    Ok((code != 0).then(|| format!("{}.0.dev0", instance.version)))
}

/// Step 3: ownership, then the commit.
async fn commit(
    shared: &Shared<'_>,
    container: &BuildContainer,
    instance: &Instance,
    plan: &Plan,
    image: &str,
) -> Result<String> {
    let venv = plan.setup.is_some();
    let owned = if venv { format!("{MOUNT_PATH} {PYTHON_ENV}") } else { MOUNT_PATH.to_string() };
    let (code, output) = container.output(&format!("chown -R {AGENT} {owned}")).await?;
    if code != 0 {
        bail!("chown -R {AGENT} {owned} failed (exit {code}): {}", output.trim());
    }
    let mut labels = shared.base.labels.clone();
    labels.extend([
        (docker_image::LABEL_REPO_DIR.to_string(), MOUNT_PATH.to_string()),
        (docker_image::LABEL_BASE_COMMIT.to_string(), instance.base_commit.clone()),
        (docker_image::LABEL_INSTANCE_ID.to_string(), instance.instance_id.clone()),
        (docker_image::LABEL_INPUTS.to_string(), plan.inputs.clone()),
    ]);
    if venv {
        labels.insert(docker_image::LABEL_PYTHON_ENV.to_string(), PYTHON_ENV.to_string());
    }
    let config = ImageConfig {
        user: shared.base.user.clone(),
        cmd: shared.base.cmd.clone(),
        env: image_env(&shared.base.env, venv),
        working_dir: Some(MOUNT_PATH.to_string()),
        labels,
    };
    container.commit(image, config).await
}

/// The base image's environment, with the venv first on `PATH` when there is one.
fn image_env(base: &[String], venv: bool) -> Vec<String> {
    if !venv {
        return base.to_vec();
    }
    let mut env: Vec<String> = base
        .iter()
        .map(|entry| match entry.strip_prefix("PATH=") {
            Some(path) => format!("PATH={PYTHON_ENV}/bin:{path}"),
            None => entry.clone(),
        })
        .collect();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(format!("PATH={PYTHON_ENV}/bin:/usr/local/bin:/usr/bin:/bin"));
    }
    env.push(format!("VIRTUAL_ENV={PYTHON_ENV}"));
    env
}

/// Runs one build command, logged under `name`; a non-zero exit is an error with its output.
async fn run_step(container: &BuildContainer, name: &str, command: &str, env: &[String], log: &mut File) -> Result<()> {
    writeln!(log, "$ {name}")?;
    let mut output = Vec::new();
    let code = container.exec(command, env, &mut output).await?;
    log.write_all(&output)?;
    if code != 0 {
        bail!("{name} failed (exit {code}): {}", String::from_utf8_lossy(&output).trim());
    }
    Ok(())
}

/// Copies of whatever the image already holds at `paths`, under `/tmp/srl-orig`.
fn save_originals(paths: &[String]) -> String {
    let quoted: Vec<String> = paths.iter().map(|p| super::eval_script::quote(p)).collect();
    format!(
        "mkdir -p /tmp/srl-orig && for p in {}; do if [ -e \"$p\" ]; then cp -a --parents \"$p\" /tmp/srl-orig/; fi; done",
        quoted.join(" ")
    )
}

/// The host's files out, the image's own back.
fn restore_originals(paths: &[String]) -> String {
    let quoted: Vec<String> = paths.iter().map(|p| super::eval_script::quote(p)).collect();
    format!("for p in {}; do rm -rf \"$p\"; done; cp -a /tmp/srl-orig/. / && rm -rf /tmp/srl-orig", quoted.join(" "))
}

/// The line that says why a setup failed: pip's last `ERROR:` line, else the last line.
fn last_error(log: &str) -> String {
    let lines: Vec<&str> = log.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR:") || l.starts_with("error:"))
        .or(lines.last())
        .map_or_else(|| "no output".to_string(), |l| l.to_string())
}
