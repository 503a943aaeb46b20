//! The hostile-command suite: what a sandbox must survive and contain, whatever engine it runs
//! on. `tests/sandbox_docker.rs` runs it on the default engine, `tests/sandbox_engines.rs` on a
//! second engine reached over TCP with TLS. Each check takes the options of its sandboxes (the
//! engine among them) and starts its own.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use srl::sandbox::docker::{DockerOptions, DockerSandbox};
use srl::sandbox::{ExecLimits, Sandbox, WorkTree};

fn work_tree() -> Result<WorkTree> {
    let source = tempfile::tempdir()?;
    std::fs::write(source.path().join("hello.txt"), "hello from the host\n")?;
    WorkTree::from_files(source.path(), "/testbed")
}

/// A sandbox over a one-file repository, with `options` and `run_id`.
pub async fn sandbox(options: &DockerOptions, run_id: &str) -> Result<DockerSandbox> {
    let mut options = options.clone();
    options.run_id = run_id.to_string();
    DockerSandbox::start(work_tree()?.into(), &options).await
}

fn limits(seconds: u64) -> ExecLimits {
    ExecLimits::new(Duration::from_secs(seconds), 10_000)
}

/// Every check, one after the other.
pub async fn all(options: &DockerOptions) -> Result<()> {
    commands_report_output_exit_code_and_run_as_the_agent(options)
        .await
        .context("commands_report_output_exit_code_and_run_as_the_agent")?;
    the_repository_lives_in_the_container_and_is_reached_through_the_engine_api(options)
        .await
        .context("the_repository_lives_in_the_container_and_is_reached_through_the_engine_api")?;
    a_timeout_kills_the_command_and_its_escapees(options)
        .await
        .context("a_timeout_kills_the_command_and_its_escapees")?;
    an_output_flood_is_cut_and_killed(options).await.context("an_output_flood_is_cut_and_killed")?;
    there_is_no_network(options).await.context("there_is_no_network")?;
    a_memory_hog_is_killed_and_the_sandbox_survives(options)
        .await
        .context("a_memory_hog_is_killed_and_the_sandbox_survives")?;
    a_fork_bomb_is_contained_and_the_sandbox_keeps_working(options)
        .await
        .context("a_fork_bomb_is_contained_and_the_sandbox_keeps_working")?;
    writes_outside_the_repository_and_disk_filling_are_refused(options)
        .await
        .context("writes_outside_the_repository_and_disk_filling_are_refused")?;
    host_files_are_out_of_sight(options).await.context("host_files_are_out_of_sight")?;
    Ok(())
}

pub async fn commands_report_output_exit_code_and_run_as_the_agent(options: &DockerOptions) -> Result<()> {
    let mut sb = sandbox(options, "test-basic").await?;
    let obs = sb.exec("echo out; pwd; id -u", &limits(10)).await?;
    assert_eq!(obs.output, "out\n/testbed\n1000\n");
    assert_eq!((obs.exit_code, obs.timed_out, obs.output_limited), (Some(0), false, false));
    // Docker copies stdout and stderr separately, so only their contents are certain, not their order.
    let obs = sb.exec("echo out; echo err >&2", &limits(10)).await?;
    assert!(obs.output == "out\nerr\n" || obs.output == "err\nout\n", "{:?}", obs.output);
    assert_eq!((obs.exit_code, obs.timed_out, obs.output_limited), (Some(0), false, false));
    let obs = sb.exec("echo failing; exit 3", &limits(10)).await?;
    assert_eq!((obs.output.as_str(), obs.exit_code), ("failing\n", Some(3)));
    // A command that closes its output and keeps running is still waited for.
    let obs = sb.exec("exec >&- 2>&-; sleep 0.3; exit 4", &limits(10)).await?;
    assert_eq!(obs.exit_code, Some(4));
    assert!(obs.duration >= Duration::from_millis(300), "{obs:?}");
    sb.close().await
}

pub async fn the_repository_lives_in_the_container_and_is_reached_through_the_engine_api(
    options: &DockerOptions,
) -> Result<()> {
    let mut sb = sandbox(options, "test-files").await?;
    let obs = sb.exec("cat hello.txt && echo made in the sandbox > new.txt && git status --short", &limits(10)).await?;
    assert_eq!(obs.exit_code, Some(0), "{}", obs.output);
    assert_eq!(obs.output, "hello from the host\n?? new.txt\n");
    assert_eq!(sb.read("new.txt").await?.unwrap(), b"made in the sandbox\n");
    assert!(sb.read("nothing.txt").await?.is_err());
    sb.write("sub/from_the_harness.txt", b"written by the harness\n").await?.unwrap();
    let obs = sb.exec("cat sub/from_the_harness.txt && echo appended >> sub/from_the_harness.txt", &limits(10)).await?;
    assert_eq!((obs.output.as_str(), obs.exit_code), ("written by the harness\n", Some(0)));
    assert_eq!(sb.read("sub/from_the_harness.txt").await?.unwrap(), b"written by the harness\nappended\n");
    let owners = sb.exec("stat -c %u hello.txt sub sub/from_the_harness.txt", &limits(10)).await?;
    assert_eq!(owners.output, "1000\n1000\n1000\n", "the agent owns what the harness wrote");
    let snapshot = sb.snapshot().await?;
    sb.exec("rm hello.txt; echo junk > new.txt; mkdir -p d/e && touch d/e/f .hidden", &limits(10)).await?;
    sb.restore(&snapshot).await?;
    let back = sb.exec("ls -A | grep -v '^.git$'; cat new.txt; stat -c %u hello.txt", &limits(10)).await?;
    assert_eq!(back.output, "hello.txt\nnew.txt\nsub\nmade in the sandbox\n1000\n");
    let diff = sb.diff().await?;
    assert!(diff.contains("+++ b/new.txt") && diff.contains("+++ b/sub/from_the_harness.txt"), "{diff}");
    sb.close().await
}

pub async fn a_timeout_kills_the_command_and_its_escapees(options: &DockerOptions) -> Result<()> {
    let mut sb = sandbox(options, "test-timeout").await?;
    let command =
        "echo started; setsid sleep 31 >/dev/null 2>&1 & (sleep 32 &) ; nohup sleep 33 >/dev/null 2>&1 & sleep 30";
    let started = Instant::now();
    let obs = sb.exec(command, &limits(1)).await?;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert!(obs.timed_out && !obs.output_limited, "{obs:?}");
    assert_eq!((obs.output.as_str(), obs.exit_code), ("started\n", None));
    assert!(obs.agent_text().contains("timed out"), "{}", obs.agent_text());
    let obs = sb.exec("pgrep -u 1000 -a sleep || echo none", &limits(10)).await?;
    assert_eq!(obs.output, "none\n", "agent processes survived the timeout");
    sb.close().await
}

pub async fn an_output_flood_is_cut_and_killed(options: &DockerOptions) -> Result<()> {
    let mut sb = sandbox(options, "test-flood").await?;
    let limits = ExecLimits { timeout: Duration::from_secs(20), output_cap: 1000, kill_after_bytes: 200_000 };
    let started = Instant::now();
    let obs = sb.exec("echo first; yes", &limits).await?;
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(obs.output_limited && !obs.timed_out, "{obs:?}");
    assert_eq!(obs.exit_code, None);
    assert!(obs.elided_bytes > 190_000, "{}", obs.elided_bytes);
    assert!(obs.output.starts_with("first\ny\ny\n"), "{}", &obs.output[..20]);
    assert!(obs.output.contains("bytes of output elided") && obs.output.ends_with("y\ny\n"));
    let obs = sb.exec("pgrep -u 1000 -a yes || echo none", &limits).await?;
    assert_eq!(obs.output, "none\n", "yes survived the flood");
    sb.close().await
}

pub async fn there_is_no_network(options: &DockerOptions) -> Result<()> {
    let mut sb = sandbox(options, "test-network").await?;
    let obs = sb.exec("ls /sys/class/net", &limits(10)).await?;
    assert_eq!(obs.output, "lo\n");
    let connect = "python3 -c \"import socket; socket.create_connection(('1.1.1.1', 80), timeout=2)\"";
    let obs = sb.exec(connect, &limits(10)).await?;
    assert_ne!(obs.exit_code, Some(0), "{}", obs.output);
    assert!(obs.output.contains("unreachable"), "{}", obs.output);
    sb.close().await
}

pub async fn a_memory_hog_is_killed_and_the_sandbox_survives(options: &DockerOptions) -> Result<()> {
    let mut sb = sandbox(options, "test-memory").await?;
    let obs = sb.exec("python3 -c \"x = b'x' * (1 << 30); print(len(x))\"", &limits(30)).await?;
    assert_eq!(obs.exit_code, Some(137), "{obs:?}");
    let obs = sb.exec("echo still here", &limits(10)).await?;
    assert_eq!((obs.output.as_str(), obs.exit_code), ("still here\n", Some(0)));
    sb.close().await
}

pub async fn a_fork_bomb_is_contained_and_the_sandbox_keeps_working(options: &DockerOptions) -> Result<()> {
    let mut sb = sandbox(options, "test-forkbomb").await?;
    let bomb = sb.exec("bomb() { bomb | bomb & }; bomb; sleep 5", &limits(3)).await?;
    assert!(bomb.timed_out || bomb.exit_code.is_some(), "{bomb:?}");
    let started = Instant::now();
    let obs = sb.exec("echo alive", &limits(20)).await?;
    assert_eq!(obs.output, "alive\n");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    let host = std::process::Command::new("true").status()?;
    assert!(host.success(), "the host still forks");
    sb.close().await
}

pub async fn writes_outside_the_repository_and_disk_filling_are_refused(options: &DockerOptions) -> Result<()> {
    let mut sb = sandbox(options, "test-disk").await?;
    let root = sb.exec("touch /etc/x /usr/x /x 2>&1; echo done", &limits(10)).await?;
    assert_eq!(root.output.matches("Permission denied").count(), 3, "{}", root.output);
    let tmp = sb.exec("head -c 400M /dev/zero > /tmp/fill; echo status=$?", &limits(30)).await?;
    assert!(tmp.output.contains("No space left on device"), "{}", tmp.output);
    let big = sb.exec("head -c 1100M /dev/zero > /testbed/big.bin; echo status=$?", &limits(60)).await?;
    assert!(big.output.contains("File size limit exceeded") || big.output.contains("status=153"), "{}", big.output);
    let size: u64 = sb.exec("stat -c %s /testbed/big.bin", &limits(10)).await?.output.trim().parse()?;
    assert!(size <= 1 << 30, "one file is capped at 1 GiB, got {size}");
    let obs = sb.exec("rm /testbed/big.bin /tmp/fill && echo cleaned", &limits(10)).await?;
    assert_eq!(obs.output, "cleaned\n");
    sb.close().await
}

pub async fn host_files_are_out_of_sight(options: &DockerOptions) -> Result<()> {
    let marker = std::env::temp_dir().join(format!("srl-host-secret-{}", std::process::id()));
    std::fs::write(&marker, "host secret")?;
    let mut sb = sandbox(options, "test-hostfiles").await?;
    let obs = sb.exec(&format!("cat {} 2>&1; cat /etc/shadow 2>&1 | head -1", marker.display()), &limits(10)).await?;
    std::fs::remove_file(&marker)?;
    assert!(!obs.output.contains("host secret"), "{}", obs.output);
    assert!(obs.output.contains("No such file or directory"), "{}", obs.output);
    assert!(obs.output.contains("Permission denied"), "{}", obs.output);
    sb.close().await
}
