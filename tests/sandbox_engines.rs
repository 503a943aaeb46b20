//! Sandboxes on a second Docker engine reached over TCP with TLS (a `dockerd` this test starts
//! on a loopback port, with certificates it makes): the hostile-command suite passes there as on
//! the local engine, images are streamed between engines through the Engine API, bad endpoints
//! are clear errors, and `srl eval` spreads over both engines, gives the reports of a one-engine
//! run, and finishes every instance on the first engine when the second one is killed mid-run.
//!
//! Needs root, `dockerd` and the local engine with the base and task images (`.ci/run` builds
//! them); without them each test says why and passes, unless `SRL_REQUIRE_DOCKER=1`.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::Value;
use srl::sandbox::docker::{self, DockerOptions, DEFAULT_IMAGE};
use srl::sandbox::engine::{Engine, TlsFiles};
use srl::sandbox::{image, ExecLimits, Sandbox};
use support::second_engine::{second_engine_possible, SecondEngine};
use support::{hostile, tasks_dir, TestContext};

/// Whether the tests can run; panics instead of skipping when CI demands Docker.
async fn ready() -> bool {
    let required = std::env::var("SRL_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    let problem = if !docker::daemon_available().await {
        "skipping: no Docker daemon (run scripts/docker-up.sh)".to_string()
    } else if !docker::image_available(DEFAULT_IMAGE).await {
        format!("skipping: image {DEFAULT_IMAGE} is missing (build it with scripts/sandbox-image.sh)")
    } else if let Err(why) = second_engine_possible() {
        format!("skipping: no second engine can run here: {why}")
    } else {
        return true;
    };
    assert!(!required, "SRL_REQUIRE_DOCKER=1 but {problem}");
    eprintln!("{problem}");
    false
}

fn tls_engine(second: &SecondEngine) -> Result<Engine> {
    Engine::new(&second.tcp_host(), Some(TlsFiles::in_dir(second.cert_dir())?), None)
}

/// Streams `name` from the local engine into `to` through the Engine API; returns how long it took.
async fn stream_image(to: &Engine, name: &str) -> Result<Duration> {
    let from = image::connect().await?;
    let started = Instant::now();
    image::copy_image(&from, &to.connect().await?, name).await?;
    Ok(started.elapsed())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median round trip of `true` in a fresh sandbox with `options` (the session's start excluded).
async fn true_round_trip(options: &DockerOptions) -> Result<Duration> {
    let mut sandbox = hostile::sandbox(options, "test-engines-latency").await?;
    let limits = ExecLimits::new(Duration::from_secs(10), 1000);
    sandbox.exec("true", &limits).await?;
    let mut samples = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        let observation = sandbox.exec("true", &limits).await?;
        samples.push(started.elapsed());
        assert_eq!(observation.exit_code, Some(0));
    }
    sandbox.close().await?;
    Ok(median(samples))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hostile_suite_passes_on_a_tls_engine() -> Result<()> {
    if !ready().await {
        return Ok(());
    }
    let second = SecondEngine::start()?;
    let engine = tls_engine(&second)?;
    let streamed = stream_image(&engine, DEFAULT_IMAGE).await?;
    let mut options = DockerOptions::new(DEFAULT_IMAGE, "");
    options.engine = Some(engine.clone());
    hostile::all(&options).await?;
    let tls = true_round_trip(&options).await?;
    let local = true_round_trip(&DockerOptions::new(DEFAULT_IMAGE, "")).await?;
    let ping = {
        let docker = engine.connect().await?;
        let mut samples = Vec::new();
        for _ in 0..20 {
            let started = Instant::now();
            docker.ping().await?;
            samples.push(started.elapsed());
        }
        median(samples)
    };
    eprintln!(
        "engines: base image streamed to the TLS engine in {streamed:.1?}; exec `true` median {local:?} local socket, \
         {tls:?} TLS engine; TLS ping {ping:?} (new connection each)"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_endpoints_are_clear_errors() -> Result<()> {
    if !ready().await {
        return Ok(());
    }
    let second = SecondEngine::start()?;
    let refused = Engine::new("tcp://127.0.0.1:1", None, None)?.connect().await.err().context("port 1 answered")?;
    assert!(format!("{refused:#}").contains("cannot reach the Docker engine at tcp://127.0.0.1:1"), "{refused:#}");
    let wrong = Engine::new(&second.tcp_host(), Some(TlsFiles::in_dir(second.wrong_cert_dir())?), None)?;
    let refused = wrong.connect().await.err().context("a certificate from another CA was accepted")?;
    assert!(format!("{refused:#}").contains(&second.tcp_host()), "{refused:#}");
    // The engine refuses a client without a certificate.
    let plain = Engine::new(&second.tcp_host(), None, None)?;
    assert!(plain.connect().await.is_err(), "the TLS engine answered plain HTTP");

    let cx = TestContext::new();
    let run = cx.srl(&["--docker-host", "tcp://10.0.0.1:2375", "sandbox", "gc"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("plain TCP") && run.stderr.contains("10.0.0.1"), "{}", run.stderr);
    let run = cx.srl(&["--docker-host", "ssh://me@host", "sandbox", "gc"]);
    assert!(run.code == 2 && run.stderr.contains("ssh -NL"), "{}", run.stderr);
    cx.write("engines.toml", "[[engine]]\nhost = \"tcp://10.0.0.1:2376\"\ncert_path = \"missing\"\n");
    let run = cx.srl(&["--engines", "engines.toml", "sandbox", "gc"]);
    assert!(run.code == 2 && run.stderr.contains("engine 1") && run.stderr.contains("ca.pem"), "{}", run.stderr);
    Ok(())
}

/// The first four shipped tasks (fewer images to stream) and their gold patches, with
/// `extra` appended to each patch.
fn gold_predictions(cx: &TestContext, name: &str, extra: &str) -> Vec<String> {
    let tasks = tasks_dir();
    let run = cx.srl(&["tasks", "export", "--tasks", tasks.to_str().unwrap(), "-o", "all.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let instances: Vec<Value> =
        cx.read("all.jsonl").lines().take(4).map(|l| serde_json::from_str(l).unwrap()).collect();
    let lines: Vec<String> = instances.iter().map(Value::to_string).collect();
    cx.write("instances.jsonl", lines.join("\n") + "\n");
    let predictions: Vec<String> = instances
        .iter()
        .map(|i| {
            let patch = format!("{}{extra}", i["patch"].as_str().unwrap());
            serde_json::json!({"instance_id": i["instance_id"], "model_name_or_path": "m", "model_patch": patch})
                .to_string()
        })
        .collect();
    cx.write(name, predictions.join("\n") + "\n");
    instances.iter().map(|i| i["instance_id"].as_str().unwrap().to_string()).collect()
}

fn eval_command(cx: &TestContext, second: Option<&SecondEngine>, predictions: &str, run_id: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_srl"));
    command.current_dir(cx.dir.path()).env_remove("SRL_LOG").env_remove("DOCKER_HOST");
    command.args(["--docker-host", "unix:///var/run/docker.sock"]);
    if let Some(second) = second {
        command.args(["--docker-host", &second.tcp_host()]);
        command.env("DOCKER_TLS_VERIFY", "1").env("DOCKER_CERT_PATH", second.cert_dir());
    }
    let tasks = tasks_dir();
    command.args(["eval", "--instances", "instances.jsonl", "--predictions", predictions, "--run-id", run_id]);
    command.args(["--repos", tasks.to_str().unwrap(), "--sandbox", "docker", "--workers", "2", "--no-pull"]);
    command
}

fn report(cx: &TestContext, run_id: &str, id: &str) -> String {
    cx.read(&format!("logs/run_evaluation/{run_id}/m/{id}/report.json"))
}

/// How many sandbox containers an engine holds.
fn containers_on(unix_host: &str) -> usize {
    let out = Command::new("docker").args(["-H", unix_host, "ps", "-q", "--filter", "label=srl.run_id"]).output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).lines().count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_spreads_over_two_engines_and_survives_losing_one() -> Result<()> {
    if !ready().await {
        return Ok(());
    }
    let mut second = SecondEngine::start()?;
    let cx = TestContext::new();
    let ids = gold_predictions(&cx, "gold.jsonl", "");

    let one = eval_command(&cx, None, "gold.jsonl", "one").output()?;
    assert!(one.status.success(), "{}", String::from_utf8_lossy(&one.stderr));
    let two = eval_command(&cx, Some(&second), "gold.jsonl", "two").output()?;
    let stdout = String::from_utf8_lossy(&two.stdout);
    assert!(two.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&two.stderr));
    assert!(stdout.contains("4 resolved") && stdout.contains("0 retried"), "{stdout}");
    for id in &ids {
        assert_eq!(report(&cx, "one", id), report(&cx, "two", id), "{id}: the reports differ");
    }
    // Both engines ran sandboxes: the second one now holds the task images it was streamed.
    let streamed = Command::new("docker").args(["-H", &second.unix_host(), "images", "-q"]).output()?;
    assert!(String::from_utf8_lossy(&streamed.stdout).lines().count() >= 1, "nothing ran on the second engine");
    assert_eq!(cx.read("m.one.json").replace("\"one\"", "\"two\""), cx.read("m.two.json"));

    // A conftest that sleeps keeps every instance's tests running for a few seconds, so the
    // second engine is killed while it runs one.
    let sleepy = "diff --git a/conftest.py b/conftest.py\nnew file mode 100644\n--- /dev/null\n+++ b/conftest.py\n@@ -0,0 +1,2 @@\n+import time\n+time.sleep(4)\n";
    gold_predictions(&cx, "sleepy.jsonl", sleepy);
    let child = eval_command(&cx, Some(&second), "sleepy.jsonl", "kill")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while containers_on(&second.unix_host()) == 0 {
        assert!(Instant::now() < deadline, "no sandbox ever started on the second engine");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    second.kill_hard();
    let out = child.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("4 resolved"), "every instance has its verdict: {stdout}\n{stderr}");
    let retried: usize = stdout
        .split("; ")
        .find_map(|part| part.strip_suffix(" retried on another engine")?.parse().ok())
        .context("no retried count in the summary")?;
    assert!(retried >= 1, "{stdout}");
    assert!(stdout.contains("lost"), "the summary names the lost engine: {stdout}");
    for id in &ids {
        assert!(Path::new(&cx.path(&format!("logs/run_evaluation/kill/m/{id}/report.json"))).is_file(), "{id}");
    }
    Ok(())
}
