//! `srl eval`: SWE-bench-style evaluation of predictions, resumable, in parallel.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::Outcome;
use crate::sandbox::engine::Engines;
use crate::sandbox::{docker, Backend};
use crate::task::eval::{evaluate, parse_predictions, summary, EvalOptions, Status};
use crate::task::instance::load_instances;
use crate::task::spec::Specs;

#[derive(clap::Args)]
pub struct Args {
    /// Task instances (SWE-bench JSONL, JSON list, or JSON object keyed by id)
    #[arg(long)]
    instances: PathBuf,
    /// Predictions: {"instance_id", "model_name_or_path", "model_patch"} as JSONL, a JSON list or a JSON object keyed by id
    #[arg(long)]
    predictions: PathBuf,
    /// Names this evaluation; a rerun with the same id skips instances that already have a report
    #[arg(long)]
    run_id: String,
    /// Instances evaluated at the same time
    #[arg(long, default_value_t = 1)]
    workers: usize,
    #[arg(long, value_enum, default_value = "auto")]
    sandbox: Backend,
    #[arg(long, default_value = docker::DEFAULT_IMAGE)]
    image: String,
    /// Seconds allowed for an instance's test command
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Where repositories are found: task directories (<name>/repo) or git mirrors (<owner>__<name>.git)
    #[arg(long, default_value = "tasks")]
    repos: PathBuf,
    /// Per-instance logs go to <log-dir>/<run-id>/<model>/<instance>/
    #[arg(long, default_value = "logs/run_evaluation")]
    log_dir: PathBuf,
    /// Directory for the run summary <model>.<run-id>.json
    #[arg(long, default_value = ".")]
    report_dir: PathBuf,
    /// SWE-bench spec entries that add to or replace the built-in table (TOML, as sandboxes/swe-specs.toml)
    #[arg(long)]
    specs: Option<PathBuf>,
    #[command(flatten)]
    images: super::images::ImageArgs,
}

pub fn run(args: Args) -> Result<Outcome> {
    let instances = load_instances(&args.instances)?;
    let text = std::fs::read_to_string(&args.predictions)
        .with_context(|| format!("cannot read {}", args.predictions.display()))?;
    let predictions = parse_predictions(&text, &args.predictions.display().to_string()).map_err(anyhow::Error::msg)?;
    let options_workers = args.workers.max(1);
    let model = predictions.first().map(|p| p.model_name_or_path.clone()).unwrap_or_default();
    let options = EvalOptions {
        run_id: args.run_id.clone(),
        repos: args.repos,
        backend: args.sandbox,
        image: args.image,
        timeout: Duration::from_secs(args.timeout),
        workers: args.workers,
        log_dir: args.log_dir,
        specs: Specs::load(args.specs.as_deref())?,
        images: args.images.images(),
        // One slot more than the workers per engine: the next instance's sandbox starts while
        // the others run their tests.
        engines: match args.sandbox {
            Backend::Local => None,
            _ => Some(Engines::configured(options_workers + 1)?),
        },
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let started = Instant::now();
    let total = predictions.len();
    let progress = super::progress::Progress::new(Some(total as u64), "predictions");
    let (mut resolved, mut errors, mut retried) = (0, 0, 0);
    let several_engines = options.engines.as_ref().filter(|pool| pool.len() > 1);
    let results = runtime.block_on(async {
        let cleanup = super::sandbox::spawn_signal_cleanup(options.run_id.clone());
        let results = evaluate(&instances, &predictions, &options, &mut |result| {
            resolved += usize::from(result.status == Status::Resolved);
            if let Status::Error(reason) = &result.status {
                errors += 1;
                progress.line(&format!("error: {}: {reason}", result.instance_id));
            }
            retried += usize::from(result.retries > 0);
            progress.inc(1);
            match several_engines {
                Some(pool) => progress.message(format!(
                    "resolved {resolved}, errors {errors}, retried {retried} | engines: {}",
                    pool.status()
                )),
                None => progress.message(format!("resolved {resolved}, errors {errors}")),
            }
        })
        .await;
        cleanup.abort();
        results
    });
    progress.finish();
    let report = summary(&instances, &predictions, &results);
    let name = format!("{}.{}.json", model.replace('/', "__"), args.run_id);
    let path = args.report_dir.join(&name);
    crate::atomic::write_file(&path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    // Harness overhead as a share of the workers' time: the run's wall time times the workers
    // that could be busy, against the time spent inside test commands.
    let busy = started.elapsed().as_secs_f64() * options_workers.min(total.max(1)) as f64;
    let tests: f64 = results.iter().map(|r| r.tests.as_secs_f64()).sum();
    let reused = results.iter().filter(|r| r.reused).count();
    let engines = match several_engines {
        Some(pool) => format!("; engines: {}; {retried} retried on another engine", pool.status()),
        None => String::new(),
    };
    println!(
        "evaluated {total} predictions in {:.1} s: {} resolved, {} unresolved, {} empty patches, {} errors ({reused} from an earlier run); tests took {:.0}% of the workers' time{engines}; report {}",
        started.elapsed().as_secs_f64(),
        report["resolved_instances"],
        report["unresolved_instances"],
        report["empty_patch_instances"],
        report["error_instances"],
        if busy > 0.0 { 100.0 * tests / busy } else { 0.0 },
        path.display()
    );
    Ok(if errors == 0 { Outcome::Clean } else { Outcome::Problems })
}
