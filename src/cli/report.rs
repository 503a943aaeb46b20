//! `srl report RUN_DIR`: plots and a markdown summary of a training run.

use std::path::PathBuf;

use anyhow::Result;

use super::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// A run directory written by `srl train`
    run: PathBuf,
}

pub fn run(args: Args) -> Result<Outcome> {
    let markdown = crate::train::report::write_report(&args.run)?;
    let evaluations: Vec<&str> = markdown.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| when")).collect();
    for line in evaluations.iter().take_while(|l| !l.starts_with("| series")) {
        println!("{line}");
    }
    println!("report written to {} (PNG curves beside it)", args.run.join("report.md").display());
    Ok(Outcome::Clean)
}
