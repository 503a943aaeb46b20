//! The `srl` command line. Each subcommand lives in its own file, turns its clap arguments
//! into a library call and prints one summary; nothing else in the crate prints to stdout.
//!
//! Exit codes: 0 success, 1 failure or a batch that met bad records (after finishing the
//! rest), 2 bad usage. A closed stdout (`srl … | head`) counts as success.

mod agent;
mod demo;
mod env;
mod eval;
mod exec;
mod grade;
mod images;
mod import;
mod mine;
mod progress;
mod replay;
mod report;
mod reward;
mod sandbox;
mod similarity;
mod steps;
mod tasks;
mod train;
mod view;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "srl", version, about = "Supervised Reinforcement Learning for software-engineering agents")]
struct Cli {
    /// Log more (-v: debug, -vv: trace); logs go to stderr. SRL_LOG=debug works too.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// A Docker engine to run sandboxes on (repeatable: sandboxes spread over them):
    /// unix:///PATH, or tcp://HOST:PORT with TLS from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH
    /// (plain TCP only to this machine). Default: DOCKER_HOST, else the local socket
    #[arg(long = "docker-host", global = true, value_name = "HOST")]
    docker_hosts: Vec<String>,
    /// A TOML file of engines, each `[[engine]]` with `host`, optional `cert_path` (a directory
    /// with ca.pem, cert.pem, key.pem) and `slots` (sandboxes at once)
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "docker_hosts")]
    engines: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the pipeline small on the embedded sample trajectories (import, steps, rewards)
    Demo(demo::Args),
    /// Import agent trajectories (SWE-agent, mini-swe-agent, SWE-smith, OpenHands) into srl.trajectory/1 JSONL
    Import(import::Args),
    /// Build one SRL training instance per expert step from srl.trajectory/1 JSONL
    Steps(steps::Args),
    /// Score completions against expert actions (format check + difflib similarity)
    Reward(reward::Args),
    /// Raw difflib SequenceMatcher ratio of string pairs, for parity checks against Python
    Similarity(similarity::Args),
    /// Run one command in a fresh sandbox over a repository and print the observation as JSON
    Exec(exec::Args),
    /// Sandbox maintenance: build the base image, remove containers of dead runs
    Sandbox(sandbox::Args),
    /// Instance environments as Docker images: build them without a registry
    Env(env::Args),
    /// The shipped tasks: derive their instances and expert trajectories, export them
    Tasks(tasks::Args),
    /// Re-execute recorded trajectories in fresh sandboxes and compare the observations
    Replay(replay::Args),
    /// Evaluate predictions on task instances with SWE-bench's semantics
    Eval(eval::Args),
    /// Re-grade a saved test log against an instance, without running anything
    Grade(grade::Args),
    /// Turn a commit that changes code and tests into a task instance (tests derived by running them)
    Mine(mine::Args),
    /// Train a candle student on step instances: SFT, SRL (GRPO, step-wise rewards) or SFT then SRL
    Train(train::Args),
    /// Plot a training run's curves (PNG) and summarise its evaluations (markdown)
    Report(report::Args),
    /// Run a model as an agent on task instances in sandboxes, write trajectories and predictions, grade them
    Agent(agent::Args),
    /// Serve a read-only web page of trajectories, evaluations and training runs on 127.0.0.1
    View(view::Args),
    /// Print a shell completion script: `srl completions bash > /etc/bash_completion.d/srl`
    Completions(CompletionsArgs),
}

#[derive(clap::Args)]
struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell
    shell: clap_complete::Shell,
}

fn completions(args: CompletionsArgs) -> Result<Outcome> {
    use clap::CommandFactory;
    let mut stdout = io::stdout().lock();
    clap_complete::generate(args.shell, &mut Cli::command(), "srl", &mut stdout);
    stdout.flush()?;
    Ok(Outcome::Clean)
}

/// `--context-rounds`: a number of previous rounds, or `all`.
#[derive(Clone, Copy)]
struct Rounds(Option<usize>);

fn parse_rounds(text: &str) -> Result<Rounds, String> {
    if text == "all" {
        return Ok(Rounds(None));
    }
    text.parse().map(|n| Rounds(Some(n))).map_err(|_| format!("expected a number or `all`, got {text:?}"))
}

/// Outcome of a command that finished: `Problems` means it completed but met bad input.
pub enum Outcome {
    Clean,
    Problems,
}

pub fn main() -> ExitCode {
    crate::policy::device::settle_cpu_threads();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    init_logging(cli.verbose);
    if let Err(e) = configure_engines(&cli.docker_hosts, cli.engines.as_deref()) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Import(args) => import::run(args),
        Command::Steps(args) => steps::run(args),
        Command::Reward(args) => reward::run(args),
        Command::Similarity(args) => similarity::run(args),
        Command::Exec(args) => exec::run(args),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Env(args) => env::run(args),
        Command::Tasks(args) => tasks::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Grade(args) => grade::run(args),
        Command::Mine(args) => mine::run(args),
        Command::Train(args) => train::run(args),
        Command::Report(args) => report::run(args),
        Command::Agent(args) => agent::run(args),
        Command::Completions(args) => completions(args),
        Command::View(args) => view::run(args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::FAILURE,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Records the engines `--docker-host`/`--engines` name; without either, `DOCKER_HOST` decides
/// when an engine is first needed.
fn configure_engines(hosts: &[String], file: Option<&Path>) -> Result<()> {
    use crate::sandbox::engine;
    let engines = match file {
        Some(file) => engine::read_engines_file(file)?,
        None if hosts.is_empty() => return Ok(()),
        None => engine::engines_from_hosts(hosts)?,
    };
    engine::configure(engines)
}

fn init_logging(verbose: u8) {
    let level = match (verbose, std::env::var("SRL_LOG").ok().as_deref()) {
        (0, Some("debug")) | (1, _) => tracing::Level::DEBUG,
        (0, Some("trace")) | (2.., _) => tracing::Level::TRACE,
        (0, Some("error")) => tracing::Level::ERROR,
        _ => tracing::Level::WARN,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe))
}

/// Where a command writes records: a file (written atomically) or stdout for `-`.
pub enum Output {
    File(crate::atomic::AtomicFile),
    Stdout(io::BufWriter<io::Stdout>),
}

impl Output {
    pub fn create(path: &Path) -> Result<Output> {
        if path.as_os_str() == "-" {
            return Ok(Output::Stdout(io::BufWriter::new(io::stdout())));
        }
        Ok(Output::File(crate::atomic::AtomicFile::create(path)?))
    }

    pub fn finish(self) -> Result<()> {
        match self {
            Output::File(file) => file.commit(),
            Output::Stdout(mut out) => Ok(out.flush()?),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::File(f) => f.write(buf),
            Output::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::File(f) => f.flush(),
            Output::Stdout(s) => s.flush(),
        }
    }
}

/// Prints the one summary line of a command to stderr when records go to stdout, else stdout.
pub fn summary(line: &str, records_on_stdout: bool) {
    if records_on_stdout {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}
