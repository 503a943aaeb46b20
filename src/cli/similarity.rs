//! `srl similarity`: CPython-exact `SequenceMatcher(None, a, b).ratio()` for string pairs.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::reward::write_line;
use super::{Outcome, Output};
use crate::reward::difflib;

#[derive(clap::Args)]
pub struct Args {
    /// JSONL file of {"a": …, "b": …} lines (`-` for stdin); prints {"ratio": …} per line, in order
    #[arg(long)]
    pairs: PathBuf,
    /// Use CPython's autojunk heuristic (Python's default; off here by default)
    #[arg(long)]
    autojunk: bool,
}

#[derive(Deserialize)]
struct Pair {
    a: String,
    b: String,
}

pub fn run(args: Args) -> Result<Outcome> {
    let input = crate::jsonl::open_input(&args.pairs)?;
    let mut out = Output::create(std::path::Path::new("-"))?;
    let mut problems = 0usize;
    crate::jsonl::for_each_record::<Pair, _, _>(input, |line, record| match record {
        Ok(pair) => {
            write_line(&mut out, &serde_json::json!({ "ratio": difflib::ratio(&pair.a, &pair.b, args.autojunk) }))
        }
        Err(reason) => {
            problems += 1;
            eprintln!("error: {}: line {line}: {reason}", args.pairs.display());
            write_line(&mut out, &serde_json::json!({ "line": line, "error": reason }))
        }
    })
    .with_context(|| format!("failed to read {}", args.pairs.display()))?;
    out.finish()?;
    Ok(if problems == 0 { Outcome::Clean } else { Outcome::Problems })
}
