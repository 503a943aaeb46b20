//! Sandbox latencies, all in one run on one machine: container create+start and removal, the
//! round trip of `true` through the harness (Docker and local backends) against `docker exec`
//! on the command line and a bare fork/exec, sequential execs per second, and restoring the
//! state at step 1 against step 30 of a 30-step trajectory and an editor round, with the
//! repository on the host (local) and inside the container (Docker). Prints medians.
//! `BENCH_REPO=<mirror> BENCH_COMMIT=<sha>` runs the restore and editor rows on a real repository.
//!
//! Run: `cargo run --release --example bench_sandbox` (needs a Docker daemon and the sandbox
//! image for the Docker rows; scripts/bench-sandbox.sh brings both up first).

use std::time::{Duration, Instant};

use srl::action::Action;
use srl::sandbox::docker::{self, DockerOptions, DockerSandbox};
use srl::sandbox::local::LocalSandbox;
use srl::sandbox::tools::{run_action, ToolBox};
use srl::sandbox::{ExecLimits, Sandbox, Skip, WorkTree};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A repository of 400 small Python files in 20 packages.
fn source_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for package in 0..20 {
        let pkg = dir.path().join(format!("pkg{package}"));
        std::fs::create_dir_all(&pkg).expect("create package");
        for module in 0..20 {
            let body: String = (0..40).map(|i| format!("def f{i}(x):\n    return x + {i}\n\n")).collect();
            std::fs::write(pkg.join(format!("m{module}.py")), body).expect("write module");
        }
    }
    dir
}

async fn time_exec<S: Sandbox>(sandbox: &mut S, n: usize) -> Vec<Duration> {
    let limits = ExecLimits::new(Duration::from_secs(10), 10_000);
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let obs = sandbox.exec("true", &limits).await.expect("exec true");
        assert_eq!(obs.exit_code, Some(0));
        samples.push(started.elapsed());
    }
    samples
}

fn time_command(program: &str, args: &[&str], n: usize) -> Vec<Duration> {
    (0..n)
        .map(|_| {
            let started = Instant::now();
            let status = std::process::Command::new(program).args(args).status().expect("run command");
            assert!(status.success(), "{program} {args:?} failed");
            started.elapsed()
        })
        .collect()
}

async fn docker_rows(source: &std::path::Path) {
    if !docker::daemon_available().await {
        println!("docker: no daemon answers; Docker rows skipped (run scripts/docker-up.sh)");
        return;
    }
    let options = DockerOptions::new(docker::DEFAULT_IMAGE, "bench");
    let (mut starts, mut removals) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let tree = WorkTree::from_files(source, "/testbed").expect("work tree");
        let started = Instant::now();
        let sandbox = DockerSandbox::start(tree.into(), &options).await.expect("start container");
        starts.push(started.elapsed());
        let started = Instant::now();
        sandbox.close().await.expect("close");
        removals.push(started.elapsed());
    }
    println!("docker container create+start            {:>10}", ms(median(starts)));
    println!("docker container removal                 {:>10}", ms(median(removals)));

    let tree = WorkTree::from_files(source, "/testbed").expect("work tree");
    let mut sandbox = DockerSandbox::start(tree.into(), &options).await.expect("start container");
    let harness = median(time_exec(&mut sandbox, 40).await);
    let id = sandbox.container_id().to_string();
    let cli = median(time_command("docker", &["exec", "-u", "1000:1000", &id, "true"], 40));
    let started = Instant::now();
    let n = time_exec(&mut sandbox, 60).await.len();
    let per_second = n as f64 / started.elapsed().as_secs_f64();
    sandbox.close().await.expect("close");
    println!("exec `true` through the harness (docker)  {:>10}", ms(harness));
    println!("`docker exec CONTAINER true` (CLI)        {:>10}", ms(cli));
    println!("harness / CLI                             {:>10.2}x", harness.as_secs_f64() / cli.as_secs_f64());
    println!("sequential harness execs per second       {per_second:>10.1}");
}

async fn local_rows(source: &std::path::Path) {
    let tree = WorkTree::from_files(source, "/testbed").expect("work tree");
    let mut sandbox = LocalSandbox::start(tree).expect("local sandbox");
    println!("exec `true` through the harness (local)   {:>10}", ms(median(time_exec(&mut sandbox, 100).await)));
    println!("bare fork/exec of `true`                  {:>10}", ms(median(time_command("true", &[], 100))));
}

/// A repository path of the bench's real repository, when `BENCH_REPO` (a mirror or clone) and
/// `BENCH_COMMIT` name one; else the synthetic one.
fn bench_tree(source: &std::path::Path) -> WorkTree {
    match (std::env::var("BENCH_REPO"), std::env::var("BENCH_COMMIT")) {
        (Ok(repo), Ok(commit)) => {
            WorkTree::from_repository(&repo, Some(&commit), "/testbed").expect("bench repository")
        }
        _ => WorkTree::from_files(source, "/testbed").expect("work tree"),
    }
}

/// Restoring the state before step 1 and before step 30 of a 30-step trajectory, and the
/// editor's `view` + `str_replace` round, in one sandbox of either backend.
async fn restore_rows<S: Sandbox>(label: &str, mut sandbox: S) {
    let files: Vec<String> = sandbox
        .walk("", Skip::GitDir)
        .await
        .expect("walk")
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.ends_with(".py"))
        .take(30)
        .collect();
    let mut snapshots = Vec::new();
    for step in 1..=30 {
        // The state before expert step `step`; each step edits one module and adds a file.
        snapshots.push(sandbox.snapshot().await.expect("snapshot"));
        let module = &files[step % files.len()];
        let mut text = sandbox.read(module).await.expect("read").expect("read module");
        text.extend_from_slice(format!("\nSTEP_{step} = {step}\n").as_bytes());
        sandbox.write(module, &text).await.expect("write").expect("edit module");
        sandbox.write(&format!("notes_{step}.txt"), b"x").await.expect("write").expect("new file");
    }
    let mut step1 = Vec::new();
    let mut step30 = Vec::new();
    for round in 0..22 {
        let (k, samples) = if round % 2 == 0 { (1, &mut step1) } else { (30, &mut step30) };
        // A rollout changes something, then the state at step k comes back.
        sandbox.write(&files[0], b"rollout edit").await.expect("write").expect("rollout edit");
        let started = Instant::now();
        sandbox.restore(&snapshots[k - 1]).await.expect("restore");
        samples.push(started.elapsed());
    }
    let (step1, step30) = (median(step1), median(step30));
    let limits = ExecLimits::new(Duration::from_secs(10), 100_000);
    let mut tools = ToolBox::default();
    let path = format!("/testbed/{}", files[1]);
    let mut edits = Vec::new();
    for i in 0..11 {
        let started = Instant::now();
        let view = Action::new("str_replace_editor").arg("command", "view").arg("path", &path);
        run_action(&mut sandbox, &mut tools, &view, &limits).await.expect("view");
        let edit = Action::new("str_replace_editor")
            .arg("command", "insert")
            .arg("path", &path)
            .arg("insert_line", "0")
            .arg("new_str", format!("# edit {i}"));
        let out = run_action(&mut sandbox, &mut tools, &edit, &limits).await.expect("insert");
        assert_eq!(out.exit_code, Some(0), "{}", out.observation);
        edits.push(started.elapsed());
    }
    println!("{label}: restore state at step 1        {:>10}", ms(step1));
    println!("{label}: restore state at step 30       {:>10}", ms(step30));
    println!("{label}: step 30 / step 1               {:>10.2}x", step30.as_secs_f64() / step1.as_secs_f64());
    println!("{label}: editor view + insert           {:>10}", ms(median(edits)));
    sandbox.close().await.expect("close");
}

#[tokio::main]
async fn main() {
    let source = source_repo();
    println!("repository: 400 files in 20 packages; medians");
    docker_rows(source.path()).await;
    local_rows(source.path()).await;
    let tree = bench_tree(source.path());
    let n = tree.walk("", Skip::GitDir).len();
    println!(
        "state restores and editor round on {n} files ({})",
        std::env::var("BENCH_REPO").unwrap_or("synthetic".into())
    );
    restore_rows("host tree (local)   ", LocalSandbox::start(tree).expect("local sandbox")).await;
    if docker::daemon_available().await {
        let options = DockerOptions::new(docker::DEFAULT_IMAGE, "bench");
        let sandbox = DockerSandbox::start(bench_tree(source.path()).into(), &options).await.expect("start container");
        restore_rows("in container (docker)", sandbox).await;
    }
}
