//! `srl mine`: a real commit that changes code and tests becomes a task instance.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Outcome;
use crate::sandbox::{self, docker, Backend, Sandbox, WorkTree};
use crate::task::build::derive_tests;
use crate::task::instance::Instance;
use crate::task::mine::split_commit;
use crate::task::repos::MOUNT_PATH;

#[derive(clap::Args)]
pub struct Args {
    /// The git repository
    #[arg(long)]
    repo: PathBuf,
    /// The commit to turn into a task (its parent is the base)
    #[arg(long)]
    commit: String,
    /// Test command; default: pytest on the test files the commit touches
    #[arg(long)]
    test_command: Option<String>,
    /// Repository name for the instance (`owner/name`); default: the directory name
    #[arg(long)]
    repo_name: Option<String>,
    #[arg(long, value_enum, default_value = "auto")]
    sandbox: Backend,
    #[arg(long, default_value = docker::DEFAULT_IMAGE)]
    image: String,
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Output JSONL (`-` for stdout)
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
}

pub fn run(args: Args) -> Result<Outcome> {
    let split = split_commit(&args.repo, &args.commit)?;
    let repo_name = match &args.repo_name {
        Some(name) => name.clone(),
        None => {
            let dir = args.repo.canonicalize().with_context(|| format!("cannot resolve {}", args.repo.display()))?;
            format!("local/{}", dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
        }
    };
    let test_command = args.test_command.clone().unwrap_or_else(|| {
        let python_tests: Vec<&str> =
            split.test_files.iter().map(String::as_str).filter(|f| f.ends_with(".py")).collect();
        format!("python3 -m pytest -rA -p no:cacheprovider {}", python_tests.join(" "))
    });
    let work_tree = WorkTree::from_repository(&args.repo.display().to_string(), Some(&split.parent), MOUNT_PATH)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let derived = runtime.block_on(async {
        let run_id = sandbox::new_run_id();
        let mut sb = sandbox::open(args.sandbox, work_tree.into(), &run_id, &args.image).await?;
        let timeout = Duration::from_secs(args.timeout);
        let derived = derive_tests(&mut sb, &split.test_patch, &split.patch, &test_command, timeout).await;
        sb.close().await?;
        derived
    })?;
    let short = &args.commit[..args.commit.len().min(12)];
    let instance = Instance {
        instance_id: format!("{}-{short}", repo_name.replace('/', "__")),
        repo: repo_name,
        base_commit: split.parent,
        patch: split.patch,
        test_patch: split.test_patch,
        problem_statement: split.message,
        hints_text: String::new(),
        created_at: split.created_at,
        version: String::new(),
        environment_setup_commit: None,
        fail_to_pass: derived.fail_to_pass,
        pass_to_pass: derived.pass_to_pass,
        fail_to_fail: Vec::new(),
        pass_to_fail: Vec::new(),
        test_command: Some(test_command),
        image_name: None,
    };
    let mut out = super::Output::create(&args.output)?;
    crate::jsonl::write_record(&mut out, &instance)?;
    out.finish()?;
    super::summary(
        &format!(
            "mined {}: {} FAIL_TO_PASS, {} PASS_TO_PASS",
            instance.instance_id,
            instance.fail_to_pass.len(),
            instance.pass_to_pass.len()
        ),
        args.output.as_os_str() == "-",
    );
    Ok(Outcome::Clean)
}
