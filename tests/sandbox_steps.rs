//! State at step k: restoring the captured state before step k of an expert trajectory gives
//! exactly the files that replaying steps 1..k−1 from scratch gives, whatever ran in between.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use srl::action::{parse_completion_action, Action};
use srl::sandbox::local::LocalSandbox;
use srl::sandbox::step_states::StepStates;
use srl::sandbox::tools::{run_action, ToolBox};
use srl::sandbox::{ExecLimits, Sandbox, WorkTree};

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        if rel == ".git" {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            out.insert(rel, std::fs::read(&path).unwrap());
        }
    }
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

fn sandbox() -> (tempfile::TempDir, LocalSandbox) {
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("calc.py"), "def add(a, b):\n    return a - b\n").unwrap();
    let sb = LocalSandbox::start(WorkTree::from_files(source.path(), "/testbed").unwrap()).unwrap();
    (source, sb)
}

#[tokio::test]
async fn restored_state_equals_a_fresh_replay_of_the_prefix() {
    let limits = ExecLimits::new(Duration::from_secs(20), 10_000);
    let actions = expert_actions();
    let (_source, mut captured) = sandbox();
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
        let mut tools = states.restore(&mut captured, k).unwrap();
        let (_fresh_source, mut fresh) = sandbox();
        let mut fresh_tools = ToolBox::default();
        for action in &actions[..k] {
            run_action(&mut fresh, &mut fresh_tools, action, &limits).await.unwrap();
        }
        assert_eq!(
            files(&captured.work_tree().host_dir()),
            files(&fresh.work_tree().host_dir()),
            "state before step {k}"
        );
        let executable = |sb: &LocalSandbox| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(sb.work_tree().host_dir().join("calc.py")).unwrap().permissions().mode() & 0o111 != 0
        };
        assert_eq!(executable(&captured), executable(&fresh), "file modes before step {k}");
        // The tool state comes back too: the editor's undo history of the state before step k.
        let undo = action("<function=str_replace_editor><parameter=command>undo_edit</parameter><parameter=path>/testbed/calc.py</parameter></function>");
        let a = run_action(&mut captured, &mut tools, &undo, &limits).await.unwrap();
        let b = run_action(&mut fresh, &mut fresh_tools, &undo, &limits).await.unwrap();
        assert_eq!(a.observation, b.observation, "undo before step {k}");
    }
    assert!(states.restore(&mut captured, 99).unwrap_err().to_string().contains("out of range"));
}
