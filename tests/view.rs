//! `srl view` end to end: the real binary serves the real fixtures, the shipped tasks and a
//! small training run written here; its API is checked over HTTP (traversal refused), and its
//! page in headless Chromium (DOM, keyboard, screenshots under `target/view-screenshots/`).

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use support::browser::{http, Browser};
use support::tiny::write_tiny_model;
use support::{fixtures, samples, TestContext};

/// A running `srl view`, stopped when dropped.
struct Viewer {
    child: Child,
    port: u16,
}

impl Viewer {
    fn start(paths: &[&Path]) -> Viewer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_srl"))
            .arg("view")
            .args(paths)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start srl view");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let serving =
            lines.find_map(|l| l.ok().filter(|l| l.starts_with("serving "))).expect("srl view printed no URL");
        let url = serving.split_whitespace().nth(1).unwrap();
        let port = url.trim_end_matches('/').rsplit(':').next().unwrap().parse().unwrap();
        Viewer { child, port }
    }

    fn url(&self, hash: &str) -> String {
        format!("http://127.0.0.1:{}/{hash}", self.port)
    }

    fn get(&self, target: &str) -> Value {
        let (status, body) = http(self.port, "GET", target, None);
        assert_eq!(status, 200, "GET {target}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    fn run_index(&self, label_suffix: &str) -> usize {
        let runs = self.get("/api/runs");
        let run =
            runs["runs"].as_array().unwrap().iter().find(|r| r["label"].as_str().unwrap().ends_with(label_suffix));
        run.unwrap_or_else(|| panic!("no run {label_suffix} in {runs}"))["idx"].as_u64().unwrap() as usize
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fixture run's trajectories as `srl import` reads them.
fn imported(cx: &TestContext) -> Vec<Value> {
    let run = cx.srl(&["import", fixtures().to_str().unwrap(), "-o", "fixtures.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    cx.read("fixtures.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn urls_with_dot_dot_or_absolute_paths_are_refused() {
    let viewer = Viewer::start(&[&samples()]);
    for target in [
        "/../Cargo.toml",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/api/runs/0/../../../etc/passwd",
        "/..%2fCargo.toml",
    ] {
        let (status, body) = http(viewer.port, "GET", target, None);
        assert!(status == 403 || status == 404, "{target}: {status} {body}");
        assert!(!body.contains("root:") && !body.contains("[package]"), "{target} leaked a file: {body}");
    }
    for target in ["/etc/passwd", "/api/runs/7/trajectories", "/api/runs/0/trajectories/999", "/api/runs/x/metrics"] {
        let (status, body) = http(viewer.port, "GET", target, None);
        assert_eq!(status, 404, "{target}: {body}");
    }
    let (status, body) = http(viewer.port, "GET", "/api/runs/0/trajectories?limit=ten", None);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("limit=\\\"ten\\\" is not a number"), "{body}");
    let (status, _) = http(viewer.port, "POST", "/api/runs", Some("{}"));
    assert_eq!(status, 405);
}

#[test]
fn the_api_lists_what_import_reads_with_reports_attached() {
    let cx = TestContext::new();
    let expected = imported(&cx);
    let viewer = Viewer::start(&[&fixtures()]);
    let run = viewer.run_index("real");
    let list = viewer.get(&format!("/api/runs/{run}/trajectories?limit=500"));
    assert_eq!(list["total"].as_u64().unwrap() as usize, expected.len());
    let mut ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    let mut expected_ids: Vec<&str> = expected.iter().map(|t| t["id"].as_str().unwrap()).collect();
    ids.sort();
    expected_ids.sort();
    assert_eq!(ids, expected_ids);
    // The mini-swe-agent Gemini run ships SWE-bench reports (flat, one folder per instance).
    let resolved = viewer.get(&format!("/api/runs/{run}/trajectories?outcome=resolved&q=astropy"));
    assert_eq!(resolved["matched"], 1, "{resolved}");
    let unresolved = viewer.get(&format!("/api/runs/{run}/trajectories?outcome=unresolved"));
    assert_eq!(unresolved["items"][0]["instance_id"], "django__django-11149", "{unresolved}");
    // A long observation is cut with its full length, and its whole text has an address.
    let idx = unresolved["items"][0]["idx"].as_u64().unwrap();
    let steps = viewer.get(&format!("/api/runs/{run}/trajectories/{idx}/steps?limit=500"));
    let cut =
        steps["items"].as_array().unwrap().iter().find(|s| s["observation"]["cut"] == true).expect("a cut observation");
    let full = viewer.get(&format!("/api/runs/{run}/trajectories/{idx}/text/{}", cut["k"]));
    assert_eq!(full["text"].as_str().unwrap().chars().count() as u64, cut["observation"]["chars"].as_u64().unwrap());
}

/// The sample trajectories as `srl.trajectory/1` lines, the first with a rejected reply.
fn sample_lines(cx: &TestContext) -> Vec<Value> {
    assert_eq!(cx.srl(&["import", samples().to_str().unwrap(), "-o", "t.jsonl"]).code, 0);
    let mut lines: Vec<Value> = cx.read("t.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    lines[0]["steps"][0]["rejected_replies"] =
        serde_json::json!([{"text": "no think block", "reason": "missing <think>"}]);
    lines
}

fn jsonl(values: &[Value]) -> String {
    values.iter().map(|v| format!("{v}\n")).collect()
}

#[test]
fn agent_folders_eval_runs_and_growing_files_are_read() {
    let cx = TestContext::new();
    let lines = sample_lines(&cx);
    let instance = lines[0]["instance_id"].as_str().unwrap().to_string();
    cx.write("agent/trajectories.jsonl", jsonl(&lines));
    cx.write("agent/preds.jsonl", format!("{{\"instance_id\": \"{instance}\", \"model_patch\": \"\"}}\n"));
    let traj = fixtures().join("swe-agent/tests/test_data/trajectories/gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__c-3.00__install-1/pydicom__pydicom-1458.traj");
    cx.write("agent/trajs/copy.traj", std::fs::read(traj).unwrap());
    let report = serde_json::json!({&instance: {"patch_is_None": false, "patch_exists": true, "patch_successfully_applied": true,
        "resolved": true, "tests_status": {"FAIL_TO_PASS": {"success": ["tests/test_x.py::test_tail"], "failure": []},
        "PASS_TO_PASS": {"success": [], "failure": []}}}});
    cx.write(&format!("agent/eval/agent/m/{instance}/report.json"), report.to_string());
    let gold = serde_json::json!({"instance_id": &instance, "repo": "r", "base_commit": "abc", "patch": "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"});
    cx.write("tasks/one/instance.json", gold.to_string());
    let eval_report = serde_json::json!({"other__inst-1": {"patch_is_None": false, "patch_exists": true,
        "patch_successfully_applied": false, "resolved": false}});
    cx.write("evals/run1/model/other__inst-1/report.json", eval_report.to_string());
    cx.write("evals/run1/model/other__inst-1/patch.diff", "+added\n");
    cx.write("live/live.jsonl", jsonl(&lines[..1]));
    let paths = ["agent", "evals", "tasks", "live"].map(|p| cx.path(p));
    let viewer = Viewer::start(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>());

    let agent = viewer.run_index("agent");
    let runs = viewer.get("/api/runs");
    assert_eq!(runs["runs"][agent]["kind"], "agent");
    assert_eq!(runs["runs"][agent]["trajectories"], 2, "trajs/*.traj repeat trajectories.jsonl: {runs}");
    let first = viewer.get(&format!("/api/runs/{agent}/trajectories/0"));
    assert_eq!(first["report"]["resolved"], true);
    assert_eq!(first["gold"]["patch"], gold["patch"]);
    let steps = viewer.get(&format!("/api/runs/{agent}/trajectories/0/steps?limit=1"));
    assert_eq!(steps["items"][0]["rejected_replies"][0]["reason"], "missing <think>");
    assert_eq!(steps["items"][0]["action_text"], lines[0]["steps"][0]["action_text"]);

    let evals = viewer.run_index("evals");
    assert_eq!(viewer.get("/api/runs")["runs"][evals]["kind"], "eval");
    let list = viewer.get(&format!("/api/runs/{evals}/trajectories?outcome=unresolved"));
    assert_eq!(list["items"][0]["instance_id"], "other__inst-1");
    assert_eq!(viewer.get(&format!("/api/runs/{evals}/trajectories/0"))["submission"], "+added\n");

    // A file being written: new lines show on reload, a half-written last line only once complete.
    let live = viewer.run_index("live");
    let second = serde_json::to_string(&lines[1]).unwrap();
    let (head, tail) = second.split_at(40);
    std::fs::write(cx.path("live/live.jsonl"), format!("{}{head}", jsonl(&lines[..1]))).unwrap();
    assert_eq!(viewer.get("/api/runs")["runs"][live]["trajectories"], 1);
    std::fs::write(cx.path("live/live.jsonl"), format!("{}{head}{tail}\n", jsonl(&lines[..1]))).unwrap();
    assert_eq!(viewer.get("/api/runs")["runs"][live]["trajectories"], 2);
    assert_eq!(viewer.get(&format!("/api/runs/{live}/trajectories/1"))["id"], lines[1]["id"]);
}

const VIEW_RUN: &str = r#"
mode = "sft-then-srl"
model = "tiny"
steps = "s.jsonl"
max_prompt_tokens = 100000
checkpoint_every = 100
[sft]
train_steps = 2
batch_size = 2
learning_rate = 1e-2
[srl]
train_steps = 3
prompts_per_step = 1
group_size = 3
max_new_tokens = 8
max_sampling_rounds = 2
learning_rate = 1e-3
[eval]
holdout_trajectories = 1
max_instances = 2
max_new_tokens = 8
"#;

fn small_training_run(cx: &TestContext) -> PathBuf {
    write_tiny_model(&cx.path("tiny"));
    assert_eq!(cx.srl(&["import", samples().to_str().unwrap(), "-o", "t.jsonl"]).code, 0);
    let steps =
        cx.srl(&["steps", "t.jsonl", "-o", "s.jsonl", "--context-rounds", "0", "--max-observation-chars", "200"]);
    assert_eq!(steps.code, 0);
    std::fs::write(cx.path("run.toml"), VIEW_RUN).unwrap();
    let run = cx.srl(&["train", "--config", "run.toml", "--out", "train-run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    cx.path("train-run")
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("view-screenshots")
}

fn text_of(browser: &Browser, selector: &str) -> String {
    let script = format!("const n = document.querySelector({selector:?}); return n ? n.textContent : null;");
    browser.eval(&script).as_str().unwrap_or_else(|| panic!("no element {selector}")).to_string()
}

#[test]
fn the_page_shows_trajectories_and_a_training_run_in_chromium() {
    let Some(browser) = Browser::start() else { return };
    let cx = TestContext::new();
    let expected = imported(&cx);
    let train_dir = small_training_run(&cx);
    let rollouts = cx.read("train-run/rollouts.jsonl");
    assert_eq!(rollouts.lines().count(), 6, "three SRL steps of up to two sampled groups: {rollouts}");
    let viewer = Viewer::start(&[&fixtures(), &train_dir]);
    let (fixtures_run, train_run) = (viewer.run_index("real"), viewer.run_index("train-run"));

    // The list: its size, and only the visible rows in the DOM.
    browser.goto(&viewer.url(&format!("#/r/{fixtures_run}")));
    let count = browser.wait_for(
        "document.querySelector('#count').textContent.includes('of') && document.querySelector('#count').textContent",
    );
    assert_eq!(count, format!("{n} of {n} trajectories", n = expected.len()));
    let rows = browser.wait_for("document.querySelectorAll('.traj-row').length").as_u64().unwrap() as usize;
    assert!(rows > 5 && rows <= expected.len(), "{rows} rows");

    // A trajectory: the first step's canonical action, the submission's added lines, the report.
    let list = viewer.get(&format!("/api/runs/{fixtures_run}/trajectories?q=astropy__astropy-7336"));
    let idx = list["items"][0]["idx"].as_u64().unwrap();
    let trajectory = expected.iter().find(|t| t["instance_id"] == "astropy__astropy-7336").unwrap();
    browser.goto(&viewer.url(&format!("#/r/{fixtures_run}/t/{idx}")));
    browser.wait_for(&format!("document.getElementById('main').dataset.ready === '{fixtures_run}/{idx}'"));
    assert_eq!(text_of(&browser, "#step-0 .action"), trajectory["steps"][0]["action_text"].as_str().unwrap());
    let added: Vec<&str> = trajectory["submission"]
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    let shown = browser.eval("return [...document.querySelectorAll('.diff .add')].map(n => n.textContent.trimEnd())");
    assert!(shown.as_array().unwrap().iter().any(|l| l == added[0]), "{} not among {shown}", added[0]);
    let report = text_of(&browser, ".report");
    assert!(report.contains("resolved") && report.contains("FAIL_TO_PASS") && report.contains("PASSED"), "{report}");
    browser.screenshot(&screenshots().join("trajectory.png"));
    browser.eval("document.getElementById('traj-tail').scrollIntoView(); return 1");
    browser.screenshot(&screenshots().join("submission-and-report.png"));

    // Keyboard: j/k move between steps and into the URL, J moves to the next trajectory, / filters.
    browser.keys("jj");
    browser.wait_for(&format!("location.hash === '#/r/{fixtures_run}/t/{idx}/s/2'"));
    assert_eq!(browser.eval("return document.querySelector('.step.current').id"), "step-2");
    browser.keys("k");
    browser.wait_for("document.querySelector('.step.current').id === 'step-1'");
    browser.screenshot(&screenshots().join("trajectory-step.png"));
    browser.keys("J");
    let next = browser.wait_for(&format!("!location.hash.startsWith('#/r/{fixtures_run}/t/{idx}/') && location.hash"));
    assert!(next.as_str().unwrap().starts_with(&format!("#/r/{fixtures_run}/t/")), "{next}");
    browser.keys("/django");
    let filtered = browser.wait_for(&format!(
        "document.activeElement.id === 'filter' && !document.querySelector('#count').textContent.startsWith('{} of') && document.querySelector('#count').textContent",
        expected.len()
    ));
    let django = expected.iter().filter(|t| t["id"].as_str().unwrap().to_lowercase().contains("django")).count();
    assert_eq!(filtered, format!("{django} of {} trajectories", expected.len()));
    browser.screenshot(&screenshots().join("filtered.png"));

    // The training run: curves with axes and labels, and a point that opens its step's groups.
    browser.goto(&viewer.url(&format!("#/r/{train_run}/curves")));
    browser.wait_for(&format!("document.getElementById('main').dataset.ready === 'curves/{train_run}'"));
    let labels = browser.eval("return [...document.querySelectorAll('.axis-label')].map(n => n.textContent)");
    let labels: Vec<&str> = labels.as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(labels.contains(&"optimisation step") && labels.contains(&"fraction of rollouts"), "{labels:?}");
    let eval_rows = browser.eval("return document.querySelectorAll('table.eval tr').length").as_u64().unwrap();
    assert_eq!(eval_rows, 4, "a header, then before, after-sft and after");
    browser.screenshot(&screenshots().join("curves.png"));
    browser.eval("document.querySelector('.plot circle[data-step=\"3\"]').dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: document.querySelector('.plot circle[data-step=\"3\"]').getBoundingClientRect().x + 3, clientY: 10})); return 1");
    browser.wait_for(&format!("location.hash === '#/r/{train_run}/rollouts?step=3' && document.getElementById('main').dataset.ready === 'rollouts/{train_run}' && document.querySelector('.group')"));
    let first = rollouts.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|g| g["step"] == 3).unwrap();
    assert_eq!(text_of(&browser, ".group .expert .action"), first["expert_action"].as_str().unwrap());
    let reward = format!("reward {:.3}", first["rollouts"][0]["reward"].as_f64().unwrap());
    assert_eq!(text_of(&browser, ".group .reward"), reward);
    assert!(text_of(&browser, ".group h3").contains("dropped by dynamic sampling"));
    browser.screenshot(&screenshots().join("rollouts.png"));
    let png = std::fs::read(screenshots().join("rollouts.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}
