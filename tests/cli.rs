//! The `srl` commands other than import: help, steps, reward, similarity, demo.

mod support;

use support::{samples, TestContext};

#[test]
fn help_lists_every_subcommand() {
    let cx = TestContext::new();
    let run = cx.srl(&["--help"]);
    assert_eq!(run.code, 0);
    for command in ["demo", "import", "steps", "reward", "similarity"] {
        assert!(
            run.stdout.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{}",
            run.stdout
        );
    }
}

#[test]
fn bad_usage_exits_2() {
    let cx = TestContext::new();
    assert_eq!(cx.srl(&["import"]).code, 2);
    assert_eq!(cx.srl(&["steps", "x.jsonl", "-o", "y", "--context-rounds", "many"]).code, 2);
    assert_eq!(cx.srl(&["frobnicate"]).code, 2);
}

fn import_samples(cx: &TestContext) {
    let run = cx.srl(&["import", samples().to_str().unwrap(), "-o", "t.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn steps_one_instance_per_expert_step() {
    let cx = TestContext::new();
    import_samples(&cx);
    let run = cx.srl(&["steps", "t.jsonl", "-o", "s.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("built 17 step instances from 2 trajectories (mean context "), "{}", run.stdout);
    let instances: Vec<serde_json::Value> =
        cx.read("s.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(instances.len(), 17);
    let fifth = &instances[5];
    assert_eq!(fifth["schema"], "srl.step/1");
    assert_eq!(fifth["step_index"], 5);
    let roles: Vec<&str> = fifth["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user", "assistant", "user"]);
    assert!(fifth["messages"][1]["content"]
        .as_str()
        .unwrap()
        .ends_with("(3 earlier steps taken on this task are not shown.)"));
    assert!(fifth["target"]
        .as_str()
        .unwrap()
        .starts_with("<function=str_replace_editor>\n<parameter=command>str_replace</parameter>"));

    let again = cx.srl(&["steps", "t.jsonl", "-o", "s2.jsonl"]);
    assert_eq!(again.code, 0);
    assert_eq!(cx.read("s.jsonl"), cx.read("s2.jsonl"), "output is deterministic");

    let all = cx.srl(&["steps", "t.jsonl", "-o", "-", "--context-rounds", "all", "--max-observation-chars", "100"]);
    let last: serde_json::Value = serde_json::from_str(all.stdout.lines().nth(9).unwrap()).unwrap();
    assert_eq!(last["messages"].as_array().unwrap().len(), 2 + 2 * 9);
    assert!(all.stderr.contains("observations truncated"), "summary goes to stderr when records go to stdout");
}

#[test]
fn steps_reports_bad_lines_and_wrong_schema() {
    let cx = TestContext::new();
    import_samples(&cx);
    let mut input = cx.read("t.jsonl");
    input.push_str("{\"schema\": \"other/2\"}\nnot json\n");
    cx.write("bad.jsonl", input);
    let run = cx.srl(&["steps", "bad.jsonl", "-o", "s.jsonl"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error: bad.jsonl: line 3: invalid JSON: missing field `id`"), "{}", run.stderr);
    assert!(run.stderr.contains("error: bad.jsonl: line 4: invalid JSON: expected ident"), "{}", run.stderr);
    assert_eq!(cx.read("s.jsonl").lines().count(), 17, "good trajectories still produced instances");
}

#[test]
fn reward_single_pair() {
    let cx = TestContext::new();
    let run = cx.srl(&[
        "reward",
        "--expert",
        "<function=bash><parameter=command>grep -rn x .</parameter></function>",
        "--completion",
        "<think>search</think><function=bash><parameter=command>grep -nr x .</parameter></function>",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        r#"{"format_ok":true,"similarity":0.9859154929577465,"reward":0.9859154929577465,"action":{"tool":"bash","args":{"command":"grep -nr x ."}},"format_error":null}"#
    );
    let broken = cx.srl(&["reward", "--expert", "```bash\nls\n```", "--completion", "ls"]);
    assert_eq!(
        broken.stdout.trim(),
        r#"{"format_ok":false,"similarity":null,"reward":-1.0,"action":null,"format_error":"completion does not start with <think>"}"#
    );
    let bad_expert = cx.srl(&["reward", "--expert", "just words", "--completion", "x"]);
    assert_eq!(bad_expert.code, 1);
    assert_eq!(
        bad_expert.stderr.trim(),
        "error: --expert: expert action: no action found (expected one <function=…> call)"
    );
}

#[test]
fn reward_pairs_keep_one_line_per_input_line() {
    let cx = TestContext::new();
    let pairs = [
        r#"{"expert": "```bash\nls\n```", "completion": "<think>x</think>\n```bash\nls\n```"}"#,
        r#"{"expert": "```bash\nls\n```"}"#,
        r#"{"expert": "```bash\nls\n```", "completion": "<think>x</think><function=submit></function>"}"#,
    ];
    cx.write("pairs.jsonl", pairs.join("\n") + "\n");
    let run = cx.srl(&["reward", "--pairs", "pairs.jsonl"]);
    assert_eq!(run.code, 1, "a bad line makes the exit code non-zero");
    let lines: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["reward"], 1.0);
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("missing field `completion`"));
    // python3: SequenceMatcher(None, "<function=submit>\n</function>",
    //     "<function=bash>\n<parameter=command>ls</parameter>\n</function>", autojunk=False).ratio()
    assert_eq!(lines[2]["reward"], 0.5777777777777777);
}

#[test]
fn similarity_matches_python_on_a_known_asymmetric_pair() {
    // python3: a = "x" * 150 + "abc" * 30 ; b = "abc" * 30 + "x" * 150
    // SequenceMatcher(None, a, b).ratio() == 0.0 (every character of b is "popular") and SequenceMatcher(None, a, b, autojunk=False).ratio() == 0.625
    let cx = TestContext::new();
    let a = "x".repeat(150) + &"abc".repeat(30);
    let b = "abc".repeat(30) + &"x".repeat(150);
    cx.write(
        "pairs.jsonl",
        format!("{}\n{}\n", serde_json::json!({"a": a, "b": b}), serde_json::json!({"a": "", "b": ""})),
    );
    let off = cx.srl(&["similarity", "--pairs", "pairs.jsonl"]);
    assert_eq!(off.stdout, "{\"ratio\":0.625}\n{\"ratio\":1.0}\n");
    let on = cx.srl(&["similarity", "--pairs", "pairs.jsonl", "--autojunk"]);
    assert_eq!(on.stdout, "{\"ratio\":0.0}\n{\"ratio\":1.0}\n");
}

#[test]
fn demo_runs_the_pipeline_on_embedded_samples() {
    let cx = TestContext::new();
    let run = cx.srl(&["demo", "--out", "d", "--no-train"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("1. import: imported 2 trajectories with 17 steps"), "{}", run.stdout);
    assert!(run.stdout.contains("2. steps:  built 17 step instances"), "{}", run.stdout);
    assert!(
        run.stdout.lines().any(|l| l.contains("the expert's action") && l.trim_end().ends_with("1.000")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.lines().any(|l| l.contains("no <think> block") && l.trim_end().ends_with("-1.000")),
        "{}",
        run.stdout
    );
    assert_eq!(cx.read("d/steps.jsonl").lines().count(), 17);
}

/// `srl exec -- bash -c 'echo a b; echo c'` keeps the quoted argument whole (it used to run
/// `bash -c echo a b; echo c`).
#[test]
fn exec_keeps_argument_boundaries() {
    let cx = TestContext::new();
    cx.write("repo/file.txt", "x\n");
    let run = cx.srl(&["exec", "--sandbox", "local", "--repo", "repo", "--", "bash", "-c", "echo a b; echo c"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let observation: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(observation["output"], "a b\nc\n", "{observation}");
}
