//! The Docker backend against a real daemon and the `srl-sandbox/base` image: output and exit
//! codes, the repository inside the container (uploaded at start, read and written through the
//! Engine API), timeouts and floods that must kill everything, the isolation
//! settings (network, uid, memory), labels and crash cleanup, plus a latency report
//! (`cargo test --test sandbox_docker latency -- --nocapture`).
//!
//! Without a daemon (or without the image) every test prints why and passes, so a plain
//! `cargo test` works anywhere; CI sets `SRL_REQUIRE_DOCKER=1` to turn that into a failure.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::CreateContainerOptionsBuilder;
use bollard::Docker;
use srl::sandbox::docker::{self, DockerOptions, DockerSandbox, DEFAULT_IMAGE};
use srl::sandbox::{ExecLimits, Sandbox, WorkTree};
use support::hostile;

mod support;

/// Whether the tests can run; panics instead of skipping when CI demands Docker.
async fn docker_ready() -> bool {
    let required = std::env::var("SRL_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    let problem = if !docker::daemon_available().await {
        "skipping: no Docker daemon (run scripts/docker-up.sh)".to_string()
    } else if !image_present().await {
        format!("skipping: image {DEFAULT_IMAGE} is missing (build it with scripts/sandbox-image.sh)")
    } else {
        return true;
    };
    assert!(!required, "SRL_REQUIRE_DOCKER=1 but {problem}");
    eprintln!("{problem}");
    false
}

async fn image_present() -> bool {
    match client().await {
        Ok(docker) => docker.inspect_image(DEFAULT_IMAGE).await.is_ok(),
        Err(_) => false,
    }
}

async fn client() -> Result<Docker> {
    Ok(Docker::connect_with_local_defaults()?.negotiate_version().await?)
}

fn work_tree() -> Result<WorkTree> {
    let source = tempfile::tempdir()?;
    std::fs::write(source.path().join("hello.txt"), "hello from the host\n")?;
    WorkTree::from_files(source.path(), "/testbed")
}

async fn sandbox(run_id: &str) -> Result<DockerSandbox> {
    DockerSandbox::start(work_tree()?.into(), &DockerOptions::new(DEFAULT_IMAGE, run_id)).await
}

fn limits(seconds: u64) -> ExecLimits {
    ExecLimits::new(Duration::from_secs(seconds), 10_000)
}

async fn labels_of(docker: &Docker, id: &str) -> Result<HashMap<String, String>> {
    let inspected = docker.inspect_container(id, None).await?;
    inspected.config.and_then(|c| c.labels).context("container without labels")
}

async fn exists(docker: &Docker, id: &str) -> bool {
    docker.inspect_container(id, None).await.is_ok()
}

#[tokio::test]
async fn commands_report_output_exit_code_and_run_as_the_agent() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::commands_report_output_exit_code_and_run_as_the_agent(&DockerOptions::new(DEFAULT_IMAGE, "")).await
}

#[tokio::test]
async fn the_repository_lives_in_the_container_and_is_reached_through_the_engine_api() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::the_repository_lives_in_the_container_and_is_reached_through_the_engine_api(&DockerOptions::new(
        DEFAULT_IMAGE,
        "",
    ))
    .await
}

#[tokio::test]
async fn a_timeout_kills_the_command_and_its_escapees() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::a_timeout_kills_the_command_and_its_escapees(&DockerOptions::new(DEFAULT_IMAGE, "")).await
}

#[tokio::test]
async fn an_output_flood_is_cut_and_killed() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::an_output_flood_is_cut_and_killed(&DockerOptions::new(DEFAULT_IMAGE, "")).await
}

#[tokio::test]
async fn there_is_no_network() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::there_is_no_network(&DockerOptions::new(DEFAULT_IMAGE, "")).await
}

#[tokio::test]
async fn a_memory_hog_is_killed_and_the_sandbox_survives() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::a_memory_hog_is_killed_and_the_sandbox_survives(&DockerOptions::new(DEFAULT_IMAGE, "")).await
}

/// A stopped container labelled like a sandbox of this host whose process is gone.
async fn fake_orphan(docker: &Docker, host: &str) -> Result<String> {
    let labels = HashMap::from([
        ("srl.run_id".to_string(), format!("test-orphan-{}", std::process::id())),
        // Above the kernel's largest pid_max, so never a live process.
        ("srl.pid".to_string(), "999999999".to_string()),
        ("srl.host".to_string(), host.to_string()),
    ]);
    let body = ContainerCreateBody {
        image: Some(DEFAULT_IMAGE.to_string()),
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        network_disabled: Some(true),
        labels: Some(labels),
        ..Default::default()
    };
    let name = format!("srl-test-orphan-{}", std::process::id());
    let options = CreateContainerOptionsBuilder::new().name(&name).build();
    Ok(docker.create_container(Some(options), body).await?.id)
}

#[tokio::test]
async fn labels_let_orphans_be_removed_and_live_sandboxes_stay() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    let docker = client().await?;
    let mut sb = sandbox("test-labels").await?;
    let labels = labels_of(&docker, sb.container_id()).await?;
    assert_eq!(labels.get("srl.run_id").map(String::as_str), Some("test-labels"));
    assert_eq!(labels.get("srl.pid"), Some(&std::process::id().to_string()));
    let host = labels.get("srl.host").context("no srl.host label")?;
    let orphan = fake_orphan(&docker, host).await?;
    assert!(docker::remove_orphans().await? >= 1);
    assert!(!exists(&docker, &orphan).await, "the orphan is still there");
    assert!(exists(&docker, sb.container_id()).await, "a live sandbox was removed");
    assert_eq!(sb.exec("echo alive", &limits(10)).await?.output, "alive\n");
    sb.close().await
}

#[tokio::test]
async fn close_and_remove_run_remove_containers() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    let docker = client().await?;
    let run_id = format!("test-run-{}", std::process::id());
    let closed = sandbox(&run_id).await?;
    let closed_id = closed.container_id().to_string();
    closed.close().await?;
    assert!(!exists(&docker, &closed_id).await, "close left the container");
    let first = sandbox(&run_id).await?;
    let second = sandbox(&run_id).await?;
    assert_eq!(docker::remove_run(&run_id).await?, 2);
    assert!(!exists(&docker, first.container_id()).await && !exists(&docker, second.container_id()).await);
    // Closing a sandbox whose container is already gone is not an error.
    first.close().await?;
    second.close().await?;
    let dropped = sandbox(&run_id).await?;
    let dropped_id = dropped.container_id().to_string();
    drop(dropped);
    let deadline = Instant::now() + Duration::from_secs(30);
    while exists(&docker, &dropped_id).await && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!exists(&docker, &dropped_id).await, "a dropped sandbox's container was not removed");
    Ok(())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Prints latencies; asserts nothing about them (they depend on the machine and its load).
#[tokio::test]
async fn latency_report() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    let (mut starts, mut closes, mut execs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..5 {
        let tree = work_tree()?;
        let started = Instant::now();
        let mut sb = DockerSandbox::start(tree.into(), &DockerOptions::new(DEFAULT_IMAGE, "test-latency")).await?;
        starts.push(started.elapsed());
        let count = if round == 0 { 30 } else { 0 };
        for _ in 0..count {
            let started = Instant::now();
            let obs = sb.exec("true", &limits(10)).await?;
            execs.push(started.elapsed());
            assert_eq!(obs.exit_code, Some(0));
        }
        let started = Instant::now();
        sb.close().await?;
        closes.push(started.elapsed());
    }
    eprintln!(
        "docker sandbox latency (medians): create + start {:?} (n=5), exec `true` {:?} (n=30), close {:?} (n=5)",
        median(starts),
        median(execs),
        median(closes)
    );
    Ok(())
}

#[tokio::test]
async fn a_fork_bomb_is_contained_and_the_sandbox_keeps_working() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::a_fork_bomb_is_contained_and_the_sandbox_keeps_working(&DockerOptions::new(DEFAULT_IMAGE, "")).await
}

#[tokio::test]
async fn writes_outside_the_repository_and_disk_filling_are_refused() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::writes_outside_the_repository_and_disk_filling_are_refused(&DockerOptions::new(DEFAULT_IMAGE, "")).await
}

#[tokio::test]
async fn host_files_are_out_of_sight() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    hostile::host_files_are_out_of_sight(&DockerOptions::new(DEFAULT_IMAGE, "")).await
}

/// Free bytes of the file system holding `path` (on this machine).
fn free_bytes(path: &str) -> u64 {
    let out = std::process::Command::new("df").args(["--output=avail", "-B1", path]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn a_disk_quota_stops_writes_and_the_host_keeps_its_space() -> Result<()> {
    if !docker_ready().await {
        return Ok(());
    }
    let info = client().await?.info().await?;
    if info.driver.as_deref() != Some("btrfs") {
        let required = std::env::var("SRL_REQUIRE_DISK_QUOTA").is_ok_and(|v| v == "1");
        assert!(!required, "SRL_REQUIRE_DISK_QUOTA=1 but the engine's storage driver is {:?}", info.driver);
        eprintln!(
            "skipping: the engine's storage driver {:?} has no quotas (scripts/docker-up.sh sets up btrfs)",
            info.driver
        );
        return Ok(());
    }
    let root = info.docker_root_dir.context("the engine names no root directory")?;
    let mut options = DockerOptions::new(DEFAULT_IMAGE, "test-quota");
    options.disk_bytes = 300 << 20;
    let mut sb = DockerSandbox::start(work_tree()?.into(), &options).await?;
    let before = free_bytes(&root);
    // Five 200 MB files: each under the 1 GiB file cap, together over the 300 MB quota.
    let fill = "for i in 1 2 3 4 5; do head -c 200M /dev/zero > /testbed/fill$i || break; done 2>&1; du -sm /testbed";
    let obs = sb.exec(fill, &limits(120)).await?;
    assert!(obs.output.contains("Disk quota exceeded"), "{}", obs.output);
    let written_mb: u64 =
        obs.output.lines().last().and_then(|l| l.split_whitespace().next()?.parse().ok()).unwrap_or(0);
    assert!(written_mb <= 320, "wrote {written_mb} MB past a 300 MB quota");
    let used = before.saturating_sub(free_bytes(&root));
    assert!(used < 400 << 20, "the host lost {used} bytes");
    let after =
        sb.exec("rm -f /testbed/fill*; echo ok > /testbed/small.txt && cat /testbed/small.txt", &limits(30)).await?;
    assert_eq!(after.output, "ok\n", "the sandbox works again once space is freed");
    sb.close().await
}
