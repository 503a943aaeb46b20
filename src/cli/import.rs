//! `srl import`: agent trajectory files → `srl.trajectory/1` JSONL.

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::{Outcome, Output};
use crate::trajectory::read::{import_paths, ImportOptions};
use crate::trajectory::{detect, Format};

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
    let summary = import_paths(&args.paths, &options, &mut |trajectory| {
        progress.inc(1);
        crate::jsonl::write_record(&mut out, &trajectory)
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
