//! The shipped tasks, replay, eval and grade, through the `srl` binary with real sandboxes
//! (the local backend, so the suite needs no Docker; `tests/sandbox_docker.rs` covers Docker).

mod support;

use serde_json::Value;
use support::{tasks_dir, TestContext};

/// The local backend runs task tests with the host's Debian python3, which needs pytest
/// (`apt-get install python3-pytest`). Without it the tests that run task suites skip with a
/// message; `.ci/run` installs it and sets SRL_REQUIRE_PYTEST=1 so they cannot skip there.
fn host_pytest() -> bool {
    let present = std::process::Command::new("/usr/bin/python3")
        .args(["-m", "pytest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !present {
        assert!(
            std::env::var("SRL_REQUIRE_PYTEST").is_err(),
            "SRL_REQUIRE_PYTEST is set but /usr/bin/python3 has no pytest"
        );
        println!("skipping: /usr/bin/python3 has no pytest (apt-get install python3-pytest)");
    }
    present
}

fn task_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(tasks_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("task.json").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn export(cx: &TestContext) -> Vec<Value> {
    let tasks = tasks_dir();
    let run = cx.srl(&["tasks", "export", "--tasks", tasks.to_str().unwrap(), "-o", "instances.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    cx.read("instances.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn predictions(cx: &TestContext, name: &str, instances: &[Value], patch: impl Fn(&Value) -> String) {
    let lines: Vec<String> = instances
        .iter()
        .map(|i| {
            serde_json::json!({"instance_id": i["instance_id"], "model_name_or_path": "m", "model_patch": patch(i)})
                .to_string()
        })
        .collect();
    cx.write(name, lines.join("\n") + "\n");
}

fn eval(cx: &TestContext, predictions: &str, run_id: &str, extra: &[&str]) -> support::Run {
    let tasks = tasks_dir();
    let mut args = vec!["eval", "--instances", "instances.jsonl", "--predictions", predictions, "--run-id", run_id];
    args.extend(["--repos", tasks.to_str().unwrap(), "--sandbox", "local", "--workers", "2"]);
    args.extend(extra);
    cx.srl(&args)
}

#[test]
fn at_least_twelve_tasks_with_derived_instances() {
    let cx = TestContext::new();
    let instances = export(&cx);
    assert!(task_names().len() >= 12, "{:?}", task_names());
    assert_eq!(instances.len(), task_names().len());
    let mut kinds = std::collections::BTreeSet::new();
    for name in task_names() {
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(tasks_dir().join(&name).join("task.json")).unwrap()).unwrap();
        kinds.insert(meta["kind"].as_str().unwrap().to_string());
    }
    assert!(kinds.len() >= 10, "bug kinds vary: {kinds:?}");
    for instance in &instances {
        assert!(!instance["FAIL_TO_PASS"].as_array().unwrap().is_empty(), "{}", instance["instance_id"]);
        assert!(!instance["PASS_TO_PASS"].as_array().unwrap().is_empty(), "{}", instance["instance_id"]);
    }
}

#[test]
fn gold_patches_resolve_everything_and_reruns_resume() {
    if !host_pytest() {
        return;
    }
    let cx = TestContext::new();
    let instances = export(&cx);
    predictions(&cx, "gold.jsonl", &instances, |i| i["patch"].as_str().unwrap().to_string());
    let run = eval(&cx, "gold.jsonl", "gold", &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let summary: Value = serde_json::from_str(&cx.read("m.gold.json")).unwrap();
    assert_eq!(summary["resolved_instances"], instances.len(), "{summary:#}");
    assert_eq!(summary["error_instances"], 0);
    let first = instances[0]["instance_id"].as_str().unwrap();
    let report: Value =
        serde_json::from_str(&cx.read(&format!("logs/run_evaluation/gold/m/{first}/report.json"))).unwrap();
    assert_eq!(report[first]["resolved"], true);
    assert!(report[first]["tests_status"]["FAIL_TO_PASS"]["failure"].as_array().unwrap().is_empty());
    assert!(cx.path(&format!("logs/run_evaluation/gold/m/{first}/test_output.txt")).is_file());
    assert!(cx.path(&format!("logs/run_evaluation/gold/m/{first}/patch.diff")).is_file());

    let again = eval(&cx, "gold.jsonl", "gold", &[]);
    assert_eq!(again.code, 0);
    assert!(again.stdout.contains(&format!("({} from an earlier run)", instances.len())), "{}", again.stdout);
}

#[test]
fn bad_predictions_are_model_failures_and_hangs_are_errors() {
    if !host_pytest() {
        return;
    }
    let cx = TestContext::new();
    let instances: Vec<Value> = export(&cx).into_iter().take(3).collect();
    let mut kept = String::new();
    for instance in &instances {
        kept.push_str(&instance.to_string());
        kept.push('\n');
    }
    cx.write("instances.jsonl", &kept);
    predictions(&cx, "bad.jsonl", &instances, |i| match i["instance_id"].as_str().unwrap() {
        id if id == instances[0]["instance_id"] => String::new(),
        id if id == instances[1]["instance_id"] => {
            "diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-x\n+y\n".into()
        }
        _ => i["patch"].as_str().unwrap().to_string(),
    });
    let run = eval(&cx, "bad.jsonl", "bad", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: Value = serde_json::from_str(&cx.read("m.bad.json")).unwrap();
    assert_eq!(summary["empty_patch_instances"], 1);
    assert_eq!(summary["unresolved_instances"], 1, "a patch that does not apply is the model's failure");
    assert_eq!(summary["resolved_instances"], 1);
    let id = instances[1]["instance_id"].as_str().unwrap();
    let report: Value = serde_json::from_str(&cx.read(&format!("logs/run_evaluation/bad/m/{id}/report.json"))).unwrap();
    assert_eq!(report[id]["patch_successfully_applied"], false);

    let mut hanging = instances[2].clone();
    hanging["test_command"] = "sleep 60".into();
    cx.write("instances.jsonl", format!("{hanging}\n"));
    predictions(&cx, "one.jsonl", &[hanging.clone()], |i| i["patch"].as_str().unwrap().to_string());
    let started = std::time::Instant::now();
    let run = eval(&cx, "one.jsonl", "hang", &["--timeout", "2"]);
    assert!(started.elapsed().as_secs() < 20, "a hanging test command must not hang the harness");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("the tests timed out after 2 s"), "{}", run.stderr);
    let summary: Value = serde_json::from_str(&cx.read("m.hang.json")).unwrap();
    assert_eq!(summary["error_instances"], 1, "infrastructure failures are counted apart");
}

#[test]
fn every_shipped_trajectory_replays_and_resolves_its_task() {
    if !host_pytest() {
        return;
    }
    let cx = TestContext::new();
    export(&cx);
    let trajectories: Vec<String> =
        task_names().iter().map(|n| tasks_dir().join(n).join("trajectory.jsonl").display().to_string()).collect();
    let tasks = tasks_dir();
    let mut args = vec![
        "replay",
        "--instances",
        "instances.jsonl",
        "--repos",
        tasks.to_str().unwrap(),
        "--sandbox",
        "local",
        "--grade",
    ];
    args.push("--trajectories");
    args.extend(trajectories.iter().map(String::as_str));
    let run = cx.srl(&args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), task_names().len(), "{}", run.stdout);
    for line in lines {
        assert!(line.ends_with(", resolved"), "{line}");
        let similarity: f64 = line.split("mean observation similarity ").nth(1).unwrap()[..5].parse().unwrap();
        assert!(similarity > 0.95, "observations are reproduced: {line}");
    }
}

#[test]
fn grade_reproduces_a_saved_report_and_names_missing_fields() {
    let cx = TestContext::new();
    let fixtures = support::fixtures().join("swe-smith/tests/test_logs");
    let instance = fixtures.join("pandas-dev__pandas.95280573.pr_53652.json");
    let log = fixtures.join("run_evaluation/pandas-dev__pandas.95280573.pr_53652/test_output.txt");
    let run = cx.srl(&["grade", "--instance-file", instance.to_str().unwrap(), "--log", log.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got: Value = serde_json::from_str(&run.stdout).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("run_evaluation/pandas-dev__pandas.95280573.pr_53652/report.json"))
            .unwrap(),
    )
    .unwrap();
    let id = "pandas-dev__pandas.95280573.pr_53652";
    assert_eq!(got[id]["tests_status"], expected["tests_status"]);
    assert_eq!(got[id]["resolved"], expected["resolved"]);

    cx.write("broken.jsonl", "{\"repo\": \"a/b\", \"instance_id\": \"a__b-1\", \"base_commit\": \"x\", \"patch\": \"\", \"problem_statement\": \"p\"}\n");
    let run = cx.srl(&["grade", "--instance-file", "broken.jsonl", "--log", log.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("FAIL_TO_PASS"), "{}", run.stderr);
    cx.write("garbage.log", "no tests here\n\u{1}\u{2}");
    let run = cx.srl(&["grade", "--instance-file", instance.to_str().unwrap(), "--log", "garbage.log"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no test results"), "{}", run.stderr);
}

#[test]
fn mine_turns_a_fix_commit_into_the_same_instance() {
    if !host_pytest() {
        return;
    }
    let cx = TestContext::new();
    let task = tasks_dir().join("unitly");
    let repo = cx.path("unitly");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").args(args).current_dir(&repo).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::process::Command::new("cp")
        .args(["-r", task.join("repo").to_str().unwrap(), repo.to_str().unwrap()])
        .status()
        .unwrap();
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"]);
    git(&["apply", task.join("gold.patch").to_str().unwrap(), task.join("test.patch").to_str().unwrap()]);
    git(&["add", "-A"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "humanize(0) no longer picks the smallest prefix",
    ]);
    let run = cx.srl(&["mine", "--repo", "unitly", "--commit", "HEAD", "--sandbox", "local", "-o", "mined.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mined: Value = serde_json::from_str(cx.read("mined.jsonl").trim()).unwrap();
    let shipped: Value = serde_json::from_str(&std::fs::read_to_string(task.join("instance.json")).unwrap()).unwrap();
    assert_eq!(mined["FAIL_TO_PASS"], shipped["FAIL_TO_PASS"]);
    assert_eq!(mined["problem_statement"], "humanize(0) no longer picks the smallest prefix");
    assert!(mined["test_patch"].as_str().unwrap().contains("+++ b/tests/"));
    assert!(!mined["patch"].as_str().unwrap().contains("+++ b/tests/"));
    let not_a_fix = cx.srl(&["mine", "--repo", "unitly", "--commit", "HEAD~1", "--sandbox", "local"]);
    assert_eq!(not_a_fix.code, 1);
    assert!(not_a_fix.stderr.contains("no parent"), "{}", not_a_fix.stderr);
}
