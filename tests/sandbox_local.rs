//! The local sandbox backend against real processes: output, exit codes, timeouts that kill
//! everything, output floods, isolation where privileges allow, snapshots and patches.

use std::time::{Duration, Instant};

use srl::sandbox::local::LocalSandbox;
use srl::sandbox::{ExecLimits, Sandbox, WorkTree};

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("calc.py"), "def add(a, b):\n    return a - b\n").unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("tests/test_calc.py"),
        "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    )
    .unwrap();
    dir
}

fn sandbox(source: &std::path::Path) -> LocalSandbox {
    LocalSandbox::start(WorkTree::from_files(source, "/testbed").unwrap()).unwrap()
}

fn limits(seconds: u64) -> ExecLimits {
    ExecLimits::new(Duration::from_secs(seconds), 10_000)
}

#[tokio::test]
async fn output_and_exit_codes() {
    let source = repo();
    let mut sb = sandbox(source.path());
    let ok = sb.exec("echo out; echo err >&2; ls", &limits(10)).await.unwrap();
    assert_eq!(ok.exit_code, Some(0));
    assert_eq!(ok.output, "out\nerr\ncalc.py\ntests\n");
    let failed = sb.exec("exit 3", &limits(10)).await.unwrap();
    assert_eq!(failed.exit_code, Some(3));
    assert!(!failed.timed_out);
    sb.close().await.unwrap();
}

#[tokio::test]
async fn timeout_kills_the_command_and_what_it_spawned() {
    let source = repo();
    let mut sb = sandbox(source.path());
    let marker = format!("srl-escapee-{}", std::process::id());
    let started = Instant::now();
    let command = format!("(setsid bash -c 'exec -a {marker} sleep 60' &) ; sleep 60");
    let obs = sb.exec(&command, &limits(1)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(obs.timed_out);
    assert_eq!(obs.exit_code, None);
    assert!(obs.agent_text().ends_with("[command timed out after 1 s and was killed]"), "{}", obs.agent_text());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let survivors = std::process::Command::new("pgrep").args(["-f", &marker]).output().unwrap();
    if sb.isolated() {
        assert!(survivors.stdout.is_empty(), "setsid escapee survived: {}", String::from_utf8_lossy(&survivors.stdout));
    } else {
        println!("not root: setsid escapees are out of reach of the process-group kill");
    }
    sb.close().await.unwrap();
}

#[tokio::test]
async fn output_flood_is_cut_and_killed() {
    let source = repo();
    let mut sb = sandbox(source.path());
    let limits = ExecLimits { timeout: Duration::from_secs(20), output_cap: 1000, kill_after_bytes: 1 << 20 };
    let started = Instant::now();
    let obs = sb.exec("yes", &limits).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(obs.output_limited);
    assert!(obs.elided_bytes >= (1 << 20) - 1000);
    assert!(obs.output.starts_with("y\ny\n") && obs.output.ends_with("y\n"));
    assert!(obs.output.len() < 1100);
}

#[tokio::test]
async fn isolated_when_root_no_network_own_uid_repo_at_mount_path() {
    let source = repo();
    let mut sb = sandbox(source.path());
    if !sb.isolated() {
        println!("skipping: the local backend isolates commands only when run as root");
        return;
    }
    let obs = sb
        .exec("cd /testbed && ls && id -u && tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '", &limits(10))
        .await
        .unwrap();
    let lines: Vec<&str> = obs.output.lines().collect();
    assert_eq!(&lines[..2], ["calc.py", "tests"]);
    assert_ne!(lines[2], "0", "commands must not run as root");
    assert_eq!(&lines[3..], ["lo"], "only loopback in the sandbox's network namespace");
    let net = sb
        .exec("python3 -c \"import socket; socket.create_connection(('1.1.1.1', 80), timeout=2)\"", &limits(10))
        .await
        .unwrap();
    assert_ne!(net.exit_code, Some(0));
    assert!(net.output.contains("Network is unreachable"), "{}", net.output);
    let write = sb.exec("touch /testbed/new.txt && touch /etc/srl-should-not-exist", &limits(10)).await.unwrap();
    assert_ne!(write.exit_code, Some(0));
    assert!(sb.work_tree().host_dir().join("new.txt").exists());
    assert!(!std::path::Path::new("/etc/srl-should-not-exist").exists());
}

#[tokio::test]
async fn snapshots_restore_files_between_rollouts() {
    let source = repo();
    let mut sb = sandbox(source.path());
    sb.exec("cd /testbed 2>/dev/null; sed -i 's/a - b/a + b/' calc.py && echo x > notes.txt", &limits(10))
        .await
        .unwrap();
    let expert_state = sb.snapshot().await.unwrap();
    for rollout in
        ["rm calc.py", "echo junk >> calc.py; mkdir -p d && touch d/f", "git checkout -q . 2>/dev/null; rm notes.txt"]
    {
        sb.exec(rollout, &limits(10)).await.unwrap();
        sb.restore(&expert_state).await.unwrap();
        let check = sb.exec("cat calc.py notes.txt; ls", &limits(10)).await.unwrap();
        assert_eq!(
            check.output, "def add(a, b):\n    return a + b\nx\ncalc.py\nnotes.txt\ntests\n",
            "after rollout {rollout:?}"
        );
    }
    let diff = sb.diff().await.unwrap();
    assert!(diff.contains("-    return a - b\n+    return a + b"), "{diff}");
    assert!(diff.contains("+++ b/notes.txt"), "untracked files are part of the diff: {diff}");
}

#[tokio::test]
async fn patches_apply_with_fallbacks() {
    let source = repo();
    let mut sb = sandbox(source.path());
    let exact = "diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n";
    let outcome = sb.apply_patch(exact).await.unwrap();
    assert_eq!(outcome.method, Some("git apply"), "{}", outcome.log);
    assert!(String::from_utf8(sb.read("calc.py").await.unwrap().unwrap()).unwrap().contains("a + b"));
    let bogus = "diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def nothing_like_this():\n-    return 42\n+    return 43\n";
    let failed = sb.apply_patch(bogus).await.unwrap();
    assert_eq!(failed.method, None);
    assert!(failed.log.contains(">>> patch --fuzz"), "{}", failed.log);
}

#[test]
fn paths_cannot_leave_the_work_tree() {
    let source = repo();
    let tree = WorkTree::from_files(source.path(), "/testbed").unwrap();
    assert!(tree.host_path("/testbed/calc.py").unwrap().ends_with("repo/calc.py"));
    assert!(tree.host_path("tests/../calc.py").unwrap().ends_with("repo/calc.py"));
    for bad in ["/etc/passwd", "../../etc/passwd", "/testbed/../etc/passwd", "/testbedx/a"] {
        let err = tree.host_path(bad).unwrap_err().to_string();
        assert!(err.contains("outside the repository /testbed"), "{bad}: {err}");
    }
    std::os::unix::fs::symlink("/etc", tree.host_dir().join("etc")).unwrap();
    let err = tree.host_path("/testbed/etc/passwd").unwrap_err().to_string();
    assert!(err.contains("through a symlink"), "{err}");
}

/// What the local backend contains when run as root, and what it cannot (asserted too, so the
/// documentation in `src/sandbox/local.rs` stays true).
#[tokio::test]
async fn local_containment_as_root() {
    let source = repo();
    let mut sb = sandbox(source.path());
    if !sb.isolated() {
        println!("skipping: the local backend contains fork bombs and escapees only when run as root");
        return;
    }
    let bomb = sb.exec("bomb() { bomb | bomb & }; bomb; sleep 5", &limits(3)).await.unwrap();
    assert!(bomb.timed_out || bomb.exit_code.is_some());
    let started = Instant::now();
    let after = sb.exec("echo alive", &limits(10)).await.unwrap();
    assert_eq!(after.output, "alive\n", "the sandbox works after a fork bomb");
    assert!(started.elapsed() < Duration::from_secs(3));

    let hog = sb.exec("python3 -c 'x = bytearray(8 << 30)'", &limits(20)).await.unwrap();
    assert_ne!(hog.exit_code, Some(0));
    assert!(hog.output.contains("MemoryError"), "{}", hog.output);

    let marker = format!("srl-nohup-{}", std::process::id());
    sb.exec(&format!("nohup bash -c 'exec -a {marker} sleep 60' >/dev/null 2>&1 &"), &limits(5)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let survivors = std::process::Command::new("pgrep").args(["-f", &marker]).output().unwrap();
    assert!(survivors.stdout.is_empty(), "a nohup'd background process outlived its action");

    let disk = sb.exec("head -c 1100M /dev/zero > /testbed/big.bin; echo status=$?", &limits(60)).await.unwrap();
    let size = std::fs::metadata(sb.work_tree().host_dir().join("big.bin")).unwrap().len();
    assert!(size <= 1 << 30, "one file is capped at 1 GiB, got {size}");
    assert!(disk.output.contains("File size limit exceeded") || disk.output.contains("status=153"), "{}", disk.output);
    std::fs::remove_file(sb.work_tree().host_dir().join("big.bin")).unwrap();

    let secrets = sb.exec("cat /etc/shadow", &limits(5)).await.unwrap();
    assert!(secrets.output.contains("Permission denied"), "{}", secrets.output);
    let marker = std::env::temp_dir().join(format!("srl-local-private-{}", std::process::id()));
    std::fs::write(&marker, "host scratch").unwrap();
    let scratch =
        sb.exec(&format!("cat {} 2>&1; touch /tmp/mine && echo wrote", marker.display()), &limits(5)).await.unwrap();
    std::fs::remove_file(&marker).unwrap();
    assert!(
        scratch.output.contains("No such file or directory") && scratch.output.ends_with("wrote\n"),
        "{}",
        scratch.output
    );
    assert!(!std::path::Path::new("/tmp/mine").exists(), "the sandbox's /tmp is its own");
    // Not contained: world-readable host files are readable.
    let readable = sb.exec("cat /etc/hostname > /dev/null && echo readable", &limits(5)).await.unwrap();
    assert_eq!(readable.output, "readable\n");
}

#[test]
fn work_trees_come_from_bare_mirrors_at_a_given_commit() {
    let origin = tempfile::tempdir().unwrap();
    let git = |args: &[&str], dir: &std::path::Path| {
        let out = std::process::Command::new("git").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q", "-b", "main"], origin.path());
    std::fs::write(origin.path().join("a.py"), "v = 1\n").unwrap();
    git(&["add", "-A"], origin.path());
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one"], origin.path());
    let first = git(&["rev-parse", "HEAD"], origin.path());
    std::fs::write(origin.path().join("a.py"), "v = 2\n").unwrap();
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "two"], origin.path());
    let mirrors = tempfile::tempdir().unwrap();
    let mirror = mirrors.path().join("mirror.git");
    git(&["clone", "-q", "--mirror", origin.path().to_str().unwrap(), mirror.to_str().unwrap()], mirrors.path());

    let tree = WorkTree::from_repository(mirror.to_str().unwrap(), Some(&first), "/testbed").unwrap();
    assert_eq!(tree.read_file("a.py").unwrap(), "v = 1\n");
    assert_eq!(tree.base_commit().to_string(), first);
    assert_eq!(tree.diff().unwrap(), "", "a fresh checkout has no changes");
    let head = WorkTree::from_repository(origin.path().to_str().unwrap(), None, "/testbed").unwrap();
    assert_eq!(head.read_file("/testbed/a.py").unwrap(), "v = 2\n");
    let missing =
        WorkTree::from_repository(mirror.to_str().unwrap(), Some("0123456789abcdef"), "/testbed").err().unwrap();
    assert!(format!("{missing:#}").contains("commit 0123456789abcdef not found"), "{missing:#}");
}
