//! `srl replay`: re-execute recorded expert trajectories in fresh sandboxes and report how well
//! each observation is reproduced, then the final diff and, with `--grade`, its grade.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Outcome;
use crate::sandbox::{self, docker, Backend, Sandbox};
use crate::task::build::grade_work_tree;
use crate::task::instance::load_instances;
use crate::task::repos;
use crate::trajectory::read::{import_paths, ImportOptions};

#[derive(clap::Args)]
pub struct Args {
    /// Task instances (for the repository and base commit of each trajectory)
    #[arg(long)]
    instances: PathBuf,
    /// Trajectories: srl.trajectory/1 JSONL or any format `srl import` reads
    #[arg(long, required = true, num_args = 1..)]
    trajectories: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    sandbox: Backend,
    #[arg(long, default_value = docker::DEFAULT_IMAGE)]
    image: String,
    #[arg(long, default_value = "tasks")]
    repos: PathBuf,
    /// Seconds allowed for each action (and for the tests with --grade)
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Apply the test patch to the final state and run the tests: does the trajectory resolve its task?
    #[arg(long)]
    grade: bool,
    /// Print the per-step similarities too, and a diff of each observation that differs
    #[arg(long)]
    steps: bool,
    #[command(flatten)]
    images: super::images::ImageArgs,
}

pub fn run(args: Args) -> Result<Outcome> {
    let instances = load_instances(&args.instances)?;
    let mut trajectories = Vec::new();
    let summary = import_paths(&args.trajectories, &ImportOptions { format: None, strict: true }, &mut |t| {
        trajectories.push(t);
        Ok(())
    })?;
    tracing::debug!("{}", summary.line());
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let timeout = Duration::from_secs(args.timeout);
    let run_id = sandbox::new_run_id();
    let mut failures = 0;
    runtime.block_on(async {
        let cleanup = super::sandbox::spawn_signal_cleanup(run_id.clone());
        for trajectory in &trajectories {
            let id = trajectory.instance_id.clone().unwrap_or_default();
            let Some(instance) = instances.iter().find(|i| i.instance_id == id) else {
                eprintln!("error: {}: no instance {id:?} in {}", trajectory.id, args.instances.display());
                failures += 1;
                continue;
            };
            let images = args.images.images();
            let mut sb =
                match repos::open_sandbox(instance, &args.repos, args.sandbox, &args.image, &images, &run_id, None)
                    .await
                {
                    Ok(sb) => sb,
                    Err(e) => {
                        eprintln!("error: {id}: {e:#}");
                        failures += 1;
                        continue;
                    }
                };
            let result = async {
                let replayed = crate::task::replay::replay(&mut sb, trajectory, timeout).await?;
                let mut line = format!(
                    "{}: {} steps, mean observation similarity {:.3}, {} identical, diff {} lines",
                    id,
                    replayed.steps.len(),
                    replayed.mean_similarity,
                    replayed.identical_steps,
                    replayed.diff.lines().count()
                );
                if args.steps {
                    for step in &replayed.steps {
                        line.push_str(&format!(
                            "\n  step {:>2} {:<20} similarity {:.3}",
                            step.step, step.tool, step.similarity
                        ));
                        if let Some(divergence) = &step.divergence {
                            for diff_line in divergence.lines() {
                                line.push_str(&format!("\n      {diff_line}"));
                            }
                        }
                    }
                }
                let mut resolved = true;
                if args.grade {
                    resolved = grade_work_tree(&mut sb, instance, timeout).await?.resolved;
                    line.push_str(if resolved { ", resolved" } else { ", NOT resolved" });
                }
                anyhow::Ok((line, resolved))
            }
            .await;
            sb.close().await?;
            match result {
                Ok((line, resolved)) => {
                    println!("{line}");
                    failures += usize::from(!resolved);
                }
                Err(e) => {
                    eprintln!("error: {id}: {e:#}");
                    failures += 1;
                }
            }
        }
        cleanup.abort();
        anyhow::Ok(())
    })?;
    Ok(if failures == 0 { Outcome::Clean } else { Outcome::Problems })
}
