//! `srl grade`: re-grade a saved test log against an instance, without running anything.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::Outcome;
use crate::task::grade::{grade_log, Outcome as Graded};
use crate::task::instance::load_instances;
use crate::task::log_parsers::Parser;
use crate::task::spec::Specs;

#[derive(clap::Args)]
pub struct Args {
    /// Instance file (SWE-bench JSONL, JSON list, JSON object keyed by id, or one instance)
    #[arg(long)]
    instance_file: PathBuf,
    /// The test log: raw runner output or a harness log (markers, bash -x traces, OpenHands eval logs)
    #[arg(long)]
    log: PathBuf,
    /// Which instance of the file (required when it holds several)
    #[arg(long)]
    instance_id: Option<String>,
    /// Test framework of the log; `swebench-*` are the SWE-bench harness's own parsers, quirks
    /// included, and `spec` picks the one the harness uses for the instance's repository
    #[arg(long, default_value = "auto", value_parser = [
        "auto", "spec", "pytest", "django", "sympy", "cargo", "go", "swebench-pytest", "swebench-pytest_options",
        "swebench-pytest_v2", "swebench-django", "swebench-sympy", "swebench-seaborn", "swebench-matplotlib",
    ])]
    parser: String,
    /// SWE-bench spec entries that add to or replace the built-in table (TOML, as sandboxes/swe-specs.toml)
    #[arg(long)]
    specs: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<Outcome> {
    let instances = load_instances(&args.instance_file)?;
    let instance = match (&args.instance_id, instances.len()) {
        (Some(id), _) => instances
            .iter()
            .find(|i| &i.instance_id == id)
            .with_context(|| format!("no instance {id} in {}", args.instance_file.display()))?,
        (None, 1) => &instances[0],
        (None, n) => bail!("{} holds {n} instances: name one with --instance-id", args.instance_file.display()),
    };
    let bytes = std::fs::read(&args.log).with_context(|| format!("cannot read {}", args.log.display()))?;
    let log = String::from_utf8_lossy(&bytes);
    let parser = if args.parser == "spec" {
        let specs = Specs::load(args.specs.as_deref())?;
        let spec = specs.find(&instance.repo, &instance.version).map_err(anyhow::Error::msg)?;
        Some(Parser::Swebench(spec.log_parser))
    } else {
        Parser::from_name(&args.parser)
    };
    let report = match grade_log(instance, &log, parser) {
        Graded::Graded(report) | Graded::PatchFailed(report) => report,
        Graded::NoTestResults(why) => {
            bail!(
                "{}: no test results ({why:?}): an infrastructure failure, not a verdict on the patch",
                args.log.display()
            )
        }
    };
    let entry = serde_json::json!({ &instance.instance_id: report });
    println!("{}", serde_json::to_string_pretty(&entry)?);
    Ok(Outcome::Clean)
}
