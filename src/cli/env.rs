//! `srl env`: instance environments as Docker images. `srl env build` makes them on a machine
//! without a registry (`task::env_build`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::Outcome;
use crate::sandbox::docker::DEFAULT_IMAGE;
use crate::sandbox::image;
use crate::task::env_build::{build_images, BuildJob, BuildOptions, BuildStatus};
use crate::task::images::{ImageNaming, DEFAULT_TAG, SWEBENCH_NAMESPACE};
use crate::task::instance::{load_instances, Instance};
use crate::task::spec::Specs;
use crate::task::taskdir;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Build instance images (repository at /testbed, spec packages installed) without a registry
    Build(BuildArgs),
}

#[derive(clap::Args)]
struct BuildArgs {
    /// Instance files (SWE-bench JSON, JSONL, parquet, shard folders) or folders of shipped tasks (tasks/)
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Repositories of the instance files: bare mirrors or clones named <owner>__<name>[.git] holding the base commits
    #[arg(long)]
    repos: Option<PathBuf>,
    /// Build only these instances (repeatable)
    #[arg(long = "instance-id")]
    instance_ids: Vec<String>,
    /// The image the builds start from (scripts/sandbox-image.sh)
    #[arg(long, default_value = DEFAULT_IMAGE)]
    base_image: String,
    /// Namespace of the SWE-bench image names; "" gives the harness's local names
    #[arg(long, default_value = SWEBENCH_NAMESPACE)]
    namespace: String,
    #[arg(long, default_value = DEFAULT_TAG)]
    tag: String,
    /// SWE-bench spec entries that add to or replace the built-in table (TOML, as sandboxes/swe-specs.toml)
    #[arg(long)]
    specs: Option<PathBuf>,
    /// Images built at the same time
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// One build log per instance goes here (<instance id>.log)
    #[arg(long, default_value = "srl-env-logs")]
    logs: PathBuf,
    /// Seconds one instance's build may take
    #[arg(long, default_value_t = 3600)]
    timeout: u64,
    /// Rebuild images that are up to date, and replace images srl did not build
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        Command::Build(args) => build(args),
    }
}

fn build(args: BuildArgs) -> Result<Outcome> {
    let jobs = jobs(&args.inputs, args.repos.as_deref(), &args.instance_ids)?;
    let options = BuildOptions {
        base_image: args.base_image,
        naming: ImageNaming { namespace: args.namespace, tag: args.tag },
        specs: Specs::load(args.specs.as_deref())?,
        logs: args.logs,
        workers: args.workers,
        timeout: Duration::from_secs(args.timeout),
        force: args.force,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let started = Instant::now();
    let progress = super::progress::Progress::new(Some(jobs.len() as u64), "images");
    let (mut built, mut current, mut failed) = (0, 0, 0);
    let results = runtime.block_on(async {
        let cleanup = spawn_signal_cleanup();
        let results = build_images(&jobs, &options, &mut |result| {
            let seconds = result.duration.as_secs_f64();
            let line = match &result.status {
                BuildStatus::Built { warnings } => {
                    built += 1;
                    let mut line = format!("built {} ({}) in {seconds:.1} s", result.image, result.instance_id);
                    for warning in warnings {
                        line.push_str(&format!("\n  warning: {warning} (log: {})", result.log.display()));
                    }
                    line
                }
                BuildStatus::UpToDate => {
                    current += 1;
                    format!("up to date: {} ({})", result.image, result.instance_id)
                }
                BuildStatus::Kept => {
                    current += 1;
                    format!(
                        "kept {} ({}): not built by srl env build (--force replaces it)",
                        result.image, result.instance_id
                    )
                }
                BuildStatus::Failed(reason) => {
                    failed += 1;
                    format!("failed: {}: {reason}", result.instance_id)
                }
            };
            progress.line(&line);
            progress.inc(1);
            progress.message(format!("built {built}, up to date {current}, failed {failed}"));
        })
        .await;
        cleanup.abort();
        results
    });
    progress.finish();
    let results = results?;
    println!(
        "{} images in {:.1} s: {built} built, {current} up to date, {failed} failed",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(if failed == 0 { Outcome::Clean } else { Outcome::Problems })
}

/// On Ctrl-C or SIGTERM: removes this process's build containers, then exits with 130.
fn spawn_signal_cleanup() -> tokio::task::JoinHandle<()> {
    super::sandbox::on_interrupt("build", async { image::remove_own_builds(&image::connect().await?).await })
}

/// The instances of every input, each with the folder its repository is in, in input order,
/// without duplicates (a later record with an id already seen is dropped).
fn jobs(inputs: &[PathBuf], repos: Option<&Path>, only: &[String]) -> Result<Vec<BuildJob>> {
    let mut jobs = Vec::new();
    let mut seen = HashSet::new();
    for input in inputs {
        let (instances, repos) = match shipped_tasks(input)? {
            Some(instances) => (instances, input.clone()),
            None => {
                let Some(repos) = repos else {
                    bail!(
                        "{}: instance files need --repos DIR (git mirrors named <owner>__<name>.git)",
                        input.display()
                    );
                };
                (load_instances(input)?, repos.to_path_buf())
            }
        };
        for instance in instances {
            if (only.is_empty() || only.contains(&instance.instance_id)) && seen.insert(instance.instance_id.clone()) {
                jobs.push(BuildJob { instance, repos: repos.clone() });
            }
        }
    }
    if let Some(missing) = only.iter().find(|id| !seen.contains(*id)) {
        bail!("instance {missing} (--instance-id) is in none of the inputs");
    }
    Ok(jobs)
}

/// The instances of a folder of shipped tasks (`<task>/instance.json`); `None` when `dir`
/// holds no task.
fn shipped_tasks(dir: &Path) -> Result<Option<Vec<Instance>>> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let dirs = taskdir::task_dirs(dir)?;
    if dirs.is_empty() {
        return Ok(None);
    }
    let mut instances = Vec::new();
    for task in dirs {
        let path = task.join("instance.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {} (derive it with `srl tasks build`)", path.display()))?;
        let instance: Instance =
            serde_json::from_str(&text).with_context(|| format!("{} is not an instance", path.display()))?;
        instances.push(instance);
    }
    Ok(Some(instances))
}
