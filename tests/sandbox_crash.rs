//! A harness killed with SIGKILL mid-run leaves its container behind; the next start removes it.
//! Needs a Docker daemon: skipped with a message without one, required when SRL_REQUIRE_DOCKER=1.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::TestContext;

fn daemon_answers() -> bool {
    let answers = Command::new("docker")
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !answers {
        assert!(std::env::var("SRL_REQUIRE_DOCKER").is_err(), "SRL_REQUIRE_DOCKER is set but no Docker daemon answers");
        println!("skipping: no Docker daemon (run scripts/docker-up.sh)");
    }
    answers
}

fn containers_of(pid: u32) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("label=srl.pid={pid}")])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect()
}

#[test]
fn sigkilled_run_leaves_nothing_after_the_next_start() {
    if !daemon_answers() {
        return;
    }
    let cx = TestContext::new();
    cx.write("repo/a.txt", "a\n");
    let mut victim = Command::new(env!("CARGO_BIN_EXE_srl"))
        .args(["exec", "--sandbox", "docker", "--repo", "repo", "--", "sleep", "120"])
        .current_dir(cx.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start srl exec");
    let pid = victim.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while containers_of(pid).is_empty() {
        assert!(Instant::now() < deadline, "no container appeared for srl pid {pid}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    victim.kill().expect("SIGKILL srl");
    victim.wait().expect("reap srl");
    assert_eq!(containers_of(pid).len(), 1, "SIGKILL gives the harness no chance to clean up");

    let next = cx.srl(&["exec", "--sandbox", "docker", "--repo", "repo", "--", "true"]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert!(containers_of(pid).is_empty(), "the next start removed the dead run's container");
}

#[test]
fn gc_command_reports_what_it_removed() {
    if !daemon_answers() {
        return;
    }
    let cx = TestContext::new();
    let run = cx.srl(&["sandbox", "gc"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("removed ") && run.stdout.trim_end().ends_with("orphaned sandbox containers"),
        "{}",
        run.stdout
    );
}
