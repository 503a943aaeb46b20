//! `srl demo`: the pipeline, small.
//!
//! First on the sample trajectories embedded in the binary: import them with the real
//! importers, build step instances, and score a few kinds of completion. Then, unless
//! `--no-train`, training: fetch the embedded student (SmolLM2-135M-Instruct) if missing, import
//! the shipped tasks' expert trajectories, build step instances, evaluate the student on
//! held-out steps, run a short SFT warm-up and a few SRL steps whose reward mixes similarity and
//! execution in a sandbox (Docker when its daemon and image are there, else local), evaluate
//! again, and write the report. Last, the loop a user cares about: the untrained and the
//! trained student each act as an agent on the held-out tasks for a few steps, and a table
//! shows how many of their replies kept the output contract, the steps taken and the tasks
//! resolved. About 9 minutes on 2 idle cores.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use super::Outcome;
use crate::action::{render, Action};
use crate::agent::model::{ChatModel, LocalModel, Sampling};
use crate::agent::output::{run_summary, write_episodes};
use crate::agent::{run_episodes, AgentOptions};
use crate::jsonl::write_record;
use crate::policy::device::Placement;
use crate::reward::{step_reward, RewardConfig};
use crate::sandbox::Backend;
use crate::steps::{build_instances, StepInstance, StepOptions, StepStats};
use crate::task::eval::{evaluate, EvalOptions, Status};
use crate::task::instance::Instance;
use crate::task::spec::Specs;
use crate::train::config::{Mode, TrainConfig};
use crate::train::run::Event;
use crate::trajectory::read::{import_paths, ImportOptions};

const SAMPLES: [(&str, &str); 2] = [
    ("chunked-xml.jsonl", include_str!("../../tasks/samples/chunked-xml.jsonl")),
    ("durations.traj.json", include_str!("../../tasks/samples/durations.traj.json")),
];

#[derive(clap::Args)]
pub struct Args {
    /// Directory for the demo's files (samples, trajectories.jsonl, steps.jsonl, train/)
    #[arg(long, default_value = "srl-demo")]
    out: PathBuf,
    /// Stop after the reward stage: no model, no training
    #[arg(long)]
    no_train: bool,
    /// The student (fetched by scripts/fetch-model.sh when it is the default and missing)
    #[arg(long, default_value = "models/SmolLM2-135M-Instruct.Q4_1.gguf")]
    model: PathBuf,
    /// The shipped tasks, whose expert trajectories the student is trained on
    #[arg(long, default_value = "tasks")]
    tasks: PathBuf,
}

pub fn run(args: Args) -> Result<Outcome> {
    let sample_dir = args.out.join("samples");
    fs::create_dir_all(&sample_dir).with_context(|| format!("failed to create {}", sample_dir.display()))?;
    for (name, contents) in SAMPLES {
        crate::atomic::write_file(&sample_dir.join(name), contents.as_bytes())?;
    }

    let mut trajectories = Vec::new();
    let options = ImportOptions { format: None, strict: true };
    let summary = import_paths(std::slice::from_ref(&sample_dir), &options, &mut |t| {
        trajectories.push(t);
        Ok(())
    })?;
    let mut out = crate::atomic::AtomicFile::create(&args.out.join("trajectories.jsonl"))?;
    for trajectory in &trajectories {
        write_record(&mut out, trajectory)?;
    }
    out.commit()?;
    println!("1. import: {}", summary.line());

    let step_options = StepOptions { context_rounds: Some(2), max_observation_chars: 4000 };
    let mut stats = StepStats::default();
    let instances: Vec<StepInstance> =
        trajectories.iter().flat_map(|t| build_instances(t, &step_options, &mut stats)).collect();
    let mut out = crate::atomic::AtomicFile::create(&args.out.join("steps.jsonl"))?;
    for instance in &instances {
        write_record(&mut out, instance)?;
    }
    out.commit()?;
    println!("2. steps:  {}", stats.line());

    println!("3. rewards (difflib ratio of canonical actions, autojunk off; -1 = broken format):");
    println!("   {:<44} {:<28} {:>8}", "step instance", "completion", "reward");
    let config = RewardConfig { autojunk: false };
    for instance in instances.iter().step_by(4) {
        for (label, completion) in sample_completions(&instance.target_action) {
            let reward = step_reward(&instance.target, &completion, &config);
            println!("   {:<44} {:<28} {:>8.3}", short_id(&instance.id), label, reward.reward);
        }
    }
    println!("files written to {}", args.out.display());
    if args.no_train {
        return Ok(Outcome::Clean);
    }
    train_small(&args)
}

/// The training half of the demo.
fn train_small(args: &Args) -> Result<Outcome> {
    if !args.model.is_file() {
        println!("4. model: {} is missing; fetching it with scripts/fetch-model.sh", args.model.display());
        let fetched = std::process::Command::new("bash").arg("scripts/fetch-model.sh").status();
        if !matches!(fetched, Ok(status) if status.success()) || !args.model.is_file() {
            anyhow::bail!(
                "cannot fetch the student model to {} (run scripts/fetch-model.sh from the repository root, or pass --no-train)",
                args.model.display()
            );
        }
    }
    let trajectory_files: Vec<PathBuf> = crate::task::taskdir::task_dirs(&args.tasks)
        .with_context(|| format!("the demo trains on the shipped tasks in {}", args.tasks.display()))?
        .into_iter()
        .map(|dir| dir.join("trajectory.jsonl"))
        .filter(|path| path.is_file())
        .collect();
    let mut trajectories = Vec::new();
    let summary = import_paths(&trajectory_files, &ImportOptions { format: None, strict: true }, &mut |t| {
        trajectories.push(t);
        Ok(())
    })?;
    let step_options = StepOptions { context_rounds: Some(1), max_observation_chars: 300 };
    let mut stats = StepStats::default();
    let instances: Vec<StepInstance> =
        trajectories.iter().flat_map(|t| build_instances(t, &step_options, &mut stats)).collect();
    let steps_path = args.out.join("task-steps.jsonl");
    let mut out = crate::atomic::AtomicFile::create(&steps_path)?;
    for instance in &instances {
        write_record(&mut out, instance)?;
    }
    out.commit()?;
    println!("4. expert trajectories of the shipped tasks: {}; {}", summary.line(), stats.line());

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let docker = runtime.block_on(crate::sandbox::docker::image_available(crate::sandbox::docker::DEFAULT_IMAGE));
    let sandbox = if docker { "docker" } else { "local" };
    if !docker {
        println!("   sandbox: local (for Docker: scripts/docker-up.sh && srl sandbox build)");
    }
    let mut config = TrainConfig {
        mode: Mode::SftThenSrl,
        model: args.model.clone(),
        steps: steps_path,
        out: args.out.join("train"),
        seed: 1,
        response_prefix: Some("<think>\n".into()),
        max_prompt_tokens: 900,
        ..TrainConfig::default()
    };
    // Enough SFT for the student to keep the output contract as an agent over many turns, not
    // only on the first prompt (3 steps of 1 left it 24 % format-valid over 10 turns).
    config.sft.train_steps = 8;
    config.sft.batch_size = 2;
    config.sft.learning_rate = 1e-4;
    config.sft.warmup_steps = 1;
    config.srl.train_steps = 2;
    config.srl.prompts_per_step = 1;
    config.srl.group_size = 4;
    config.srl.temperature = 0.8;
    config.srl.max_new_tokens = 64;
    config.srl.learning_rate = 5e-6;
    config.srl.log_kl = false;
    config.srl.max_sampling_rounds = 2;
    config.reward.w_sim = 0.5;
    config.reward.w_exec = 0.5;
    config.reward.tasks = args.tasks.clone();
    config.reward.sandbox = sandbox.into();
    config.eval.holdout_trajectories = 2;
    config.eval.max_instances = 8;
    config.eval.max_new_tokens = 64;
    if config.out.exists() {
        fs::remove_dir_all(&config.out).with_context(|| format!("cannot remove {}", config.out.display()))?;
    }
    println!(
        "5. training {} ({}): SFT warm-up then SRL, reward 0.5 similarity + 0.5 execution ({sandbox} sandbox)",
        config.model.display(),
        config.mode.name()
    );
    let mut evaluations = Vec::new();
    crate::train::run::run(&config, false, None, &mut |event| match event {
        Event::Message(text) => println!("   {text}"),
        Event::Step { metrics, total_steps } => println!(
            "   step {}/{total_steps} {}: loss {}, reward {}, format errors {}, {:.0} s",
            metrics.step + 1,
            metrics.stage,
            metrics.loss.map_or("-".into(), |l| format!("{l:.3}")),
            metrics.reward_mean.map_or("-".into(), |r| format!("{r:.3}")),
            metrics.format_error_rate.map_or("-".into(), |r| format!("{:.0}%", 100.0 * r)),
            metrics.seconds_generation + metrics.seconds_reward + metrics.seconds_update
        ),
        Event::Eval(result) => {
            println!("   evaluated {}: mean reward {:.3}", result.label, result.mean_reward);
            evaluations.push(result.clone());
        }
    })?;
    crate::train::report::write_report(&config.out)?;
    println!("6. held-out step instances, greedy decoding (mean reward ± its standard error over the prompts):");
    println!("   {:<10} {:>10} {:>20} {:>14}", "when", "instances", "mean reward", "format errors");
    for e in &evaluations {
        println!(
            "   {:<10} {:>10} {:>12.3} ± {:.3} {:>13.0}%",
            e.label,
            e.instances,
            e.mean_reward,
            e.reward_std_error,
            100.0 * e.format_error_rate
        );
    }
    if let [.., before_last, last] = &evaluations[..] {
        let resolvable = 2.0 * (before_last.reward_std_error.powi(2) + last.reward_std_error.powi(2)).sqrt();
        let difference = last.mean_reward - before_last.mean_reward;
        println!(
            "   {} vs {}: {difference:+.3}; on {} prompts only a difference beyond about ±{resolvable:.3} (two standard \
             errors) is more than noise{}",
            last.label,
            before_last.label,
            last.instances,
            if difference.abs() < resolvable { ", so this one is not" } else { "" }
        );
    }
    println!("report: {} (curves: *.png beside it)", config.out.join("report.md").display());
    act_on_held_out_tasks(args, &config, &runtime)
}

/// Greedy replies per agent episode in the demo's closing comparison.
const AGENT_STEPS: usize = 4;

/// The untrained and the trained student as agents on the tasks of the held-out trajectories.
fn act_on_held_out_tasks(args: &Args, config: &TrainConfig, runtime: &tokio::runtime::Runtime) -> Result<Outcome> {
    let steps = crate::train::data::read_instances(&config.steps)?;
    let (_, held_out) = crate::train::data::split(&steps, config.eval.holdout_trajectories);
    let ids: std::collections::BTreeSet<&str> = held_out.iter().filter_map(|i| i.instance_id.as_deref()).collect();
    let tasks: Vec<Instance> = crate::train::execution::task_instances(&args.tasks)?
        .into_iter()
        .filter(|i| ids.contains(i.instance_id.as_str()))
        .collect();
    let backend = if config.reward.sandbox == "docker" { Backend::Docker } else { Backend::Local };
    let names: Vec<&str> = tasks.iter().map(|t| t.instance_id.as_str()).collect();
    println!(
        "7. the students as agents on the held-out tasks ({}), greedy, {AGENT_STEPS} replies each:",
        names.join(", ")
    );
    let checkpoint = crate::train::checkpoint::checkpoint_dir(&config.out);
    // The untrained student gets the prefix the trained one learned with, so only training differs.
    let students = [
        ("untrained", args.model.clone(), config.response_prefix.clone(), "agent-untrained"),
        ("trained", checkpoint, None, "agent-trained"),
    ];
    let mut rows = Vec::new();
    for (label, model, prefix, dir) in students {
        let placement = Placement { quantized_sampling: true, ..Placement::default() };
        let model = LocalModel::load(&model, placement, prefix.as_deref())?;
        let out = args.out.join(dir);
        let row = runtime.block_on(act(&model, &tasks, backend, args, &out))?;
        println!("   {label}: {row} (run in {})", out.display());
        rows.push((label, row));
    }
    println!("   {:<10} {:>20} {:>12} {:>10}", "student", "format-valid replies", "steps taken", "resolved");
    for (label, row) in &rows {
        println!(
            "   {:<10} {:>13}/{:<2} {:>3.0}% {:>12} {:>7}/{}",
            label,
            row.valid,
            row.replies,
            100.0 * row.valid as f64 / row.replies.max(1) as f64,
            row.steps,
            row.resolved,
            row.tasks
        );
    }
    println!("   (135 M parameters and a few training steps: the format is learned, resolving tasks is not expected)");
    Ok(Outcome::Clean)
}

/// What one student did as an agent.
struct AgentRow {
    tasks: usize,
    replies: u64,
    valid: u64,
    steps: usize,
    resolved: usize,
}

impl std::fmt::Display for AgentRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} replies format-valid, {} steps, {}/{} resolved",
            self.valid, self.replies, self.steps, self.resolved, self.tasks
        )
    }
}

async fn act(model: &LocalModel, tasks: &[Instance], backend: Backend, args: &Args, out: &Path) -> Result<AgentRow> {
    let options = AgentOptions {
        max_steps: AGENT_STEPS,
        context_rounds: Some(1),
        max_observation_chars: 300,
        action_timeout: Duration::from_secs(30),
        sampling: Sampling { temperature: 0.0, max_tokens: 128, stop: Vec::new() },
        seed: 0,
        workers: 1,
        backend,
        image: crate::sandbox::docker::DEFAULT_IMAGE.to_string(),
        repos: args.tasks.clone(),
        run_id: crate::sandbox::new_run_id(),
        images: Default::default(),
        engines: None,
    };
    let episodes = run_episodes(model, tasks, &options, &mut |_| {}).await;
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let predictions = write_episodes(out, model.name(), &episodes)?;
    let eval = EvalOptions {
        run_id: "demo".to_string(),
        repos: args.tasks.clone(),
        backend,
        image: options.image.clone(),
        timeout: Duration::from_secs(300),
        workers: 1,
        log_dir: out.join("eval"),
        specs: Specs::builtin(),
        images: Default::default(),
        engines: None,
    };
    let results = evaluate(tasks, &predictions, &eval, &mut |_| {}).await;
    let summary = run_summary(model.name(), &episodes, &results);
    crate::atomic::write_file(&out.join("summary.json"), serde_json::to_string_pretty(&summary)?.as_bytes())?;
    let usage = summary["usage"].clone();
    let replies = usage["model_calls"].as_u64().unwrap_or(0);
    Ok(AgentRow {
        tasks: tasks.len(),
        replies,
        valid: replies - usage["format_errors"].as_u64().unwrap_or(0),
        steps: episodes.iter().map(|e| e.n_actions()).sum(),
        resolved: results.iter().filter(|r| r.status == Status::Resolved).count(),
    })
}

/// Completions a student might write for a step whose expert action is `expert`.
fn sample_completions(expert: &Action) -> Vec<(&'static str, String)> {
    let think = "<think>\nI should take the next step towards fixing the issue.\n</think>\n";
    vec![
        ("the expert's action", format!("{think}{}", render(expert))),
        ("expert action, cut short", format!("{think}{}", render(&cut_short(expert)))),
        ("an unrelated `ls`", format!("{think}{}", render(&Action::bash("ls")))),
        ("no <think> block", render(expert)),
    ]
}

/// The expert action with the last third of its longest argument missing.
fn cut_short(expert: &Action) -> Action {
    let mut action = expert.clone();
    if let Some(value) = action.args.values_mut().max_by_key(|v| v.len()) {
        let keep = value.chars().count() * 2 / 3;
        *value = value.chars().take(keep).collect();
    }
    action
}

fn short_id(id: &str) -> String {
    if id.chars().count() <= 44 {
        return id.to_string();
    }
    let tail: String = id.chars().rev().take(41).collect::<Vec<_>>().into_iter().rev().collect();
    format!("...{tail}")
}
