//! Real SWE-bench instances end to end through `srl eval`, in the images `srl env build` makes
//! (the repository and its installed environment at `/testbed`, no bind mount, no network):
//! pytest-dev__pytest-11143's gold patch resolves, an empty patch is an empty patch, a patch that
//! breaks a PASS_TO_PASS test is unresolved, a patch that does not apply is unresolved with its
//! apply log; pydicom__pydicom-1458's gold patch and SWE-agent's own patch get the verdict this
//! environment honestly gives (see the assertions).
//!
//! Images are built (or found up to date) first; CI sets `SRL_REQUIRE_DOCKER=1`.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use srl::sandbox::docker::{self, DEFAULT_IMAGE};
use support::{fixtures, TestContext};

const PYTEST: &str = "pytest-dev__pytest-11143";
const PYDICOM: &str = "pydicom__pydicom-1458";

fn data_sources() -> PathBuf {
    fixtures().join("swe-agent/tests/test_data/data_sources")
}

fn repos() -> PathBuf {
    fixtures().join("../swebench/repos").canonicalize().expect("../shared/fixtures/swebench/repos")
}

fn ready() -> bool {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let required = std::env::var("SRL_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    if runtime.block_on(docker::image_available(DEFAULT_IMAGE)) {
        return true;
    }
    assert!(!required, "SRL_REQUIRE_DOCKER=1 but no daemon with {DEFAULT_IMAGE} answers");
    eprintln!("skipping: no Docker daemon with {DEFAULT_IMAGE}");
    false
}

/// The fixture instance record `id` from `file`, written alone to `instances.json`.
fn instance(cx: &TestContext, file: &str, id: &str) -> Value {
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(data_sources().join(file)).unwrap()).unwrap();
    let record = all.into_iter().find(|r| r["instance_id"] == id).expect("fixture instance");
    cx.write("instances.json", serde_json::to_string(&vec![record.clone()]).unwrap());
    record
}

fn build(cx: &TestContext) {
    let repos = repos();
    let run = cx.srl(&["env", "build", "instances.json", "--repos", repos.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// `srl eval` of one prediction; returns the run's output and the instance's log folder.
fn eval(cx: &TestContext, id: &str, model: &str, patch: &str) -> (support::Run, PathBuf) {
    let prediction = json!({"instance_id": id, "model_name_or_path": model, "model_patch": patch});
    let file = format!("{model}.jsonl");
    cx.write(&file, format!("{prediction}\n"));
    let repos = repos();
    let run = cx.srl(&[
        "eval",
        "--instances",
        "instances.json",
        "--predictions",
        &file,
        "--run-id",
        model,
        "--sandbox",
        "docker",
        "--no-pull",
        "--repos",
        repos.to_str().unwrap(),
        "--log-dir",
        "logs",
        "--timeout",
        "600",
    ]);
    (run, cx.path("logs").join(model).join(model).join(id))
}

fn report(dir: &Path, id: &str) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str::<Value>(&text).unwrap()[id].clone()
}

fn failures(report: &Value, key: &str) -> Vec<String> {
    let list = report["tests_status"][key]["failure"].as_array().cloned().unwrap_or_default();
    list.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
}

/// A second hunk after the gold one: `try_makedirs` reports failure, which
/// `test_try_makedirs` (a PASS_TO_PASS test) catches.
const BREAKS_TRY_MAKEDIRS: &str = "@@ -1154,7 +1155,7 @@ def try_makedirs(cache_dir: Path) -> bool:
         if e.errno == errno.EROFS:
             return False
         raise
-    return True
+    return False
 
 
 def get_cache_dir(file_path: Path) -> Path:
";

#[test]
fn pytest_11143_gold_empty_breaking_and_broken_patches() {
    if !ready() {
        return;
    }
    let cx = TestContext::new();
    let record = instance(&cx, "swe-bench-lite-test.json", PYTEST);
    build(&cx);
    let gold = record["patch"].as_str().unwrap();

    let (run, dir) = eval(&cx, PYTEST, "gold", gold);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 resolved"), "{}", run.stdout);
    let gold_report = report(&dir, PYTEST);
    assert_eq!(gold_report["resolved"], true, "{gold_report}");
    let log = std::fs::read_to_string(dir.join("test_output.txt")).unwrap();
    assert!(log.contains(">>>>> Start Test Output") && log.contains("testing/test_assertrewrite.py"), "{log}");
    assert!(std::fs::read_to_string(dir.join("eval.sh")).unwrap().contains("pytest -rA testing/test_assertrewrite.py"));

    let (run, dir) = eval(&cx, PYTEST, "empty", "");
    assert!(run.stdout.contains("1 empty patches"), "{}", run.stdout);
    assert_eq!(report(&dir, PYTEST)["patch_exists"], false);

    let breaking = format!("{gold}{BREAKS_TRY_MAKEDIRS}");
    let (run, dir) = eval(&cx, PYTEST, "breaking", &breaking);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let breaking_report = report(&dir, PYTEST);
    assert_eq!(breaking_report["resolved"], false, "{breaking_report}");
    assert!(failures(&breaking_report, "FAIL_TO_PASS").is_empty(), "{breaking_report}");
    assert!(
        failures(&breaking_report, "PASS_TO_PASS").contains(&"testing/test_assertrewrite.py::test_try_makedirs".into()),
        "{breaking_report}"
    );

    // Context that exists nowhere: git apply, its reject mode and `patch --fuzz=5` all refuse.
    let stale_patch = "diff --git a/src/_pytest/assertion/rewrite.py b/src/_pytest/assertion/rewrite.py\n\
        --- a/src/_pytest/assertion/rewrite.py\n+++ b/src/_pytest/assertion/rewrite.py\n\
        @@ -1,3 +1,3 @@\n-no such line one\n+replacement\n no such line two\n no such line three\n";
    let (run, dir) = eval(&cx, PYTEST, "stale", stale_patch);
    assert!(run.stdout.contains("1 unresolved"), "{}", run.stdout);
    let stale = report(&dir, PYTEST);
    assert_eq!((stale["patch_successfully_applied"].clone(), stale["resolved"].clone()), (json!(false), json!(false)));
    let apply_log = std::fs::read_to_string(dir.join("apply.log")).unwrap();
    assert!(apply_log.contains(">>> git apply") && apply_log.contains(">>> patch --fuzz"), "{apply_log}");

    // An instance whose test patch does not apply is the harness's failure, said as such.
    let mut broken = record.clone();
    broken["test_patch"] =
        Value::String(stale_patch.replace("src/_pytest/assertion/rewrite.py", "testing/test_assertrewrite.py"));
    cx.write("instances.json", serde_json::to_string(&vec![broken]).unwrap());
    let (run, _) = eval(&cx, PYTEST, "bad-test-patch", gold);
    assert!(run.stdout.contains("1 errors"), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("the test patch does not apply"), "{}", run.stderr);
}

/// pydicom-1458 in this environment: both FAIL_TO_PASS tests pass with the gold patch, but the
/// harness's verdict (which we reproduce) is unresolved: the instance lists parametrised
/// PASS_TO_PASS ids holding the original machine's absolute data paths, which its own
/// `pytest_options` parser cuts to the file name in the log, so they never match; and four
/// tests depend on data files that differ offline.
#[test]
fn pydicom_1458_gold_and_swe_agent_patches_get_the_harness_verdict() {
    if !ready() {
        return;
    }
    let cx = TestContext::new();
    let record = instance(&cx, "swe-bench-dev-easy.json", PYDICOM);
    build(&cx);
    let (run, dir) = eval(&cx, PYDICOM, "gold", record["patch"].as_str().unwrap());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let gold = report(&dir, PYDICOM);
    assert!(failures(&gold, "FAIL_TO_PASS").is_empty(), "{gold}");
    let p2p = failures(&gold, "PASS_TO_PASS");
    let path_ids = p2p.iter().filter(|id| id.contains("[/n/fs/") || id.contains("[/home/")).count();
    eprintln!("pydicom gold: {} PASS_TO_PASS failures, {path_ids} of them ids with absolute paths", p2p.len());
    assert_eq!(gold["resolved"], false, "{gold}");
    assert!(p2p.len() - path_ids <= 4, "only the four data-dependent tests fail otherwise: {p2p:?}");

    let preds = fixtures().join("swe-agent/tests/test_data/trajectories");
    let all_preds = find_file(&preds, "all_preds.jsonl").expect("SWE-agent's all_preds.jsonl in the fixtures");
    let text = std::fs::read_to_string(all_preds).unwrap();
    let theirs: Value =
        text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|p| p["instance_id"] == PYDICOM).unwrap();
    let (run, dir) = eval(&cx, PYDICOM, "swe-agent", theirs["model_patch"].as_str().unwrap());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let verdict = report(&dir, PYDICOM);
    eprintln!(
        "pydicom SWE-agent patch: resolved {}, FAIL_TO_PASS failures {:?}",
        verdict["resolved"],
        failures(&verdict, "FAIL_TO_PASS")
    );
    assert_eq!(verdict["patch_successfully_applied"], true, "{verdict}");
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}

/// A scripted policy that makes the gold change with `str_replace_editor` inside the image
/// resolves pytest-11143 through `srl agent` (episode, `.traj`, predictions, grading).
#[test]
fn a_scripted_agent_resolves_pytest_11143_in_its_image() {
    if !ready() {
        return;
    }
    let cx = TestContext::new();
    instance(&cx, "swe-bench-lite-test.json", PYTEST);
    build(&cx);
    let call = |thought: &str, tool: &str, params: &[(&str, &str)]| {
        let params: String = params.iter().map(|(k, v)| format!("<parameter={k}>{v}</parameter>\n")).collect();
        format!("<think>\n{thought}\n</think>\n<function={tool}>\n{params}</function>")
    };
    let old = "                and isinstance(item.value, ast.Constant)\n";
    let new = format!("{old}                and isinstance(item.value.value, str)\n");
    let replies = vec![
        call(
            "Only string constants are docstrings.",
            "str_replace_editor",
            &[
                ("command", "str_replace"),
                ("path", "/testbed/src/_pytest/assertion/rewrite.py"),
                ("old_str", old),
                ("new_str", &new),
            ],
        ),
        call("Done.", "submit", &[]),
    ];
    cx.write("replies.json", serde_json::to_string(&replies).unwrap());
    let repos = repos();
    let run = cx.srl(&[
        "agent",
        "--model",
        "scripted:replies.json",
        "--instances",
        "instances.json",
        "-o",
        "run",
        "--sandbox",
        "docker",
        "--no-pull",
        "--repos",
        repos.to_str().unwrap(),
        "--max-steps",
        "4",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("resolved 1/1"), "{}\n{}", run.stdout, run.stderr);
    let preds = cx.read("run/preds.jsonl");
    assert!(preds.contains("isinstance(item.value.value, str)"), "{preds}");
}

/// `srl replay` of SWE-agent's own pydicom-1458 run (0.x `.traj`, instance id from the file
/// name) inside the instance image: every step runs, and the per-step similarities are printed
/// for the note (steps that differ are explained there).
#[test]
fn swe_agents_pydicom_run_replays_in_its_image() {
    if !ready() {
        return;
    }
    let cx = TestContext::new();
    instance(&cx, "swe-bench-dev-easy.json", PYDICOM);
    build(&cx);
    let traj =
        find_file(&fixtures().join("swe-agent/tests/test_data/trajectories"), "pydicom__pydicom-1458.traj").unwrap();
    let repos = repos();
    let run = cx.srl(&[
        "replay",
        "--instances",
        "instances.json",
        "--sandbox",
        "docker",
        "--no-pull",
        "--repos",
        repos.to_str().unwrap(),
        "--steps",
        "--trajectories",
        traj.to_str().unwrap(),
    ]);
    eprintln!("{}", run.stdout);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let summary = run.stdout.lines().next().unwrap_or_default();
    assert!(summary.starts_with(&format!("{PYDICOM}: ")), "{summary}");
    let similarity: f64 = summary.split("mean observation similarity ").nth(1).unwrap()[..5].parse().unwrap();
    assert!(similarity > 0.5, "most observations come back: {summary}");
}

/// The execution reward on SWE-agent's pydicom-1458 run: the training environment replays the
/// expert's 0.x actions inside the instance image, and at two steps the expert's own action
/// scores 1 while an unrelated one scores less (restores happen inside the container).
#[test]
fn the_execution_reward_scores_pydicom_steps_inside_its_image() {
    use srl::steps::{build_instances, StepOptions, StepStats};
    use srl::train::execution::ExecutionRewards;
    use srl::trajectory::read::{import_paths, ImportOptions};
    if !ready() {
        return;
    }
    let cx = TestContext::new();
    instance(&cx, "swe-bench-dev-easy.json", PYDICOM);
    build(&cx);
    let traj =
        find_file(&fixtures().join("swe-agent/tests/test_data/trajectories"), "pydicom__pydicom-1458.traj").unwrap();
    let mut trajectories = Vec::new();
    import_paths(&[traj], &ImportOptions { format: None, strict: true }, &mut |t| {
        trajectories.push(t);
        Ok(())
    })
    .unwrap();
    let options = StepOptions { context_rounds: Some(1), max_observation_chars: 500 };
    let steps = build_instances(&trajectories[0], &options, &mut StepStats::default());
    let timeout = std::time::Duration::from_secs(120);
    let backend = srl::sandbox::Backend::Docker;
    let mut env = ExecutionRewards::open(&steps, &cx.path("instances.json"), backend, DEFAULT_IMAGE, timeout).unwrap();
    assert_eq!(env.trajectories(), 1, "the trajectory gets its environment from the image");
    for step in [&steps[3], &steps[8]] {
        assert_eq!(env.score(step, &step.target_action).unwrap(), Some(1.0), "{}", step.id);
        let unrelated = srl::action::Action::bash("echo unrelated");
        assert!(env.score(step, &unrelated).unwrap().unwrap() < 1.0, "{}", step.id);
    }
    env.close().unwrap();
}

/// `srl train` with the execution reward on SWE-agent's pydicom-1458 run: two SRL steps of a
/// tiny model with the trajectory's environment opened in the instance image (`reward.tasks`
/// names the instance file; the image holds the repository).
#[test]
fn srl_training_with_the_execution_reward_runs_two_steps_on_pydicom() {
    if !ready() {
        return;
    }
    let cx = TestContext::new();
    instance(&cx, "swe-bench-dev-easy.json", PYDICOM);
    build(&cx);
    support::tiny::write_tiny_model(&cx.path("tiny"));
    let traj =
        find_file(&fixtures().join("swe-agent/tests/test_data/trajectories"), "pydicom__pydicom-1458.traj").unwrap();
    assert_eq!(cx.srl(&["import", traj.to_str().unwrap(), "-o", "t.jsonl"]).code, 0);
    let steps =
        cx.srl(&["steps", "t.jsonl", "-o", "s.jsonl", "--context-rounds", "0", "--max-observation-chars", "200"]);
    assert_eq!(steps.code, 0, "{}", steps.stderr);
    let config = "mode = \"srl\"\nmodel = \"tiny\"\nsteps = \"s.jsonl\"\nmax_prompt_tokens = 100000\n\
                  [srl]\ntrain_steps = 2\nprompts_per_step = 1\ngroup_size = 2\nmax_new_tokens = 8\n\
                  [eval]\nenabled = false\n\
                  [reward]\nw_sim = 0.5\nw_exec = 0.5\ntasks = \"instances.json\"\nsandbox = \"docker\"\n";
    cx.write("train.toml", config);
    let run = cx.srl(&["train", "--config", "train.toml", "--out", "run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let metrics: Vec<Value> = cx.read("run/metrics.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(metrics.len(), 2, "{metrics:?}");
    assert!(run.stderr.contains("execution reward: 1 trajectories have a sandbox"), "{}", run.stderr);
    // The untrained tiny model writes no well-formed action, so its rollouts score −1 before
    // anything runs; that a well-formed action is executed and scored in this environment is
    // `the_execution_reward_scores_pydicom_steps_inside_its_image`.
    assert!(metrics.iter().all(|m| m["stage"] == "srl" && m["sampled_groups"].as_u64() > Some(0)), "{metrics:?}");
}
