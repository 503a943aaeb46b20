//! `srl import`: agent trajectory files → `srl.trajectory/1` JSONL.

use std::path::PathBuf;

use std::io::Write;

use anyhow::{bail, Context, Result};

use super::{Outcome, Output};
use crate::trajectory::line::write_trajectory;
use crate::trajectory::read::{import_paths_prepared, ImportOptions};
use crate::trajectory::{detect, Format, Trajectory};

#[derive(clap::Args)]
pub struct Args {
    /// Files or directories (searched recursively for .traj, .json, .jsonl, .yaml, .parquet,
    /// .jsonl.gz, .jsonl.zst)
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Source format; `auto` sniffs each record
    #[arg(long, default_value = "auto", value_parser = format_names())]
    format: String,
    /// Output JSONL file (`-` for stdout); written atomically
    #[arg(short, long)]
    output: PathBuf,
    /// Stop at the first bad file or record instead of reporting it and going on
    #[arg(long)]
    strict: bool,
}

fn format_names() -> Vec<&'static str> {
    std::iter::once("auto").chain(detect::ALL.iter().map(|f| f.name())).collect()
}

pub fn run(args: Args) -> Result<Outcome> {
    let format = if args.format == "auto" { None } else { Format::from_name(&args.format) };
    let options = ImportOptions { format, strict: args.strict };
    let mut out = Output::create(&args.output)?;
    let progress = super::progress::Progress::new(None, "trajectories");
    // Lines are written on the thread pool; only their output, in order, happens here.
    let to_line = |trajectory: Trajectory| {
        let mut line = Vec::new();
        write_trajectory(&mut line, &trajectory);
        line.push(b'\n');
        line
    };
    let summary = import_paths_prepared(&args.paths, &options, &to_line, &mut |line| {
        progress.inc(1);
        out.write_all(&line).context("failed to write a record")
    })?;
    progress.finish();
    out.finish()?;
    for problem in &summary.problems {
        eprintln!("error: {problem}");
    }
    super::summary(&summary.line(), args.output.as_os_str() == "-");
    if summary.trajectories == 0 && summary.problems.is_empty() {
        bail!("no trajectories found in the given paths");
    }
    Ok(if summary.problems.is_empty() { Outcome::Clean } else { Outcome::Problems })
}
