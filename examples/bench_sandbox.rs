//! Sandbox latencies, all in one run on one machine: container create+start and removal, the
//! round trip of `true` through the harness (Docker and local backends) against `docker exec`
//! on the command line and a bare fork/exec, sequential execs per second, and restoring the
//! state at step 1 against step 30 of a 30-step trajectory. Prints medians.
//!
//! Run: `cargo run --release --example bench_sandbox` (needs a Docker daemon and the sandbox
//! image for the Docker rows; scripts/bench-sandbox.sh brings both up first).

use std::time::{Duration, Instant};

use srl::sandbox::docker::{self, DockerOptions, DockerSandbox};
use srl::sandbox::local::LocalSandbox;
use srl::sandbox::{ExecLimits, Sandbox, WorkTree};

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

fn restore_rows(source: &std::path::Path) {
    let mut tree = WorkTree::from_files(source, "/testbed").expect("work tree");
    let mut snapshots = Vec::new();
    for step in 1..=30 {
        // The state before expert step `step`; each step edits one module and adds a file.
        snapshots.push(tree.snapshot().expect("snapshot"));
        let module = tree.host_dir().join(format!("pkg{}/m{}.py", step % 20, step % 7));
        let mut text = std::fs::read_to_string(&module).expect("read module");
        text.push_str(&format!("\nSTEP_{step} = {step}\n"));
        std::fs::write(&module, text).expect("edit module");
        std::fs::write(tree.host_dir().join(format!("notes_{step}.txt")), "x").expect("new file");
    }
    let mut time_restore = |k: usize| -> Duration {
        let samples = (0..15)
            .map(|_| {
                // A rollout changes something, then the state at step k comes back.
                std::fs::write(tree.host_dir().join("pkg0/m0.py"), "rollout edit").expect("rollout edit");
                let started = Instant::now();
                tree.restore(&snapshots[k - 1]).expect("restore");
                started.elapsed()
            })
            .collect();
        median(samples)
    };
    let (step1, step30) = (time_restore(1), time_restore(30));
    println!("restore state at step 1                   {:>10}", ms(step1));
    println!("restore state at step 30                  {:>10}", ms(step30));
    println!("step 30 / step 1                          {:>10.2}x", step30.as_secs_f64() / step1.as_secs_f64());
}

#[tokio::main]
async fn main() {
    let source = source_repo();
    println!("repository: 400 files in 20 packages; medians");
    docker_rows(source.path()).await;
    local_rows(source.path()).await;
    restore_rows(source.path());
}
