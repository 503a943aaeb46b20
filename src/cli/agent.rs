//! `srl agent`: the student as an agent. One episode per task instance in a fresh sandbox,
//! then the submissions graded as `srl eval` grades them; everything lands in the run directory.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{parse_rounds, Outcome, Rounds};
use crate::agent::episode::{Episode, Termination};
use crate::agent::model::{AnyModel, ChatModel, Sampling};
use crate::agent::openai::OpenAiOptions;
use crate::agent::output::{run_summary, write_episodes};
use crate::agent::{run_episodes, AgentOptions};
use crate::policy::device::{DeviceSpec, Placement, Precision};
use crate::sandbox::engine::Engines;
use crate::sandbox::{self, docker, Backend};
use crate::task::eval::{evaluate, summary, EvalOptions, InstanceResult, Prediction, Status};
use crate::task::instance::{load_instances, Instance};
use crate::task::spec::Specs;

#[derive(clap::Args)]
pub struct Args {
    /// The student: a .gguf file or Hugging Face directory (sampled here with candle), a Hub id
    /// found in the Hugging Face cache (Org/Name), openai:http[s]://HOST[:PORT]/v1#MODEL (an
    /// OpenAI-compatible server; the API key comes from OPENAI_API_KEY or --api-key-env), or
    /// scripted:FILE (a JSON list of replies)
    #[arg(long)]
    model: String,
    /// Task instances (SWE-bench JSONL, JSON list, or JSON object keyed by id), e.g. from `srl tasks export`
    #[arg(long)]
    instances: PathBuf,
    /// Run directory: trajectories.jsonl, trajs/<instance>.traj, preds.jsonl, report.json, summary.json, eval/
    #[arg(short, long)]
    output: PathBuf,
    #[arg(long, value_enum, default_value = "auto")]
    sandbox: Backend,
    #[arg(long, default_value = docker::DEFAULT_IMAGE)]
    image: String,
    /// Where repositories are found: task directories (<name>/repo) or git mirrors (<owner>__<name>.git)
    #[arg(long, default_value = "tasks")]
    repos: PathBuf,
    /// Model replies per episode (a reply in the wrong format counts too)
    #[arg(long, default_value_t = 30)]
    max_steps: usize,
    /// Episodes run at the same time (a local model samples for one at a time)
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Previous rounds shown in each prompt: a number or `all` (as `srl steps`)
    #[arg(long, default_value = "2", value_parser = parse_rounds)]
    context_rounds: Rounds,
    /// Observations longer than this (in characters) keep only their head and tail in prompts
    #[arg(long, default_value_t = 4000)]
    max_observation_chars: usize,
    /// Sampling temperature (0: greedy)
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    /// Tokens per reply
    #[arg(long, default_value_t = 512)]
    max_tokens: usize,
    /// Text that ends a reply (repeatable); a reply always ends after its first complete action
    #[arg(long)]
    stop: Vec<String>,
    /// Text prefilled at the start of every reply of a local or scripted model (e.g. "<think>\n");
    /// default: the prefix saved with a trained checkpoint (output_contract.json), else none
    #[arg(long)]
    response_prefix: Option<String>,
    /// The revision (branch, tag or commit) of a Hub id in the Hugging Face cache [default: main]
    #[arg(long)]
    revision: Option<String>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Seconds allowed for each action
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Seconds allowed for an instance's tests when grading
    #[arg(long, default_value_t = 1800)]
    test_timeout: u64,
    /// Where a local model runs: cpu, cuda or cuda:N (cuda needs a build with `--features cuda`)
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Activation precision of a local model: f32 or bf16 (bf16 is for GPUs)
    #[arg(long, default_value = "f32")]
    precision: Precision,
    /// Decode a local model on the CPU with int8 copies of its weights (about 2x faster)
    #[arg(long)]
    quantized_sampling: bool,
    /// openai: retries after a connection error, a timeout, 429 or 5xx (exponential backoff from 1 s)
    #[arg(long, default_value_t = 5)]
    retries: u32,
    /// openai: the environment variable holding the API key [default: OPENAI_API_KEY]
    #[arg(long, value_name = "NAME")]
    api_key_env: Option<String>,
    /// openai: seconds allowed for one request
    #[arg(long, default_value_t = 600)]
    request_timeout: u64,
    /// Write the predictions without grading them
    #[arg(long)]
    no_eval: bool,
    #[command(flatten)]
    images: super::images::ImageArgs,
}

pub fn run(args: Args) -> Result<Outcome> {
    let instances = load_instances(&args.instances)?;
    let openai = OpenAiOptions {
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        retries: args.retries,
        first_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(30),
        api_key: api_key(args.api_key_env.as_deref())?,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let model = runtime.block_on(async {
        AnyModel::open(
            &args.model,
            Placement { device: args.device, precision: args.precision, quantized_sampling: args.quantized_sampling },
            &openai,
            args.response_prefix.as_deref(),
            args.revision.as_deref(),
        )
    })?;
    let contract = model.contract_summary();
    let text = |key: &str| contract[key].as_str().unwrap_or_default().to_string();
    eprintln!(
        "output contract: response prefix {:?} (from: {}), chat template {}",
        text("response_prefix"),
        text("response_prefix_from"),
        text("chat_template")
    );
    std::fs::create_dir_all(&args.output).with_context(|| format!("cannot create {}", args.output.display()))?;
    let options = AgentOptions {
        max_steps: args.max_steps,
        context_rounds: args.context_rounds.0,
        max_observation_chars: args.max_observation_chars,
        action_timeout: Duration::from_secs(args.timeout),
        sampling: Sampling { temperature: args.temperature, max_tokens: args.max_tokens, stop: args.stop.clone() },
        seed: args.seed,
        workers: args.workers,
        backend: args.sandbox,
        image: args.image.clone(),
        repos: args.repos.clone(),
        run_id: sandbox::new_run_id(),
        images: args.images.images(),
        engines: engines_for(args.sandbox, args.workers)?,
    };
    let started = Instant::now();
    let total = instances.len();
    let progress = super::progress::Progress::new(Some(total as u64), "episodes");
    let mut done = 0;
    let (episodes, results) = runtime.block_on(async {
        let cleanup = super::sandbox::spawn_signal_cleanup(options.run_id.clone());
        let episodes = run_episodes(&model, &instances, &options, &mut |episode| {
            done += 1;
            progress.line(&format!("[{done}/{total}] {}", episode_line(episode)));
            progress.inc(1);
        })
        .await;
        let graded = match write_episodes(&args.output, model.name(), &episodes) {
            Ok(_) if args.no_eval => Ok(Vec::new()),
            Ok(predictions) => grade(&args, &instances, &predictions).await,
            Err(e) => Err(e),
        };
        cleanup.abort();
        graded.map(|results| (episodes, results))
    })?;
    progress.finish();
    let mut run = run_summary(model.name(), &episodes, &results);
    run["output_contract"] = contract;
    crate::atomic::write_file(&args.output.join("summary.json"), serde_json::to_string_pretty(&run)?.as_bytes())?;
    let grading_errors = results.iter().filter(|r| matches!(r.status, Status::Error(_))).count();
    println!("{}", summary_line(&args, &run, grading_errors, started.elapsed().as_secs_f64()));
    let episode_errors = run["errors"].as_u64().unwrap_or(0);
    Ok(if episode_errors == 0 && grading_errors == 0 { Outcome::Clean } else { Outcome::Problems })
}

/// The API key from `--api-key-env NAME` (which must be set) or `OPENAI_API_KEY` (optional).
fn api_key(name: Option<&str>) -> Result<Option<String>> {
    match name {
        Some(name) => match std::env::var(name) {
            Ok(key) if !key.is_empty() => Ok(Some(key)),
            _ => anyhow::bail!("--api-key-env {name}: the environment variable {name} is not set or empty"),
        },
        None => Ok(std::env::var("OPENAI_API_KEY").ok().filter(|k| !k.is_empty())),
    }
}

/// Grades the predictions as `srl eval` does, logs under `<run>/eval/`, the SWE-bench report in
/// `<run>/report.json`.
async fn grade(args: &Args, instances: &[Instance], predictions: &[Prediction]) -> Result<Vec<InstanceResult>> {
    let eval = EvalOptions {
        run_id: "agent".to_string(),
        repos: args.repos.clone(),
        backend: args.sandbox,
        image: args.image.clone(),
        timeout: Duration::from_secs(args.test_timeout),
        workers: args.workers,
        log_dir: args.output.join("eval"),
        specs: Specs::builtin(),
        images: args.images.images(),
        engines: engines_for(args.sandbox, args.workers)?,
    };
    // Reports of an earlier run in this directory graded other patches: never reuse them.
    let stale = eval.log_dir.join(&eval.run_id);
    if stale.exists() {
        std::fs::remove_dir_all(&stale).with_context(|| format!("cannot remove {}", stale.display()))?;
    }
    let terminal = std::io::stderr().is_terminal();
    let results = evaluate(instances, predictions, &eval, &mut |result| {
        if let Status::Error(reason) = &result.status {
            eprintln!("error: grading {}: {reason}", result.instance_id);
        } else if terminal {
            eprintln!("graded {}: {:?}", result.instance_id, result.status);
        }
    })
    .await;
    let report = summary(instances, predictions, &results);
    crate::atomic::write_file(&args.output.join("report.json"), serde_json::to_string_pretty(&report)?.as_bytes())?;
    Ok(results)
}

fn summary_line(args: &Args, run: &serde_json::Value, grading_errors: usize, seconds: f64) -> String {
    let resolved = if args.no_eval {
        "not graded (--no-eval)".to_string()
    } else {
        let rate = 100.0 * run["resolve_rate"].as_f64().unwrap_or(0.0);
        format!("resolved {}/{} ({rate:.1}%)", run["resolved"], run["instances"])
    };
    format!(
        "agent: {} episodes in {seconds:.1} s ({} submitted, {} errors), {} steps, {} format errors, {:.2} s per step; {resolved}{}; outputs in {}",
        run["instances"],
        run["submitted"],
        run["errors"],
        run["steps"],
        run["usage"]["format_errors"],
        run["seconds_per_step"].as_f64().unwrap_or(0.0),
        if grading_errors > 0 { format!(", {grading_errors} grading errors") } else { String::new() },
        args.output.display()
    )
}

fn episode_line(episode: &Episode) -> String {
    let usage = episode.usage();
    let mut line = format!(
        "{}: {} after {} steps ({} format errors), {} + {} tokens, {:.1} s",
        episode.instance_id,
        episode.termination.exit_status(),
        episode.n_actions(),
        usage.format_errors,
        usage.prompt_tokens,
        usage.completion_tokens,
        episode.seconds
    );
    if let Termination::Error(message) = &episode.termination {
        line.push_str(&format!(": {message}"));
    }
    line
}

/// The configured engines for a Docker run (one slot more than the workers each), none for local.
fn engines_for(backend: Backend, workers: usize) -> Result<Option<Engines>> {
    Ok(match backend {
        Backend::Local => None,
        _ => Some(Engines::configured(workers.max(1) + 1)?),
    })
}
