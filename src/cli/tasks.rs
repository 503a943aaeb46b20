//! `srl tasks`: derive the shipped tasks' instances and expert trajectories by running them,
//! and export them as SWE-bench instances.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::Outcome;
use crate::sandbox::{self, docker, Backend, Sandbox, WorkTree};
use crate::task::build::{derive_tests, grade_work_tree, record_expert};
use crate::task::instance::Instance;
use crate::task::repos::MOUNT_PATH;
use crate::task::taskdir::{load_task, task_dirs, TaskDir};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Run each task: derive FAIL_TO_PASS / PASS_TO_PASS from its tests before and after the gold
    /// patch, record its expert trajectory, check the expert resolves it; writes instance.json and
    /// trajectory.jsonl into the task's directory
    Build(BuildArgs),
    /// Write the built tasks as SWE-bench instances (JSONL)
    Export(ExportArgs),
}

#[derive(clap::Args)]
struct BuildArgs {
    /// Directory of task directories
    #[arg(long, default_value = "tasks")]
    tasks: PathBuf,
    /// Only these tasks (directory names)
    #[arg(long)]
    only: Vec<String>,
    #[arg(long, value_enum, default_value = "auto")]
    sandbox: Backend,
    #[arg(long, default_value = docker::DEFAULT_IMAGE)]
    image: String,
    /// Seconds allowed for each command
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

#[derive(clap::Args)]
struct ExportArgs {
    #[arg(long, default_value = "tasks")]
    tasks: PathBuf,
    /// Output JSONL (`-` for stdout)
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        Command::Build(build) => {
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(build_all(build))
        }
        Command::Export(export) => export_all(export),
    }
}

async fn build_all(args: BuildArgs) -> Result<Outcome> {
    let run_id = sandbox::new_run_id();
    let cleanup = super::sandbox::spawn_signal_cleanup(run_id.clone());
    let mut failed = 0;
    let dirs = task_dirs(&args.tasks)?;
    let selected: Vec<&PathBuf> = dirs
        .iter()
        .filter(|d| args.only.is_empty() || args.only.iter().any(|o| d.file_name().is_some_and(|n| n == o.as_str())))
        .collect();
    for dir in &selected {
        match build_one(dir, &args, &run_id).await {
            Ok(line) => println!("{line}"),
            Err(e) => {
                failed += 1;
                eprintln!("error: {}: {e:#}", dir.display());
            }
        }
    }
    cleanup.abort();
    println!("built {} of {} tasks", selected.len() - failed, selected.len());
    Ok(if failed == 0 { Outcome::Clean } else { Outcome::Problems })
}

async fn build_one(dir: &Path, args: &BuildArgs, run_id: &str) -> Result<String> {
    let task = load_task(dir)?;
    let timeout = Duration::from_secs(args.timeout);
    let base = WorkTree::from_files(&task.repo_dir(), MOUNT_PATH)?;
    let base_commit = base.base_commit().to_string();
    let mut sb = sandbox::open(args.sandbox, base.into(), run_id, &args.image).await?;
    let derived = derive_tests(&mut sb, &task.test_patch, &task.gold_patch, &task.meta.test_command, timeout).await;
    sb.close().await?;
    let derived = derived?;
    let instance = instance_of(&task, base_commit, derived.fail_to_pass, derived.pass_to_pass);

    let mut sb =
        sandbox::open(args.sandbox, WorkTree::from_files(&task.repo_dir(), MOUNT_PATH)?.into(), run_id, &args.image)
            .await?;
    let recorded = record_expert(&mut sb, &instance.instance_id, &task.problem_statement, &task.expert, timeout).await;
    let check = match &recorded {
        Ok(_) => expert_resolves(&mut sb, &instance, timeout).await,
        Err(_) => Ok(()),
    };
    sb.close().await?;
    let (trajectory, _) = recorded?;
    check?;
    crate::atomic::write_file(&task.instance_path(), serde_json::to_string_pretty(&instance)?.as_bytes())?;
    crate::atomic::write_file(&task.trajectory_path(), format!("{trajectory}\n").as_bytes())?;
    Ok(format!(
        "{}: {} FAIL_TO_PASS, {} PASS_TO_PASS, expert resolves it in {} steps",
        task.name(),
        instance.fail_to_pass.len(),
        instance.pass_to_pass.len(),
        task.expert.len()
    ))
}

/// The expert's final work tree, with the test patch on top, must pass every FAIL_TO_PASS and
/// PASS_TO_PASS test.
async fn expert_resolves<S: Sandbox>(sb: &mut S, instance: &Instance, timeout: Duration) -> Result<()> {
    let report = grade_work_tree(sb, instance, timeout).await?;
    if !report.resolved {
        let failing: Vec<&String> = report
            .tests_status
            .iter()
            .flat_map(|t| t.fail_to_pass.failure.iter().chain(&t.pass_to_pass.failure))
            .collect();
        bail!("the expert trajectory does not resolve the task; failing: {failing:?}");
    }
    Ok(())
}

fn instance_of(task: &TaskDir, base_commit: String, fail_to_pass: Vec<String>, pass_to_pass: Vec<String>) -> Instance {
    Instance {
        repo: task.meta.repo.clone(),
        instance_id: task.meta.instance_id.clone(),
        base_commit,
        patch: task.gold_patch.clone(),
        test_patch: task.test_patch.clone(),
        problem_statement: task.problem_statement.clone(),
        hints_text: String::new(),
        created_at: task.meta.created_at.clone(),
        version: task.meta.version.clone(),
        environment_setup_commit: None,
        fail_to_pass,
        pass_to_pass,
        fail_to_fail: Vec::new(),
        pass_to_fail: Vec::new(),
        test_command: Some(task.meta.test_command.clone()),
        image_name: None,
    }
}

fn export_all(args: ExportArgs) -> Result<Outcome> {
    let mut out = super::Output::create(&args.output)?;
    let mut count = 0;
    for dir in task_dirs(&args.tasks)? {
        let path = dir.join("instance.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{} is not built yet (run `srl tasks build`)", dir.display()))?;
        let instance: Instance =
            serde_json::from_str(&text).with_context(|| format!("{} is not an instance", path.display()))?;
        crate::jsonl::write_record(&mut out, &instance)?;
        count += 1;
    }
    out.finish()?;
    super::summary(&format!("exported {count} task instances"), args.output.as_os_str() == "-");
    Ok(Outcome::Clean)
}
