//! `srl exec`: one command in a fresh sandbox over a repository, the observation as JSON. The
//! quickest way for a person or a script to poke at isolation.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use super::Outcome;
use crate::sandbox::{self, docker, Backend, ExecLimits, Sandbox, WorkTree};

#[derive(clap::Args)]
pub struct Args {
    /// A git repository (path or URL) or a plain directory of files
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Commit to check out (default: HEAD); only for git repositories
    #[arg(long)]
    commit: Option<String>,
    /// Where the sandbox sees the repository
    #[arg(long, default_value = "/testbed")]
    mount: String,
    /// docker: locked-down container; local: processes on this machine (namespaces and a
    /// throwaway uid when root, otherwise only rlimits: NOT isolated from your files); auto:
    /// docker when a daemon answers
    #[arg(long, value_enum, default_value = "auto")]
    sandbox: Backend,
    /// Image for the docker backend
    #[arg(long, default_value = docker::DEFAULT_IMAGE)]
    image: String,
    /// Seconds before the command and everything it started are killed
    #[arg(long, default_value_t = 60.0)]
    timeout: f64,
    /// Bytes of output kept (head and tail)
    #[arg(long, default_value_t = 10_000)]
    output_cap: usize,
    /// The command: one argument is a shell command run with `bash -c` in the repository;
    /// several are a program and its arguments, each kept whole (`-- bash -c 'sleep 1'`)
    #[arg(required = true, last = true)]
    command: Vec<String>,
}

/// The shell command for `srl exec`'s arguments: one argument as written, several quoted
/// one by one so their boundaries survive `bash -c`.
fn shell_command(args: &[String]) -> String {
    match args {
        [one] => one.clone(),
        many => many.iter().map(|arg| crate::task::eval_script::quote(arg)).collect::<Vec<_>>().join(" "),
    }
}

pub fn run(args: Args) -> Result<Outcome> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(exec_once(args))
}

async fn exec_once(args: Args) -> Result<Outcome> {
    let work_tree = if args.repo.join(".git").exists() || args.repo.join("HEAD").exists() || args.commit.is_some() {
        WorkTree::from_repository(&args.repo.display().to_string(), args.commit.as_deref(), &args.mount)?
    } else {
        WorkTree::from_files(&args.repo, &args.mount)?
    };
    let run_id = sandbox::new_run_id();
    let cleanup = super::sandbox::spawn_signal_cleanup(run_id.clone());
    let mut sandbox = sandbox::open(args.sandbox, work_tree.into(), &run_id, &args.image).await?;
    let timeout =
        Duration::try_from_secs_f64(args.timeout).context("--timeout must be a positive number of seconds")?;
    let result = sandbox.exec(&shell_command(&args.command), &ExecLimits::new(timeout, args.output_cap)).await;
    let backend = sandbox.backend_name();
    sandbox.close().await?;
    cleanup.abort();
    let observation = result?;
    let mut value = serde_json::to_value(&observation)?;
    value["sandbox"] = backend.into();
    println!("{value}");
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::shell_command;

    #[test]
    fn several_arguments_keep_their_boundaries() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(shell_command(&args(&["cd /testbed && ls"])), "cd /testbed && ls");
        assert_eq!(shell_command(&args(&["bash", "-c", "sleep 1"])), "bash -c 'sleep 1'");
        assert_eq!(shell_command(&args(&["echo", "it's", ""])), r"echo 'it'\''s' ''");
    }
}
