//! `srl sandbox`: build the base image, remove leftover containers; and the signal handler that
//! removes a run's containers on Ctrl-C or SIGTERM.

use anyhow::{bail, Context, Result};

use super::Outcome;
use crate::sandbox::docker;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Build the sandbox base image from sandboxes/base without a registry (needs root)
    Build,
    /// Remove sandbox containers whose owning srl process is gone
    Gc,
}

const IMAGE_SCRIPT: &str = include_str!("../../scripts/sandbox-image.sh");
const IMAGE_FILES: [(&str, &str); 3] = [
    ("sandboxes/base/packages", include_str!("../../sandboxes/base/packages")),
    ("sandboxes/base/customize.sh", include_str!("../../sandboxes/base/customize.sh")),
    ("sandboxes/base/Dockerfile", include_str!("../../sandboxes/base/Dockerfile")),
];

pub fn run(args: Args) -> Result<Outcome> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match args.command {
        Command::Build => build_image(),
        Command::Gc => runtime.block_on(async {
            let removed = docker::remove_orphans().await?;
            println!("removed {removed} orphaned sandbox containers");
            Ok(Outcome::Clean)
        }),
    }
}

/// The image definition is embedded, so the build works from an installed binary too.
fn build_image() -> Result<Outcome> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    for (name, contents) in IMAGE_FILES.into_iter().chain([("scripts/sandbox-image.sh", IMAGE_SCRIPT)]) {
        crate::atomic::write_file(&dir.path().join(name), contents.as_bytes())?;
    }
    let status = std::process::Command::new("bash")
        .arg(dir.path().join("scripts/sandbox-image.sh"))
        .status()
        .context("cannot run bash")?;
    if !status.success() {
        bail!("building the sandbox image failed ({status})");
    }
    Ok(Outcome::Clean)
}

/// On Ctrl-C or SIGTERM, remove this run's containers before exiting.
pub fn spawn_signal_cleanup(run_id: String) -> tokio::task::JoinHandle<()> {
    on_interrupt("sandbox", async move { docker::remove_run(&run_id).await })
}

/// On Ctrl-C or SIGTERM: says that this run's `what` containers go, runs `cleanup`, exits with 130.
pub fn on_interrupt<F>(what: &'static str, cleanup: F) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = Result<usize>> + Send + 'static,
{
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("interrupted: removing this run's {what} containers");
        if let Err(e) = cleanup.await {
            eprintln!("error: {e:#}");
        }
        std::process::exit(130);
    })
}
