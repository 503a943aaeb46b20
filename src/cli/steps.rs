//! `srl steps`: `srl.trajectory/1` JSONL → one `srl.step/1` instance per expert step.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::{parse_rounds, Outcome, Output, Rounds};
use crate::steps::{build_instances, StepOptions, StepStats};
use crate::trajectory::{Trajectory, SCHEMA};

#[derive(clap::Args)]
pub struct Args {
    /// Trajectories written by `srl import` (`-` for stdin)
    input: PathBuf,
    /// Output JSONL file (`-` for stdout); written atomically
    #[arg(short, long)]
    output: PathBuf,
    /// Previous expert rounds shown in each prompt: a number or `all`
    #[arg(long, default_value = "2", value_parser = parse_rounds)]
    context_rounds: Rounds,
    /// Observations longer than this (in characters) keep only their head and tail
    #[arg(long, default_value_t = 4000)]
    max_observation_chars: usize,
    /// Keep only trajectories whose source dataset marks them resolved (`resolved`, `target`);
    /// the others, and those with no outcome, are dropped and counted
    #[arg(long)]
    only_resolved: bool,
}

pub fn run(args: Args) -> Result<Outcome> {
    let options =
        StepOptions { context_rounds: args.context_rounds.0, max_observation_chars: args.max_observation_chars };
    let input = crate::jsonl::open_input(&args.input)?;
    let mut out = Output::create(&args.output)?;
    let mut stats = StepStats::default();
    let mut problems = 0usize;
    let mut dropped = 0usize;
    let mut write_error = None;
    crate::jsonl::for_each_record::<Trajectory, _, _>(input, |line, record| {
        let trajectory = match record.and_then(check_schema) {
            Ok(trajectory) => trajectory,
            Err(reason) => {
                eprintln!("error: {}: line {line}: {reason}", args.input.display());
                problems += 1;
                return Ok(());
            }
        };
        if args.only_resolved && trajectory.resolved != Some(true) {
            dropped += 1;
            return Ok(());
        }
        for instance in build_instances(&trajectory, &options, &mut stats) {
            if let Err(e) = crate::jsonl::write_record(&mut out, &instance) {
                write_error.get_or_insert(e);
            }
        }
        Ok(())
    })
    .with_context(|| format!("failed to read {}", args.input.display()))?;
    if let Some(e) = write_error {
        return Err(e);
    }
    out.finish()?;
    let mut line = stats.line();
    if args.only_resolved {
        line.push_str(&format!(", {dropped} trajectories dropped as not resolved"));
    }
    if problems > 0 {
        line.push_str(&format!(", {problems} bad lines"));
    }
    super::summary(&line, args.output.as_os_str() == "-");
    if stats.trajectories == 0 && problems == 0 && dropped == 0 {
        bail!("{} holds no trajectories", args.input.display());
    }
    Ok(if problems == 0 { Outcome::Clean } else { Outcome::Problems })
}

fn check_schema(trajectory: Trajectory) -> Result<Trajectory, String> {
    if trajectory.schema != SCHEMA {
        return Err(format!("schema is {:?}, expected {SCHEMA:?} (run `srl import` first)", trajectory.schema));
    }
    Ok(trajectory)
}
