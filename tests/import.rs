//! `srl import`: real fixture data, bad input, strict mode, streaming.

mod support;

use support::{fixtures, samples, TestContext};

#[test]
fn shipped_samples_import() {
    let cx = TestContext::new();
    let samples = samples();
    let run = cx.srl(&["import", samples.to_str().unwrap(), "-o", "t.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        "imported 2 trajectories with 17 steps from 2 files (1 skipped turns without an action, 0 other files ignored, 0 errors)"
    );
    let lines: Vec<serde_json::Value> = cx.read("t.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["schema"], "srl.trajectory/1");
    assert_eq!(lines[0]["instance_id"], "batchkit__batchkit-chunked-tail");
    assert_eq!(lines[0]["steps"][9]["action"]["tool"], "submit");
    assert_eq!(
        lines[1]["steps"][0]["action_text"],
        "<function=bash>\n<parameter=command>grep -rn 'def parse_duration' /testbed</parameter>\n</function>"
    );
    assert_eq!(lines[1]["steps"][0]["exit_code"], 0);
}

#[test]
fn import_is_repeatable_and_ids_are_stable() {
    let cx = TestContext::new();
    let samples = samples();
    cx.srl(&["import", samples.to_str().unwrap(), "-o", "a.jsonl"]);
    let copy = cx.path("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&samples).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    cx.srl(&["import", "copy", "-o", "b.jsonl"]);
    let ids = |name: &str| -> Vec<String> {
        cx.read(name)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("a.jsonl"), ids("b.jsonl"), "ids depend on content, not on where the file lives");
}

#[test]
fn bad_files_are_reported_and_the_rest_is_imported() {
    let cx = TestContext::new();
    let good = std::fs::read_to_string(samples().join("chunked-xml.jsonl")).unwrap();
    cx.write("in/truncated.traj", &good[..good.len() / 2]);
    cx.write("in/binary.json", [0u8, 159, 146, 150, 255, 1, 2]);
    cx.write("in/wrong_types.jsonl", "{\"messages\": 5, \"instance_id\": \"x\"}\n");
    let mut mixed = good.clone();
    mixed.push_str("{\"messages\": [\n");
    mixed.push_str(&good);
    cx.write("in/mixed.jsonl", &mixed);
    let mut latin1 = b"{\"messages\": [{\"role\": \"user\", \"content\": \"caf".to_vec();
    latin1.extend_from_slice(&[0xe9, b'"', b'}', b']', b'}', b'\n']);
    cx.write("in/latin1.jsonl", latin1);

    let run = cx.srl(&[
        "import",
        "in/truncated.traj",
        "in/binary.json",
        "in/wrong_types.jsonl",
        "in/mixed.jsonl",
        "in/latin1.jsonl",
        "-o",
        "out.jsonl",
    ]);
    assert_eq!(run.code, 1);
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 5, "{}", run.stderr);
    assert!(errors[0].starts_with("error: in/truncated.traj: invalid JSON: EOF while parsing"), "{}", errors[0]);
    assert!(errors[1].starts_with("error: in/binary.json: not UTF-8 (invalid byte at offset 1)"), "{}", errors[1]);
    assert!(errors[2].starts_with("error: in/wrong_types.jsonl: record 1: "), "{}", errors[2]);
    assert!(errors[3].starts_with("error: in/mixed.jsonl: record 2: invalid JSON"), "{}", errors[3]);
    assert!(errors[4].starts_with("error: in/latin1.jsonl: record 1: not UTF-8"), "{}", errors[4]);
    assert!(run.stdout.starts_with("imported 2 trajectories with 20 steps from 1 files"), "{}", run.stdout);
    assert_eq!(cx.read("out.jsonl").lines().count(), 2, "both good records of mixed.jsonl were kept");
}

#[test]
fn strict_stops_at_the_first_problem_and_keeps_the_old_output() {
    let cx = TestContext::new();
    cx.write("out.jsonl", "previous run\n");
    cx.write("in/a_bad.json", "{");
    let run = cx.srl(&["import", "--strict", "in/a_bad.json", samples().to_str().unwrap(), "-o", "out.jsonl"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("error: in/a_bad.json: invalid JSON"), "{}", run.stderr);
    assert_eq!(cx.read("out.jsonl"), "previous run\n", "a failed run never clobbers its output");
}

#[test]
fn huge_observation_imports() {
    let cx = TestContext::new();
    let observation = "x".repeat(100 << 20);
    let record = serde_json::json!({"messages": [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "<pr_description>\nbig\n</pr_description>"},
        {"role": "assistant", "content": "look\n\n<function=bash>\n<parameter=command>cat big.log</parameter>\n</function>"},
        {"role": "user", "content": format!("OBSERVATION:\n{observation}")},
        {"role": "assistant", "content": "done\n\n<function=submit>\n</function>"},
        {"role": "user", "content": "OBSERVATION:\n"},
    ], "instance_id": "big"});
    cx.write("big.jsonl", format!("{record}\n"));
    drop(observation);
    let run = cx.srl(&["import", "big.jsonl", "-o", "out.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let steps = cx.srl(&["steps", "out.jsonl", "-o", "steps.jsonl", "--context-rounds", "all"]);
    assert_eq!(steps.code, 0, "{}", steps.stderr);
    assert!(steps.stdout.starts_with("built 2 step instances from 1 trajectories"), "{}", steps.stdout);
    assert!(steps.stdout.trim().ends_with(", 1 observations truncated)"), "{}", steps.stdout);
    let second = cx.read("steps.jsonl").lines().nth(1).unwrap().len();
    assert!(second < 10_000, "the 100 MB observation reaches the prompt cut to head and tail ({second} bytes)");
}

#[test]
fn unknown_files_named_explicitly_are_errors_found_while_walking_are_ignored() {
    let cx = TestContext::new();
    cx.write("dir/report.json", r#"{"resolved": true}"#);
    cx.write("dir/notes.txt", "hello");
    let walked = cx.srl(&["import", "dir", "-o", "out.jsonl"]);
    assert_eq!(walked.code, 1, "nothing imported is an error");
    assert_eq!(walked.stderr.trim(), "error: no trajectories found in the given paths");
    let named = cx.srl(&["import", "dir/report.json", "-o", "out.jsonl"]);
    assert_eq!(named.code, 1);
    assert_eq!(
        named.stderr.lines().next().unwrap(),
        "error: dir/report.json: not a trajectory in any known format (use --format to force one)"
    );
}

#[test]
fn missing_path_is_a_clear_error() {
    let cx = TestContext::new();
    let run = cx.srl(&["import", "nope", "-o", "out.jsonl"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("error: cannot read nope: No such file or directory"), "{}", run.stderr);
}

#[test]
fn whole_fixture_folder_imports() {
    let cx = TestContext::new();
    let run = cx.srl(&["import", fixtures().to_str().unwrap(), "-o", "all.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = cx.read("all.jsonl");
    let formats: std::collections::BTreeMap<String, usize> = lines.lines().fold(Default::default(), |mut acc, l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        *acc.entry(v["source_format"].as_str().unwrap().to_string()).or_default() += 1;
        acc
    });
    assert_eq!(format!("{formats:?}"), FIXTURE_FORMATS, "{}", run.stdout);
    assert_eq!(run.stdout.trim(), FIXTURE_SUMMARY);
}

// Totals over the whole folder. Per-file step counts, and how each was established independently
// of the importers (python3 counts of tool calls, fenced blocks, trajectory entries), are asserted
// next to each importer (tests at the bottom of src/trajectory/<format>.rs). The totals are their
// sums: mini-swe-agent 86 steps (10+2+18+36+20), OpenHands output/events 140 (22+33+48, 4+22,
// 2+4+1+4), OpenHands completions 124 (10+28+16+50+20), SWE-agent 207 (16 .traj + the demo YAML),
// SWE-smith 103 (37+44+22) = 660; skipped turns 4 + 3 (OpenHands) + 2 (completions) = 9. The 20
// other files are reports, instances, predictions, run configs and the SWE-agent args.yaml.
const FIXTURE_FORMATS: &str =
    r#"{"mini-swe-agent": 5, "openhands": 9, "openhands-completions": 5, "swe-agent": 17, "swe-smith": 3}"#;
const FIXTURE_SUMMARY: &str = "imported 39 trajectories with 660 steps from 34 files (9 skipped turns without an action, 20 other files ignored, 0 errors)";

/// SWE-agent 0.x keeps the instance id only in the file name; OpenHands' completions keep it in
/// the folder name. Without it `srl replay` cannot find the run's instance.
#[test]
fn instance_ids_come_from_the_record_or_the_names_the_scaffold_gave() {
    let cx = TestContext::new();
    let fixtures = fixtures();
    let swe_agent = fixtures.join("swe-agent/tests/test_data/trajectories");
    let pydicom = swe_agent.join(
        "gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__c-3.00__install-1/pydicom__pydicom-1458.traj",
    );
    let test_repo = swe_agent.join(
        "gpt4__swe-agent__test-repo__default_from_url__t-0.00__p-0.95__c-3.00__install-1/swe-agent__test-repo-i1.traj",
    );
    let completions = fixtures.join(
        "openhands-eval-outputs/evaluation/evaluation_outputs/outputs/princeton-nlp__SWE-bench_Verified-test/CodeActAgent/\
         claude-3-5-sonnet-20241022_maxiter_50_N_v0.15.0-no-hint-no-condensation-run_1/llm_completions/django__django-11206",
    );
    let mini = fixtures.join(
        "mini-swe-agent-gemini3/swebench_results/20251118_gemini-3-pro-74pct/trajs/pallets__flask-5014/pallets__flask-5014.traj.json",
    );
    let demo = fixtures.join("swe-agent/trajectories/demonstrations/function_calling_simple.traj");
    let paths = [&pydicom, &test_repo, &mini, &completions, &demo].map(|p| p.to_str().unwrap().to_string());
    let mut args = vec!["import"];
    args.extend(paths.iter().map(String::as_str));
    args.extend(["-o", "t.jsonl"]);
    let run = cx.srl(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let got: Vec<String> = cx
        .read("t.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let id = v["id"].as_str().unwrap();
            format!("{} {} {}", &id[..id.len() - 9], v["instance_id"], v["instance_id_source"])
        })
        .collect();
    assert_eq!(
        got,
        [
            r#"pydicom__pydicom-1458 "pydicom__pydicom-1458" "file name""#,
            r#"swe-agent__test-repo-i1 "swe-agent__test-repo-i1" "file name""#,
            r#"pallets__flask-5014 "pallets__flask-5014" "record""#,
            r#"django__django-11206 "django__django-11206" "folder name""#,
            "function_calling_simple null null",
        ]
    );
}
