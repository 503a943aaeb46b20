//! `srl reward`: the SRL step reward of completions against expert actions.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::{Outcome, Output};
use crate::reward::{expert_action_text, step_reward, RewardConfig};

#[derive(clap::Args)]
pub struct Args {
    /// The expert action (an XML function call or a fenced bash block)
    #[arg(long, requires = "completion", conflicts_with = "pairs")]
    expert: Option<String>,
    /// The student's full completion (`<think>…</think>` then one action)
    #[arg(long, requires = "expert")]
    completion: Option<String>,
    /// JSONL file of {"expert": …, "completion": …} lines; one output line per input line
    #[arg(long, required_unless_present = "expert")]
    pairs: Option<PathBuf>,
    /// Use CPython's autojunk heuristic (off by default: it makes long actions score near 0)
    #[arg(long)]
    autojunk: bool,
}

#[derive(Deserialize)]
struct Pair {
    expert: String,
    completion: String,
}

pub fn run(args: Args) -> Result<Outcome> {
    let config = RewardConfig { autojunk: args.autojunk };
    let mut out = Output::create(std::path::Path::new("-"))?;
    if let (Some(expert), Some(completion)) = (&args.expert, &args.completion) {
        let expert = expert_action_text(expert).map_err(anyhow::Error::msg).context("--expert")?;
        crate::jsonl::write_record(&mut out, &step_reward(&expert, completion, &config))?;
        out.finish()?;
        return Ok(Outcome::Clean);
    }
    let path = args.pairs.expect("clap requires --pairs without --expert");
    let input = crate::jsonl::open_input(&path)?;
    let mut problems = 0usize;
    crate::jsonl::for_each_record::<Pair, _, _>(input, |line, record| {
        let result = record.and_then(|pair| {
            let expert = expert_action_text(&pair.expert)?;
            Ok(step_reward(&expert, &pair.completion, &config))
        });
        match result {
            Ok(reward) => write_line(&mut out, &reward),
            Err(reason) => {
                problems += 1;
                eprintln!("error: {}: line {line}: {reason}", path.display());
                write_line(&mut out, &serde_json::json!({ "line": line, "error": reason }))
            }
        }
    })
    .with_context(|| format!("failed to read {}", path.display()))?;
    out.finish()?;
    Ok(if problems == 0 { Outcome::Clean } else { Outcome::Problems })
}

/// Writes one JSON line; an I/O error (a closed pipe) stops the walk over the input.
pub fn write_line<T: serde::Serialize>(out: &mut Output, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}
