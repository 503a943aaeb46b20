//! One code path, two homes for the repository: every shipped task's expert trajectory runs in a
//! local sandbox over a host work tree and in a Docker sandbox whose repository lives inside the
//! container (uploaded at start, then reached only through the Engine API). Each step must
//! give the same observation, exit status and submission in both.
//!
//! Measured durations (`0.08s`, pytest's `in 0.12s`) are masked (they differ between any two
//! runs) and lines are compared in sorted order (directory order is the file system's).
//!
//! Without a daemon the test prints why and passes; CI sets `SRL_REQUIRE_DOCKER=1`.

mod support;

use std::time::Duration;

use srl::sandbox::docker::{self, DockerOptions, DockerSandbox, DEFAULT_IMAGE};
use srl::sandbox::local::LocalSandbox;
use srl::sandbox::tools::{run_action, ToolBox};
use srl::sandbox::{ExecLimits, Sandbox, WorkTree};
use srl::task::repos::MOUNT_PATH;
use srl::task::taskdir::{load_task, task_dirs};
use srl::trajectory::read::{import_paths, ImportOptions};

#[tokio::test]
async fn shipped_trajectories_observe_the_same_in_both_designs() {
    let required = std::env::var("SRL_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    if !docker::image_available(DEFAULT_IMAGE).await {
        assert!(!required, "SRL_REQUIRE_DOCKER=1 but no daemon with {DEFAULT_IMAGE} answers");
        eprintln!("skipping: no Docker daemon with {DEFAULT_IMAGE}");
        return;
    }
    let limits = ExecLimits::new(Duration::from_secs(120), 100_000);
    let dirs = task_dirs(&support::tasks_dir()).unwrap();
    assert!(dirs.len() >= 12, "{dirs:?}");
    let mut steps = 0;
    for dir in dirs {
        let task = load_task(&dir).unwrap();
        let mut trajectories = Vec::new();
        let options = ImportOptions { format: None, strict: true };
        import_paths(&[task.trajectory_path()], &options, &mut |t| {
            trajectories.push(t);
            Ok(())
        })
        .unwrap();
        let tree = || WorkTree::from_files(&task.repo_dir(), MOUNT_PATH).unwrap();
        let mut local = LocalSandbox::start(tree()).unwrap();
        let options = DockerOptions::new(DEFAULT_IMAGE, "test-designs");
        let mut container = DockerSandbox::start(tree().into(), &options).await.unwrap();
        let legacy = trajectories[0].source_format == "swe-agent";
        let (mut local_tools, mut container_tools) = (ToolBox::new(legacy), ToolBox::new(legacy));
        for (k, step) in trajectories[0].steps.iter().enumerate() {
            let a = run_action(&mut local, &mut local_tools, &step.action, &limits).await.unwrap();
            let b = run_action(&mut container, &mut container_tools, &step.action, &limits).await.unwrap();
            let at = format!("{} step {k} ({})", task.name(), step.action_text);
            assert_eq!(comparable(&a.observation), comparable(&b.observation), "{at}");
            assert_eq!(a.exit_code, b.exit_code, "{at}");
            assert_eq!(a.submitted, b.submitted, "{at}");
            steps += 1;
        }
        assert_eq!(local.diff().await.unwrap(), container.diff().await.unwrap(), "{}: final diff", task.name());
        local.close().await.unwrap();
        container.close().await.unwrap();
    }
    eprintln!("{steps} steps observed the same in both designs");
}

/// An observation with durations masked and its lines sorted: `grep -r`, `find` and `ls -f`
/// list in the file system's directory order, which differs between the host's (ext4) and the
/// engine's (overlay2 or btrfs) even for the same files.
fn comparable(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = timings_masked(text).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Replaces every decimal number of seconds (`12.345s`) with `<t>s`.
fn timings_masked(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let integer = i > start;
        if integer && chars.get(i) == Some(&'.') {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 1 && chars.get(j) == Some(&'s') {
                out.push_str("<t>");
                i = j;
                continue;
            }
        }
        if integer {
            out.extend(&chars[start..i]);
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn only_durations_are_masked() {
    assert_eq!(timings_masked("5000  build 0.082s x 3.5 in 12.0s, v1.2"), "5000  build <t>s x 3.5 in <t>s, v1.2");
}
