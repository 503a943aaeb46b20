//! `srl train`: SFT / SRL training of a candle student on step instances, configured by a TOML
//! file (`--print-default-config` shows every key with its default), resumable with `--resume`.

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::Outcome;
use crate::train::config::{Mode, TrainConfig, DEFAULT_TOML};
use crate::train::run::{run as run_training, Event, StepMetrics};

#[derive(clap::Args)]
pub struct Args {
    /// Configuration file (TOML); keys not given take their defaults
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the default configuration, with every key documented, and exit
    #[arg(long)]
    print_default_config: bool,
    /// Continue the run in this directory from its last checkpoint, with the configuration saved there
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "config")]
    resume: Option<PathBuf>,
    /// Override `mode`: srl, sft, sft-then-srl, rlvr or srl-then-rlvr
    #[arg(long)]
    mode: Option<String>,
    /// Override `model`: a Hugging Face directory or a .gguf file
    #[arg(long)]
    model: Option<PathBuf>,
    /// Override `steps`: step instances written by `srl steps`
    #[arg(long)]
    steps: Option<PathBuf>,
    /// Override `out`: the run directory
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override `seed`
    #[arg(long)]
    seed: Option<u64>,
    /// Stop (with a checkpoint) after this many optimisation steps; continue later with --resume
    #[arg(long, value_name = "N")]
    stop_after_steps: Option<usize>,
}

pub fn run(args: Args) -> Result<Outcome> {
    if args.print_default_config {
        print!("{DEFAULT_TOML}");
        return Ok(Outcome::Clean);
    }
    let mut config = match (&args.resume, &args.config) {
        (Some(dir), _) => TrainConfig::load(&dir.join("config.toml"))?,
        (None, Some(path)) => TrainConfig::load(path)?,
        (None, None) => TrainConfig::default(),
    };
    if let Some(dir) = &args.resume {
        if args.out.as_ref().is_some_and(|o| o != dir) {
            bail!("--out and --resume name different run directories");
        }
        config.out = dir.clone();
    }
    if let Some(mode) = &args.mode {
        config.mode = match mode.as_str() {
            "srl" => Mode::Srl,
            "sft" => Mode::Sft,
            "sft-then-srl" => Mode::SftThenSrl,
            "rlvr" => Mode::Rlvr,
            "srl-then-rlvr" => Mode::SrlThenRlvr,
            other => bail!("--mode must be srl, sft, sft-then-srl, rlvr or srl-then-rlvr, not {other:?}"),
        };
    }
    config.model = args.model.unwrap_or(config.model);
    config.steps = args.steps.unwrap_or(config.steps);
    config.out = args.out.unwrap_or(config.out);
    config.seed = args.seed.unwrap_or(config.seed);
    config.validate()?;
    let progress = super::progress::Progress::new(None, "steps");
    let mut sized = false;
    let state = run_training(&config, args.resume.is_some(), args.stop_after_steps, &mut |event| {
        match event {
        Event::Message(text) => progress.line(&text),
        Event::Eval(result) => progress.suspend(|| {
            println!(
                "eval {:<9}: mean reward {:.3} ± {:.3}, format errors {:.0}%, exact {:.0}% over {} held-out steps ({:.0} s)",
                result.label,
                result.mean_reward,
                result.reward_std_error,
                100.0 * result.format_error_rate,
                100.0 * result.exact_match_rate,
                result.instances,
                result.seconds
            )
        }),
        Event::Step { metrics, total_steps } => {
            progress.suspend(|| println!("{}", step_line(metrics, total_steps)));
            if !sized {
                progress.set_total(total_steps as u64, metrics.step as u64);
                sized = true;
            }
            progress.inc(1);
        }
    }
    })?;
    progress.finish();
    let status = if state.finished { "finished" } else { "stopped (continue with --resume)" };
    println!(
        "{status}: {} steps done; metrics in {}, checkpoint (Hugging Face layout) in {}; plots: srl report {}",
        state.global_step,
        config.out.join("metrics.jsonl").display(),
        config.out.join("checkpoint").display(),
        config.out.display()
    );
    Ok(Outcome::Clean)
}

fn step_line(m: &StepMetrics, total: usize) -> String {
    let opt = |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    let mut line = format!(
        "[{:>3}/{total}] {:<3} loss {} grad {}",
        m.step + 1,
        m.stage,
        opt(m.loss.map(f64::from), 4),
        opt(m.grad_norm.map(f64::from), 3)
    );
    if m.stage != "sft" {
        line.push_str(&format!(
            " | reward {} ± {} (max {}), format errors {}%, exec {}, kept {}/{} groups, kl {}",
            opt(m.reward_mean, 3),
            opt(m.reward_std, 3),
            opt(m.reward_max, 3),
            opt(m.format_error_rate.map(|r| 100.0 * r), 0),
            opt(m.execution_reward_mean, 3),
            m.kept_groups.unwrap_or(0),
            m.sampled_groups.unwrap_or(0),
            opt(m.kl_to_initial, 4)
        ));
    }
    line.push_str(&format!(
        " | {:.1} tok/s, gen {:.1}s reward {:.1}s update {:.1}s",
        m.tokens_per_second, m.seconds_generation, m.seconds_reward, m.seconds_update
    ));
    line
}
