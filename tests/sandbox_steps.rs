//! State at step k: restoring the captured state before step k of an expert trajectory gives
//! exactly the files that replaying steps 1..k−1 from scratch gives, whatever ran in between.

use std::time::Duration;

use srl::action::{parse_completion_action, Action};
use srl::sandbox::docker::{self, DockerOptions, DockerSandbox, DEFAULT_IMAGE};
use srl::sandbox::local::LocalSandbox;
use srl::sandbox::step_states::StepStates;
use srl::sandbox::tools::{run_action, ToolBox};
use srl::sandbox::{ExecLimits, Sandbox, WorkTree};

/// Every file below the repository (its `.git` excepted) with mode and content hash, as the
/// sandbox itself lists them, so the same check serves both backends.
async fn files<S: Sandbox>(sb: &mut S) -> String {
    let listing = "find . -path ./.git -prune -o \\( -type f -o -type l \\) -printf '%M %p\\n' | LC_ALL=C sort \
                   && find . -path ./.git -prune -o -type f -exec sha256sum {} + | LC_ALL=C sort -k2";
    let out = sb.exec(listing, &ExecLimits::new(Duration::from_secs(20), 1 << 20)).await.unwrap();
    assert_eq!(out.exit_code, Some(0), "{}", out.output);
    out.output
}

fn action(xml: &str) -> Action {
    parse_completion_action(xml).unwrap()
}

fn expert_actions() -> Vec<Action> {
    vec![
        action("<function=bash><parameter=command>ls /testbed</parameter></function>"),
        action("<function=str_replace_editor><parameter=command>create</parameter><parameter=path>/testbed/reproduce.py</parameter><parameter=file_text>from calc import add\nprint(add(2, 3))\n</parameter></function>"),
        action("<function=bash><parameter=command>cd /testbed && python3 reproduce.py > out.txt</parameter></function>"),
        action("<function=str_replace_editor><parameter=command>str_replace</parameter><parameter=path>/testbed/calc.py</parameter><parameter=old_str>a - b</parameter><parameter=new_str>a + b</parameter></function>"),
        action("<function=bash><parameter=command>cd /testbed && mkdir -p build && python3 reproduce.py > build/out.txt && rm out.txt</parameter></function>"),
        action("<function=bash><parameter=command>cd /testbed && rm reproduce.py && chmod +x calc.py</parameter></function>"),
        action("<function=submit></function>"),
    ]
}

fn work_tree() -> WorkTree {
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("calc.py"), "def add(a, b):\n    return a - b\n").unwrap();
    WorkTree::from_files(source.path(), "/testbed").unwrap()
}

fn local() -> LocalSandbox {
    LocalSandbox::start(work_tree()).unwrap()
}

async fn docker() -> Option<DockerSandbox> {
    let required = std::env::var("SRL_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    if !docker::image_available(DEFAULT_IMAGE).await {
        assert!(!required, "SRL_REQUIRE_DOCKER=1 but no daemon with {DEFAULT_IMAGE} answers");
        eprintln!("skipping the Docker half: no daemon with {DEFAULT_IMAGE}");
        return None;
    }
    Some(DockerSandbox::start(work_tree().into(), &DockerOptions::new(DEFAULT_IMAGE, "test-steps")).await.unwrap())
}

async fn restored_state_equals_a_fresh_replay<S: Sandbox>(mut captured: S, fresh: impl AsyncFnMut() -> S) {
    let mut fresh = fresh;
    let limits = ExecLimits::new(Duration::from_secs(20), 10_000);
    let actions = expert_actions();
    let states = StepStates::capture(&mut captured, ToolBox::default(), &actions, &limits).await.unwrap();
    assert_eq!(states.n_steps(), actions.len());
    assert_eq!(states.outputs[2].exit_code, Some(0), "{:?}", states.outputs[2]);
    assert!(states.outputs[6].submitted.as_deref().unwrap().contains("+    return a + b"));

    for k in [6, 0, 3, 5, 1, 4, 2] {
        // A rollout does something else first; the restore must undo it.
        captured
            .exec("cd /testbed 2>/dev/null; echo junk > calc.py; touch stray.txt; rm -rf build", &limits)
            .await
            .unwrap();
        let mut tools = states.restore(&mut captured, k).await.unwrap();
        let mut replayed = fresh().await;
        let mut fresh_tools = ToolBox::default();
        for action in &actions[..k] {
            run_action(&mut replayed, &mut fresh_tools, action, &limits).await.unwrap();
        }
        assert_eq!(files(&mut captured).await, files(&mut replayed).await, "state (files and modes) before step {k}");
        // The tool state comes back too: the editor's undo history of the state before step k.
        let undo = action("<function=str_replace_editor><parameter=command>undo_edit</parameter><parameter=path>/testbed/calc.py</parameter></function>");
        let a = run_action(&mut captured, &mut tools, &undo, &limits).await.unwrap();
        let b = run_action(&mut replayed, &mut fresh_tools, &undo, &limits).await.unwrap();
        assert_eq!(a.observation, b.observation, "undo before step {k}");
        replayed.close().await.unwrap();
    }
    assert!(states.restore(&mut captured, 99).await.unwrap_err().to_string().contains("out of range"));
    captured.close().await.unwrap();
}

#[tokio::test]
async fn restored_state_equals_a_fresh_replay_of_the_prefix_locally() {
    restored_state_equals_a_fresh_replay(local(), async || local()).await;
}

#[tokio::test]
async fn restored_state_equals_a_fresh_replay_of_the_prefix_in_a_container() {
    let Some(captured) = docker().await else { return };
    restored_state_equals_a_fresh_replay(captured, async || docker().await.unwrap()).await;
}
