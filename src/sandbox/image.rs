//! Instance images through the Docker Engine API: whether an image is there and what its labels
//! say, pulling one with progress on stderr, and the build container that `srl env build` fills
//! (archive upload, commands with their output in a log) and commits as an image.
//!
//! Everything goes through the API, never the `docker` CLI or a bind mount, so a remote engine
//! (`DOCKER_HOST`) works. A build container carries no labels: Docker copies a container's
//! labels into the image committed from it, and a sandbox label such as `srl.run_id` in an image
//! would mark every container later made from it. Its name says who made it instead
//! (`srl-build-<host>-<pid>-<random>`): [`remove_orphan_builds`] removes those whose process died
//! on this host and [`remove_own_builds`] those of this process (an interrupted build);
//! [`BuildContainer::remove`] is the normal way out.
//!
//! Deliberately absent: naming images (`task::images`, pure) and what goes into one
//! (`task::env_build`).

use std::collections::HashMap;
use std::io::Write;

use anyhow::{bail, Context, Result};
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;

use super::cleanup::{host_name, process_alive};
use super::engine::Engine;

/// The labels every image made by `srl env build` carries.
pub const LABEL_REPO_DIR: &str = "srl.repo_dir";
pub const LABEL_BASE_COMMIT: &str = "srl.base_commit";
pub const LABEL_INSTANCE_ID: &str = "srl.instance_id";
/// A hash of what the image was built from; an image with the same hash is up to date.
pub const LABEL_INPUTS: &str = "srl.inputs";
/// The venv on the image's `PATH` that holds the instance's packages (absent: none, the
/// image's own Python serves, as for the shipped tasks).
pub const LABEL_PYTHON_ENV: &str = "srl.python_env";

/// Who runs what in a build container: everything as root, as the harness's Dockerfiles do.
const ROOT: &str = "0:0";

/// An image's id, labels and the container settings it gives by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub id: String,
    pub labels: HashMap<String, String>,
    pub user: Option<String>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
}

/// A client for the default engine: the first configured one, else what `DOCKER_HOST` names
/// (the local socket by default).
pub async fn connect() -> Result<Docker> {
    super::engine::default_engine()?.connect().await
}

/// `name`'s id, labels and config; `None` when the engine does not have it.
pub async fn inspect(docker: &Docker, name: &str) -> Result<Option<ImageInfo>> {
    let image = match docker.inspect_image(name).await {
        Ok(image) => image,
        Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("failed to inspect image {name}")),
    };
    let config = image.config.unwrap_or_default();
    Ok(Some(ImageInfo {
        id: image.id.unwrap_or_default(),
        labels: config.labels.unwrap_or_default(),
        user: config.user,
        cmd: config.cmd,
        env: config.env.unwrap_or_default(),
        working_dir: config.working_dir,
    }))
}

/// Makes sure the engine holds `name`: present already, or pulled when `pull` allows it (with
/// progress on stderr). The error names the image and says how to build it where no registry
/// has it.
pub async fn ensure_image(docker: &Docker, name: &str, pull: bool) -> Result<()> {
    if inspect(docker, name).await?.is_some() {
        return Ok(());
    }
    let build = "build it with `srl env build --repos DIR INSTANCES` (see `srl env build --help`)";
    if !pull {
        bail!("image {name} is not on the Docker engine and pulling is off (--no-pull); {build}");
    }
    let mut last_line = String::new();
    pull_image(docker, name, &mut |line| {
        if line != last_line {
            eprintln!("pulling {name}: {line}");
            last_line = line.to_string();
        }
    })
    .await
    .with_context(|| format!("cannot pull image {name}; where no registry has it, {build}"))
}

/// Makes sure `engine` holds `name`, for a run spread over several engines: pulled where a
/// registry answers (unless `pull` is off), else streamed from one of `sources` that has it
/// (`GET /images/NAME/get` into `POST /images/load`, never through a file). Instances that need
/// the same image on the same engine at once wait for one copy.
pub async fn ensure_on_engine(
    docker: &Docker,
    engine: &Engine,
    sources: &[Engine],
    name: &str,
    pull: bool,
) -> Result<()> {
    let lock = {
        let mut locks = COPY_LOCKS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry((engine.host.clone(), name.to_string())).or_default().clone()
    };
    let _one_copy = lock.lock().await;
    if inspect(docker, name).await?.is_some() {
        return Ok(());
    }
    let pulled = ensure_image(docker, name, pull).await;
    let Err(not_pulled) = pulled else {
        return Ok(());
    };
    for source in sources {
        let from = match source.connect().await {
            Ok(from) => from,
            Err(error) => {
                tracing::debug!("image source {} unavailable: {error:#}", source.host);
                continue;
            }
        };
        if !matches!(inspect(&from, name).await, Ok(Some(_))) {
            continue;
        }
        let started = std::time::Instant::now();
        copy_image(&from, docker, name)
            .await
            .with_context(|| format!("cannot stream image {name} from engine {} to {}", source.host, engine.host))?;
        tracing::info!("streamed image {name} from {} to {} in {:.1?}", source.host, engine.host, started.elapsed());
        return Ok(());
    }
    Err(not_pulled).with_context(|| format!("engine {}: no other engine of this run has {name} either", engine.host))
}

type CopyLocks = std::sync::Mutex<HashMap<(String, String), std::sync::Arc<tokio::sync::Mutex<()>>>>;
static COPY_LOCKS: std::sync::LazyLock<CopyLocks> = std::sync::LazyLock::new(Default::default);

/// Streams image `name` from one engine to another through the Engine API.
pub async fn copy_image(from: &Docker, to: &Docker, name: &str) -> Result<()> {
    let export = from.export_image(name);
    let options = bollard::query_parameters::ImportImageOptionsBuilder::new().quiet(true).build();
    let mut load = to.import_image_stream(options, export, None);
    while let Some(item) = load.next().await {
        let info = item.with_context(|| format!("loading image {name}"))?;
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            bail!("loading image {name}: {detail}");
        }
    }
    if inspect(to, name).await?.is_none() {
        bail!("the engine accepted the image stream but has no image {name} afterwards");
    }
    Ok(())
}

/// Pulls `name`, reporting each layer's status change (`3f4a…: Download complete`).
pub async fn pull_image(docker: &Docker, name: &str, on_status: &mut dyn FnMut(&str)) -> Result<()> {
    let (repo, tag) = split_reference(name);
    let options = CreateImageOptionsBuilder::new().from_image(repo).tag(tag).build();
    let mut stream = docker.create_image(Some(options), None, None);
    let mut layers: HashMap<String, String> = HashMap::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|error| match error {
            bollard::errors::Error::DockerResponseServerError { message, .. } => anyhow::anyhow!(message),
            other => anyhow::Error::new(other),
        })?;
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            bail!("{detail}");
        }
        let status = info.status.unwrap_or_default();
        let changed = match &info.id {
            Some(id) => layers.insert(id.clone(), status.clone()).as_deref() != Some(status.as_str()),
            None => true,
        };
        if changed && !status.is_empty() {
            match info.id {
                Some(id) => on_status(&format!("{id}: {status}")),
                None => on_status(&status),
            }
        }
    }
    Ok(())
}

/// Removes image `id` if nothing uses it any more (an image replaced under its name, which
/// would otherwise stay behind untagged); one still in use or already gone is left alone.
pub async fn remove_if_unused(docker: &Docker, id: &str) {
    if let Err(error) = docker.remove_image(id, None::<bollard::query_parameters::RemoveImageOptions>, None).await {
        tracing::debug!("kept the replaced image {id}: {error}");
    }
}

/// `registry:5000/a/b:tag` → (`registry:5000/a/b`, `tag`); no tag means `latest`.
pub fn split_reference(name: &str) -> (&str, &str) {
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].rfind(':') {
        Some(colon) => (&name[..last_slash + colon], &name[last_slash + colon + 1..]),
        None => (name, "latest"),
    }
}

/// The container an image is built in: root, host networking (the package index), kept
/// running with `sleep infinity` while commands run in it.
pub struct BuildContainer {
    docker: Docker,
    id: String,
    name: String,
}

/// What the committed image says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    pub user: Option<String>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub labels: HashMap<String, String>,
}

impl BuildContainer {
    /// Creates and starts a container from `base_image`.
    pub async fn start(docker: &Docker, base_image: &str) -> Result<BuildContainer> {
        let name = build_name();
        let body = ContainerCreateBody {
            image: Some(base_image.to_string()),
            cmd: Some(vec!["sleep".into(), "infinity".into()]),
            user: Some(ROOT.into()),
            host_config: Some(HostConfig { network_mode: Some("host".into()), init: Some(true), ..Default::default() }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        let created = docker.create_container(Some(options), body).await.with_context(|| {
            format!(
                "failed to create a build container from image {base_image} (build it with scripts/sandbox-image.sh)"
            )
        })?;
        let container = BuildContainer { docker: docker.clone(), id: created.id, name };
        if let Err(error) = docker.start_container(&container.id, None).await {
            let name = container.name.clone();
            if let Err(cleanup) = container.remove().await {
                tracing::warn!("{cleanup:#}");
            }
            return Err(error).with_context(|| format!("failed to start build container {name}"));
        }
        Ok(container)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Unpacks the tar archive `tar` at `/` in the container (paths inside it are relative
    /// to `/`; owners and modes as the archive says).
    pub async fn upload(&self, tar: Vec<u8>) -> Result<()> {
        let options = UploadToContainerOptionsBuilder::new().path("/").build();
        self.docker
            .upload_to_container(&self.id, Some(options), bollard::body_full(tar.into()))
            .await
            .with_context(|| format!("failed to upload files into build container {}", self.name))
    }

    /// Runs `command` with bash as root in `/`, with `env` added, writing its output to `log`;
    /// returns its exit code.
    pub async fn exec(&self, command: &str, env: &[String], log: &mut (dyn Write + Send)) -> Result<i64> {
        let env: Vec<&str> = env.iter().map(String::as_str).collect();
        let options = CreateExecOptions {
            cmd: Some(vec!["bash", "-c", command]),
            user: Some(ROOT),
            working_dir: Some("/"),
            env: Some(env),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let context = || format!("failed to run a command in build container {}", self.name);
        let exec = self.docker.create_exec(&self.id, options).await.with_context(context)?;
        let StartExecResults::Attached { mut output, .. } =
            self.docker.start_exec(&exec.id, None).await.with_context(context)?
        else {
            bail!("docker started a build command detached; its output is lost");
        };
        while let Some(chunk) = output.next().await {
            let chunk = chunk.with_context(context)?;
            log.write_all(chunk.as_ref()).context("failed to write the build log")?;
        }
        log.flush().context("failed to write the build log")?;
        let state = self.docker.inspect_exec(&exec.id).await.with_context(context)?;
        state.exit_code.context("docker reported a finished build command without an exit code")
    }

    /// Runs `command` and returns its exit code and output (stdout and stderr together).
    pub async fn output(&self, command: &str) -> Result<(i64, String)> {
        let mut buffer = Vec::new();
        let code = self.exec(command, &[], &mut buffer).await?;
        Ok((code, String::from_utf8_lossy(&buffer).into_owned()))
    }

    /// Commits the container's file system as image `name` with `config`; returns the id.
    pub async fn commit(&self, name: &str, config: ImageConfig) -> Result<String> {
        let (repo, tag) = split_reference(name);
        let options = CommitContainerOptionsBuilder::new().container(&self.id).repo(repo).tag(tag).pause(true).build();
        // Docker fills what the config leaves out from the container's own config (root, the
        // build's command); everything an image user sees is therefore set here.
        let config = ContainerConfig {
            user: config.user,
            cmd: config.cmd,
            env: Some(config.env),
            working_dir: config.working_dir,
            labels: Some(config.labels),
            ..Default::default()
        };
        let committed = self
            .docker
            .commit_container(options, config)
            .await
            .with_context(|| format!("failed to commit build container {} as image {name}", self.name))?;
        Ok(committed.id)
    }

    /// Force-removes the container.
    pub async fn remove(self) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        match self.docker.remove_container(&self.id, Some(options)).await {
            Ok(()) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404 | 409, .. }) => Ok(()),
            Err(error) => Err(error).with_context(|| format!("failed to remove build container {}", self.name)),
        }
    }
}

const BUILD_PREFIX: &str = "srl-build-";

/// `srl-build-<host>-<pid>-<8 random hex digits>`, with what Docker refuses in names replaced.
fn build_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Each RandomState has fresh keys, which is all the randomness a name needs.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("{BUILD_PREFIX}{}-{}-{:08x}", clean_host(), std::process::id(), hasher.finish() as u32)
}

/// The host and pid a build container's name holds.
fn parse_build_name(name: &str) -> Option<(&str, i32)> {
    let rest = name.trim_start_matches('/').strip_prefix(BUILD_PREFIX)?;
    let mut parts = rest.rsplitn(3, '-');
    let (_random, pid, host) = (parts.next()?, parts.next()?, parts.next()?);
    Some((host, pid.parse().ok()?))
}

/// Removes the build containers of processes of this host that no longer exist; returns how many.
pub async fn remove_orphan_builds(docker: &Docker) -> Result<usize> {
    remove_builds(docker, &|pid| !process_alive(pid)).await
}

/// Removes this process's build containers (after an interrupt); returns how many.
pub async fn remove_own_builds(docker: &Docker) -> Result<usize> {
    let own = std::process::id() as i32;
    remove_builds(docker, &|pid| pid == own).await
}

async fn remove_builds(docker: &Docker, doomed: &(dyn Fn(i32) -> bool + Sync)) -> Result<usize> {
    let filters = HashMap::from([("name", vec![BUILD_PREFIX.to_string()])]);
    let options = ListContainersOptionsBuilder::new().all(true).filters(&filters).build();
    let containers = docker.list_containers(Some(options)).await.context("failed to list build containers")?;
    let host = clean_host();
    let mut removed = 0;
    for container in containers {
        let name = container.names.unwrap_or_default().into_iter().next().unwrap_or_default();
        let Some((name_host, pid)) = parse_build_name(&name) else { continue };
        if name_host == host && pid > 0 && doomed(pid) {
            let container = BuildContainer { docker: docker.clone(), id: container.id.unwrap_or_default(), name };
            container.remove().await?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn clean_host() -> String {
    host_name().chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.') { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_tag_not_at_a_registry_port() {
        assert_eq!(
            split_reference("swebench/sweb.eval.x86_64.a_1776_b-1:latest"),
            ("swebench/sweb.eval.x86_64.a_1776_b-1", "latest")
        );
        assert_eq!(split_reference("localhost:5000/img"), ("localhost:5000/img", "latest"));
        assert_eq!(split_reference("localhost:5000/img:v2"), ("localhost:5000/img", "v2"));
        assert_eq!(split_reference("plain"), ("plain", "latest"));
    }

    #[test]
    fn build_names_say_which_process_made_them() {
        let name = build_name();
        assert_eq!(parse_build_name(&format!("/{name}")), Some((clean_host().as_str(), std::process::id() as i32)));
        assert_eq!(parse_build_name("/srl-build-my-host-12-0a0b0c0d"), Some(("my-host", 12)));
        assert_eq!(parse_build_name("/srl-r1-0a0b0c0d"), None);
    }
}
