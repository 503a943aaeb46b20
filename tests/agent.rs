//! `srl agent` end to end through the binary: a tiny random candle model (written here) and a
//! scripted policy run episodes on shipped tasks in real sandboxes; every artifact is checked —
//! `srl.trajectory/1` records, SWE-agent `.traj` files that our importer reads back, SWE-bench
//! predictions, the grading report and the printed resolve rate — and `srl replay` of an
//! agent's episode reproduces its observations. Bad input fails with a message naming it.
//!
//! The local sandbox needs nothing; the Docker run skips with a message without a daemon (or
//! the image) unless SRL_REQUIRE_DOCKER=1; grading real patches needs host pytest for the local
//! backend and skips without it unless SRL_REQUIRE_PYTEST is set.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use srl::trajectory::read::{import_paths, ImportOptions};
use srl::trajectory::Trajectory;
use support::tiny::write_tiny_model;
use support::{tasks_dir, TestContext};

const TASKS: [&str; 2] = ["unitly", "shopcart"];

fn instance(name: &str) -> Value {
    let path = tasks_dir().join(name).join("instance.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The two tasks' instances as `instances.jsonl` in the test directory.
fn write_instances(cx: &TestContext) -> Vec<String> {
    let instances: Vec<Value> = TASKS.iter().map(|name| instance(name)).collect();
    let lines: Vec<String> = instances.iter().map(Value::to_string).collect();
    cx.write("instances.jsonl", lines.join("\n") + "\n");
    instances.iter().map(|i| i["instance_id"].as_str().unwrap().to_string()).collect()
}

fn agent(cx: &TestContext, model: &str, sandbox: &str, max_steps: &str, extra: &[&str]) -> support::Run {
    let tasks = tasks_dir();
    let mut args = vec!["agent", "--model", model, "--instances", "instances.jsonl", "-o", "run"];
    args.extend(["--sandbox", sandbox, "--repos", tasks.to_str().unwrap(), "--max-steps", max_steps]);
    args.extend(["--workers", "2", "--max-tokens", "8", "--timeout", "60"]);
    args.extend(extra);
    cx.srl(&args)
}

fn trajectories(cx: &TestContext) -> Vec<Trajectory> {
    cx.read("run/trajectories.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not srl.trajectory/1: {e}: {line}")))
        .collect()
}

/// Every artifact of a run over `ids`; returns the `.traj` files re-imported by our importer.
fn check_artifacts(cx: &TestContext, ids: &[String], model_name: &str) -> Vec<Trajectory> {
    let ours = trajectories(cx);
    assert_eq!(ours.iter().map(|t| t.instance_id.clone().unwrap()).collect::<Vec<_>>(), ids);
    for trajectory in &ours {
        assert_eq!((trajectory.schema.as_str(), trajectory.source_format.as_str()), ("srl.trajectory/1", "srl-agent"));
        assert!(trajectory.usage.as_ref().unwrap().model_calls > 0);
        assert!(trajectory.steps.iter().all(|s| s.usage.as_ref().is_some_and(|u| u.model_calls > 0)));
    }
    let traj_files: Vec<PathBuf> = ids.iter().map(|id| cx.path(&format!("run/trajs/{id}.traj"))).collect();
    let mut reimported = Vec::new();
    let options = ImportOptions { format: None, strict: true };
    let summary = import_paths(&traj_files, &options, &mut |t| {
        reimported.push(t);
        Ok(())
    })
    .unwrap();
    assert_eq!(summary.problems.len(), 0);
    for (back, ours) in reimported.iter().zip(&ours) {
        assert_eq!(back.source_format, "swe-agent");
        assert_eq!((&back.instance_id, &back.problem_statement), (&ours.instance_id, &ours.problem_statement));
        assert_eq!((&back.submission, &back.exit_status), (&ours.submission, &ours.exit_status));
        let plain = |t: &Trajectory| -> Vec<(String, String, String)> {
            t.steps.iter().map(|s| (s.thought.clone(), s.action_text.clone(), s.observation.clone())).collect()
        };
        assert_eq!(plain(back), plain(ours));
        let traj: Value =
            serde_json::from_str(&cx.read(&format!("run/trajs/{}.traj", ours.instance_id.as_ref().unwrap()))).unwrap();
        let stats = &traj["info"]["model_stats"];
        let usage = ours.usage.as_ref().unwrap();
        assert_eq!(
            (stats["api_calls"].as_u64(), stats["tokens_sent"].as_u64()),
            (Some(usage.model_calls), Some(usage.prompt_tokens))
        );
        for entry in traj["trajectory"].as_array().unwrap() {
            assert!(["action", "observation", "response", "thought"].iter().all(|k| entry[k].is_string()), "{entry}");
        }
    }
    let predictions: Vec<Value> =
        cx.read("run/preds.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(predictions.len(), ids.len());
    for (prediction, trajectory) in predictions.iter().zip(&ours) {
        assert_eq!(prediction["instance_id"].as_str(), trajectory.instance_id.as_deref());
        assert_eq!(prediction["model_name_or_path"], model_name);
        assert_eq!(prediction["model_patch"].as_str().unwrap(), trajectory.submission.as_deref().unwrap_or(""));
    }
    let report: Value = serde_json::from_str(&cx.read("run/report.json")).unwrap();
    assert_eq!(report["total_instances"], ids.len());
    assert_eq!(report["error_instances"], 0, "{report}");
    let summary: Value = serde_json::from_str(&cx.read("run/summary.json")).unwrap();
    assert_eq!(summary["instances"], ids.len());
    assert_eq!(summary["resolved"], report["resolved_instances"]);
    reimported
}

/// The tiny model never writes `<think>`: every reply is a format error answered with the
/// corrective message, each one a step of the limit, and nothing is submitted.
fn tiny_model_run(sandbox: &str) {
    let cx = TestContext::new();
    write_tiny_model(&cx.path("tiny"));
    let ids = write_instances(&cx);
    let run = agent(&cx, "tiny", sandbox, "3", &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("agent: 2 episodes in "), "{}", run.stdout);
    assert!(run.stdout.contains("resolved 0/2 (0.0%)"), "{}", run.stdout);
    assert!(run.stdout.contains("(0 submitted, 0 errors), 0 steps, 6 format errors"), "{}", run.stdout);
    let reimported = check_artifacts(&cx, &ids, "tiny");
    for (trajectory, back) in trajectories(&cx).iter().zip(&reimported) {
        let usage = trajectory.usage.as_ref().unwrap();
        // A reply that happens to hold `<think>…</think>` + a call is astronomically unlikely.
        assert_eq!((usage.model_calls, usage.format_errors), (3, 3), "{}", trajectory.id);
        assert!(usage.prompt_tokens > 3 * 1000, "byte-level prompts of the problem: {usage:?}");
        assert!((3..=24).contains(&usage.completion_tokens), "at most 8 tokens per reply: {usage:?}");
        assert_eq!(trajectory.exit_status.as_deref(), Some("exit_step_limit"));
        assert_eq!(back.steps.len(), 0);
    }
    let report: Value = serde_json::from_str(&cx.read("run/report.json")).unwrap();
    assert_eq!(report["empty_patch_instances"], 2);
    let traj: Value = serde_json::from_str(&cx.read(&format!("run/trajs/{}.traj", ids[0]))).unwrap();
    let history = traj["history"].as_array().unwrap();
    assert_eq!(history.len(), 2 + 2 * 3, "system, problem, then reply + corrective message per turn");
    assert!(history[3]["content"].as_str().unwrap().starts_with("Your reply was not in the required format"));
}

#[test]
fn tiny_model_episodes_in_the_local_sandbox_write_every_artifact() {
    tiny_model_run("local");
}

#[test]
fn tiny_model_episodes_in_docker_write_every_artifact() {
    if docker_ready() {
        tiny_model_run("docker");
    }
}

fn docker_ready() -> bool {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let problem = runtime.block_on(async {
        if !srl::sandbox::docker::daemon_available().await {
            return Some("no Docker daemon (run scripts/docker-up.sh)".to_string());
        }
        let Ok(docker) = bollard::Docker::connect_with_local_defaults() else {
            return Some("cannot connect to the Docker daemon".to_string());
        };
        let image = srl::sandbox::docker::DEFAULT_IMAGE;
        docker.inspect_image(image).await.err().map(|_| format!("image {image} is missing (scripts/sandbox-image.sh)"))
    });
    let Some(problem) = problem else { return true };
    assert!(!std::env::var("SRL_REQUIRE_DOCKER").is_ok_and(|v| v == "1"), "SRL_REQUIRE_DOCKER=1 but {problem}");
    println!("skipping: {problem}");
    false
}

/// Grading a real patch in the local sandbox runs the task's tests with the host's python3.
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

/// Replies of a scripted policy: a format error, a look around, unitly's gold patch, a view
/// with the editor, submit. It resolves unitly; on shopcart the patch does not apply.
fn scripted_replies() -> Vec<String> {
    let gold = std::fs::read_to_string(tasks_dir().join("unitly/gold.patch")).unwrap();
    let call = |thought: &str, tool: &str, params: &[(&str, &str)]| {
        let params: String = params.iter().map(|(k, v)| format!("<parameter={k}>{v}</parameter>\n")).collect();
        format!("<think>\n{thought}\n</think>\n<function={tool}>\n{params}</function>")
    };
    vec![
        "The bug is in scale(); let me fix it.".to_string(),
        call("Look around first.", "bash", &[("command", "ls")]),
        call("Apply the fix.", "bash", &[("command", &format!("patch -p1 <<'SRL_EOF'\n{gold}SRL_EOF"))]),
        call(
            "Check it.",
            "str_replace_editor",
            &[("command", "view"), ("path", "/testbed/unitly/prefixes.py"), ("view_range", "[25, 32]")],
        ),
        call("Done.", "submit", &[]),
    ]
}

#[test]
fn scripted_episodes_submit_get_graded_and_replay_identically() {
    if !host_pytest() {
        return;
    }
    let cx = TestContext::new();
    let ids = write_instances(&cx);
    cx.write("replies.json", serde_json::to_string(&scripted_replies()).unwrap());
    let run = agent(&cx, "scripted:replies.json", "local", "10", &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("(2 submitted, 0 errors), 8 steps, 2 format errors"), "{}", run.stdout);
    assert!(run.stdout.contains("resolved 1/2 (50.0%)"), "{}", run.stdout);
    let reimported = check_artifacts(&cx, &ids, "replies");
    let ours = trajectories(&cx);
    assert_eq!(ours[0].exit_status.as_deref(), Some("submitted"));
    assert_eq!(
        ours[0].steps.iter().map(|s| s.action.tool.as_str()).collect::<Vec<_>>(),
        ["bash", "bash", "str_replace_editor", "submit"]
    );
    assert!(ours[0].submission.as_deref().unwrap().contains("if magnitude == 0:"));
    assert_eq!(
        ours[0].steps[0].usage.as_ref().unwrap().format_errors,
        1,
        "the rejected first reply is charged to step 1"
    );
    assert_eq!(reimported[0].steps.len(), 4);
    let summary: Value = serde_json::from_str(&cx.read("run/summary.json")).unwrap();
    assert_eq!(summary["resolve_rate"], 0.5);
    assert_eq!(summary["episodes"][0]["grade"], "resolved");

    // Replay parity: `srl replay` of the agent's `.traj` files reproduces every observation.
    let tasks = tasks_dir();
    let trajs: Vec<String> = ids.iter().map(|id| format!("run/trajs/{id}.traj")).collect();
    let mut args =
        vec!["replay", "--instances", "instances.jsonl", "--sandbox", "local", "--repos", tasks.to_str().unwrap()];
    args.extend(["--steps", "--trajectories", &trajs[0], &trajs[1]]);
    let replay = cx.srl(&args);
    assert_eq!(replay.code, 0, "{}\n{}", replay.stdout, replay.stderr);
    for id in &ids {
        assert!(
            replay.stdout.contains(&format!("{id}: 4 steps, mean observation similarity 1.000, 4 identical")),
            "{}",
            replay.stdout
        );
    }
    let graded = cx.srl(&[
        "replay",
        "--instances",
        "instances.jsonl",
        "--sandbox",
        "local",
        "--repos",
        tasks.to_str().unwrap(),
        "--grade",
        "--trajectories",
        &trajs[0],
    ]);
    assert!(graded.stdout.contains(", resolved"), "{}\n{}", graded.stdout, graded.stderr);
}

#[test]
fn bad_input_is_named() {
    let cx = TestContext::new();
    write_instances(&cx);
    let missing_model = cx.srl(&["agent", "--model", "nope.gguf", "--instances", "instances.jsonl", "-o", "run"]);
    assert_eq!(missing_model.code, 1);
    assert!(missing_model.stderr.contains("--model nope.gguf: no such file or directory"), "{}", missing_model.stderr);
    let ftp = cx.srl(&[
        "agent",
        "--model",
        "openai:ftp://api.example.com/v1#m",
        "--instances",
        "instances.jsonl",
        "-o",
        "run",
    ]);
    assert!(ftp.stderr.contains("is not an http:// or https:// URL"), "{}", ftp.stderr);
    let no_name =
        cx.srl(&["agent", "--model", "openai:http://127.0.0.1:9/v1", "--instances", "instances.jsonl", "-o", "run"]);
    assert!(no_name.stderr.contains("expected openai:URL#MODEL"), "{}", no_name.stderr);
    let missing_instances =
        cx.srl(&["agent", "--model", "scripted:r.json", "--instances", "missing.jsonl", "-o", "run"]);
    assert_eq!(missing_instances.code, 1);
    assert!(missing_instances.stderr.contains("failed to read missing.jsonl"), "{}", missing_instances.stderr);
    cx.write("bad.json", "{\"not\": \"a list\"}");
    let bad_script = cx.srl(&["agent", "--model", "scripted:bad.json", "--instances", "instances.jsonl", "-o", "run"]);
    assert!(bad_script.stderr.contains("bad.json: expected a JSON list of reply strings"), "{}", bad_script.stderr);
    assert!(!cx.path("run").exists(), "nothing is written before the model and the instances load");
}

/// A server that does not answer fails each episode with a message naming the URL; the batch
/// still finishes, writes its artifacts and exits 1.
#[test]
fn an_unreachable_server_fails_episodes_not_the_run() {
    let cx = TestContext::new();
    let ids = write_instances(&cx);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let model = format!("openai:http://127.0.0.1:{port}/v1#m");
    let run = agent(&cx, &model, "local", "3", &["--retries", "1", "--no-eval"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let endpoint = format!("POST http://127.0.0.1:{port}/v1/chat/completions");
    assert!(run.stderr.contains(&endpoint) && run.stderr.contains("after 2 attempts"), "{}", run.stderr);
    assert!(run.stdout.contains("(0 submitted, 2 errors)") && run.stdout.contains("not graded"), "{}", run.stdout);
    assert_eq!(trajectories(&cx).len(), ids.len());
    assert!(trajectories(&cx).iter().all(|t| t.exit_status.as_deref() == Some("exit_error")));
}
