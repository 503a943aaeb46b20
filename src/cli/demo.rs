//! `srl demo`: the pipeline, small, on the sample trajectories embedded in the binary.
//!
//! It writes the samples to the output directory, imports them with the real importers,
//! builds step instances, and scores a few kinds of completion for a handful of steps, so a
//! newcomer sees every stage's output in one run with nothing downloaded.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::Outcome;
use crate::action::{render, Action};
use crate::jsonl::write_record;
use crate::reward::{step_reward, RewardConfig};
use crate::steps::{build_instances, StepInstance, StepOptions, StepStats};
use crate::trajectory::read::{import_paths, ImportOptions};

const SAMPLES: [(&str, &str); 2] = [
    ("chunked-xml.jsonl", include_str!("../../tasks/samples/chunked-xml.jsonl")),
    ("durations.traj.json", include_str!("../../tasks/samples/durations.traj.json")),
];

#[derive(clap::Args)]
pub struct Args {
    /// Directory for the demo's files (samples, trajectories.jsonl, steps.jsonl)
    #[arg(long, default_value = "srl-demo")]
    out: PathBuf,
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
    Ok(Outcome::Clean)
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
