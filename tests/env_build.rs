//! `srl env build` against a real Docker daemon: the dev set's images (pytest-dev__pytest-11143,
//! pydicom__pydicom-1458) and a shipped task's, checked from the inside (repository at the base
//! commit, owned by the agent uid) and by running the harness's eval script with the gold patch
//! in a container without network. Bad input: a repository missing from `--repos`, a base
//! commit missing from the mirror, a failing pip install, an image that cannot be pulled.
//!
//! Images are cached by their inputs hash, so a second run of this file reuses them. The pip
//! steps need the package index (CI has it). Without a daemon or the base image every test
//! prints why and passes; CI sets `SRL_REQUIRE_DOCKER=1` to make that a failure.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use srl::sandbox::docker::{self, DEFAULT_IMAGE};
use srl::sandbox::image;
use srl::task::eval_script::test_plan;
use srl::task::grade::{grade_log, Outcome};
use srl::task::images::{image_name, ImageNaming};
use srl::task::instance::{load_instances, Instance};
use srl::task::log_parsers::layout::{extract, TestOutput};
use srl::task::log_parsers::TestStatus;
use srl::task::spec::Specs;
use support::{fixtures, tasks_dir, TestContext};

const PYTEST: &str = "pytest-dev__pytest-11143";
const PYDICOM: &str = "pydicom__pydicom-1458";

/// Builds one image at a time: two tests building the same image would race for its tag.
static BUILDS: Mutex<()> = Mutex::new(());

fn data_sources() -> PathBuf {
    fixtures().join("swe-agent/tests/test_data/data_sources")
}

fn repos() -> PathBuf {
    fixtures().join("../swebench/repos").canonicalize().expect("../shared/fixtures/swebench/repos")
}

fn instance(file: &str, id: &str) -> Instance {
    let instances = load_instances(&data_sources().join(file)).expect("fixture instances");
    instances.into_iter().find(|i| i.instance_id == id).expect("the instance is in the fixture")
}

fn ready() -> bool {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let required = std::env::var("SRL_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    let problem = if !runtime.block_on(docker::daemon_available()) {
        "skipping: no Docker daemon (run scripts/docker-up.sh)".to_string()
    } else if !runtime.block_on(docker::image_available(DEFAULT_IMAGE)) {
        format!("skipping: image {DEFAULT_IMAGE} is missing (build it with scripts/sandbox-image.sh)")
    } else {
        return true;
    };
    assert!(!required, "SRL_REQUIRE_DOCKER=1 but {problem}");
    eprintln!("{problem}");
    false
}

/// `srl env build ARGS` in `ctx`, one build at a time.
fn env_build(ctx: &TestContext, args: &[&str]) -> support::Run {
    let _one_at_a_time = BUILDS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut full = vec!["env", "build"];
    full.extend_from_slice(args);
    ctx.srl(&full)
}

/// Builds (or finds up to date) the image of fixture instance `id` from `file`; returns its name.
fn built_image(ctx: &TestContext, file: &str, id: &str) -> String {
    let input = data_sources().join(file);
    let repos = repos();
    let run = env_build(
        ctx,
        &[input.to_str().expect("utf-8"), "--repos", repos.to_str().expect("utf-8"), "--instance-id", id],
    );
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    image_name(&instance(file, id), &ImageNaming::swebench())
}

/// `bash -c SCRIPT` in a throwaway container of `image` without network, with `env` set;
/// returns (exit code, stdout + stderr).
fn run_in(image: &str, user: &str, script: &str, env: &[(&str, &str)]) -> (i32, String) {
    let mut command = Command::new("docker");
    command.args(["run", "--rm", "--network", "none", "--user", user]);
    for (key, value) in env {
        command.args(["-e", &format!("{key}={value}")]);
    }
    // One stream, so the trace of `set -x` and the test output stay in order.
    let script = format!("exec 2>&1\n{script}");
    let out = command.args([image, "bash", "-c", &script]).output().expect("run docker");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The gold patch applied as the harness applies a model patch, then the eval script, as root
/// (the harness's user) in the image; the log graded as the harness grades.
fn gold_outcome(image: &str, instance: &Instance) -> (Outcome, String) {
    let plan = test_plan(instance, &Specs::builtin(), "/testbed").expect("a test plan");
    let script = "cd /testbed && printf %s \"$SRL_PATCH\" > /tmp/patch.diff && \
                  git apply --verbose /tmp/patch.diff && printf %s \"$SRL_EVAL\" > /eval.sh && /bin/bash /eval.sh";
    let (_, log) = run_in(image, "0:0", script, &[("SRL_PATCH", &instance.patch), ("SRL_EVAL", &plan.script)]);
    (grade_log(instance, &log, plan.parser), log)
}

#[test]
fn pytest_image_holds_the_repository_at_its_base_commit_owned_by_the_agent() {
    if !ready() {
        return;
    }
    let ctx = TestContext::new();
    let image = built_image(&ctx, "swe-bench-lite-test.json", PYTEST);
    let base = instance("swe-bench-lite-test.json", PYTEST).base_commit;
    // The harness's empty `SWE-bench` commit sits on the base commit, with the same tree.
    let script = format!(
        "cd /testbed && git rev-parse HEAD^ && git diff --quiet {base} HEAD && echo same-tree && \
         git status --porcelain | wc -l && stat -c %u /testbed /testbed/src/_pytest/python.py && \
         id -u && which python && python -c 'import _pytest, numpy' 2>&1 | tail -1; git remote | wc -l"
    );
    let (code, out) = run_in(&image, "1000:1000", &script, &[]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..7], [base.as_str(), "same-tree", "0", "1000", "1000", "1000", "/opt/venv/bin/python"], "{out}");
    assert_eq!(lines.last(), Some(&"0"), "the mirror's remote is gone: {out}");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let info = runtime.block_on(async {
        let docker = image::connect().await.expect("docker");
        image::inspect(&docker, &image).await.expect("inspect").expect("the image exists")
    });
    assert_eq!(info.labels.get(image::LABEL_REPO_DIR).map(String::as_str), Some("/testbed"));
    assert_eq!(info.labels.get(image::LABEL_BASE_COMMIT), Some(&base));
    assert_eq!(info.labels.get(image::LABEL_INSTANCE_ID).map(String::as_str), Some(PYTEST));
    assert_eq!(info.labels.get(image::LABEL_PYTHON_ENV).map(String::as_str), Some("/opt/venv"));
    assert_eq!(info.user.as_deref(), Some("1000:1000"));
    assert_eq!(info.cmd, Some(vec!["sleep".to_string(), "infinity".to_string()]));

    // A second build finds the image up to date.
    let again = built_image(&ctx, "swe-bench-lite-test.json", PYTEST);
    assert_eq!(again, image);
}

#[test]
fn pytest_gold_patch_resolves_in_its_image() {
    if !ready() {
        return;
    }
    let ctx = TestContext::new();
    let image = built_image(&ctx, "swe-bench-lite-test.json", PYTEST);
    let instance = instance("swe-bench-lite-test.json", PYTEST);
    let (outcome, log) = gold_outcome(&image, &instance);
    let Outcome::Graded(report) = outcome else { panic!("no test results: {outcome:?}\n{log}") };
    let tests = report.tests_status.expect("graded tests");
    assert!(tests.fail_to_pass.failure.is_empty(), "{:?}\n{log}", tests.fail_to_pass);
    assert!(tests.pass_to_pass.failure.is_empty(), "{:?}", tests.pass_to_pass.failure);
    assert!(report.resolved);
}

/// pydicom's tests read DICOM files that `pydicom-data` (the spec's offline substitute) supplies.
/// The instance's test ids hold the original machine's absolute paths in their parameters; the
/// harness's `pytest_options` parser cuts those to the file name in the log, so they are
/// compared here cut the same way. Four PASS_TO_PASS tests depend on which data files exist
/// and fail in this environment (`test_pixel_array_raises`, `test_unsupported_syntax_raises`,
/// two `test_big_endian_datasets` ids): the gold verdict is what this environment gives.
#[test]
fn pydicom_gold_patch_passes_fail_to_pass_in_its_image() {
    if !ready() {
        return;
    }
    let ctx = TestContext::new();
    let image = built_image(&ctx, "swe-bench-dev-easy.json", PYDICOM);
    let instance = instance("swe-bench-dev-easy.json", PYDICOM);
    let (_, log) = gold_outcome(&image, &instance);
    let parser = test_plan(&instance, &Specs::builtin(), "/testbed").expect("plan").parser.expect("a parser");
    let TestOutput::Found(output) = extract(&log) else { panic!("no test output:\n{log}") };
    let statuses = parser.parse(&output);
    let passed = |name: &String| {
        // The key the parser gives `name`: the same cut as the log's ids.
        let key = parser.parse(&format!("PASSED {name}\n")).into_keys().next().unwrap_or_default();
        statuses.get(&key).is_some_and(|status| matches!(status, TestStatus::Passed | TestStatus::Xfail))
    };
    let fail_to_pass: Vec<&String> = instance.fail_to_pass.iter().filter(|n| !passed(n)).collect();
    assert!(fail_to_pass.is_empty(), "FAIL_TO_PASS failing: {fail_to_pass:?}\n{log}");
    let failing: Vec<&String> = instance.pass_to_pass.iter().filter(|n| !passed(n)).collect();
    let total = instance.pass_to_pass.len();
    eprintln!("pydicom gold: PASS_TO_PASS {}/{total}, failing {failing:?}", total - failing.len());
    assert!(failing.len() <= 4, "{} of {total} PASS_TO_PASS failing: {failing:?}", failing.len());
}

#[test]
fn a_shipped_task_image_runs_its_tests_with_the_gold_patch() {
    if !ready() {
        return;
    }
    let ctx = TestContext::new();
    let tasks = tasks_dir();
    let id = "srl-tasks__build-graph-1";
    let run = env_build(&ctx, &[tasks.to_str().expect("utf-8"), "--instance-id", id]);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(tasks.join("build-graph/instance.json")).expect("instance.json");
    let instance: Instance = serde_json::from_str(&text).expect("an instance");
    let image = image_name(&instance, &ImageNaming::swebench());
    assert_eq!(image, "srl/sweb.eval.x86_64.srl-tasks_1776_build-graph-1:latest");
    let (outcome, log) = gold_outcome(&image, &instance);
    let Outcome::Graded(report) = outcome else { panic!("no test results: {outcome:?}\n{log}") };
    assert!(report.resolved, "{report:?}\n{log}");
}

/// An instance file holding `instance` with `edit` applied; returns its path.
fn edited(ctx: &TestContext, name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut value = serde_json::to_value(instance("swe-bench-lite-test.json", PYTEST)).expect("json");
    edit(&mut value);
    ctx.write(name, serde_json::to_string(&value).expect("json"))
}

fn failed_build(ctx: &TestContext, input: &Path, repos: &Path, extra: &[&str]) -> String {
    let mut args = vec![input.to_str().expect("utf-8"), "--repos", repos.to_str().expect("utf-8")];
    args.extend_from_slice(&["--namespace", "srl-test", "--logs", "logs"]);
    args.extend_from_slice(extra);
    let run = env_build(ctx, &args);
    assert_eq!(run.code, 1, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 failed"), "{}", run.stdout);
    run.stderr
}

#[test]
fn an_instance_whose_repository_is_not_in_repos_is_named_with_the_folder_searched() {
    if !ready() {
        return;
    }
    let ctx = TestContext::new();
    let input = edited(&ctx, "elsewhere.json", |v| v["instance_id"] = "pytest-dev__pytest-99990".into());
    let empty = ctx.path("mirrors");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let stderr = failed_build(&ctx, &input, &empty, &[]);
    assert!(
        stderr.contains("failed: pytest-dev__pytest-99990: pytest-dev__pytest-99990: no repository for pytest-dev/pytest under [TMP]/mirrors"),
        "{stderr}"
    );
    assert!(stderr.contains("a mirror [TMP]/mirrors/pytest-dev__pytest.git"), "{stderr}");
}

#[test]
fn a_base_commit_missing_from_the_mirror_is_named() {
    if !ready() {
        return;
    }
    let ctx = TestContext::new();
    let missing = "1234567890123456789012345678901234567890";
    let input = edited(&ctx, "unknown-commit.json", |v| {
        v["base_commit"] = missing.into();
        v["instance_id"] = "pytest-dev__pytest-99991".into();
    });
    let stderr = failed_build(&ctx, &input, &repos(), &[]);
    assert!(stderr.contains(&format!("commit {missing} not found in")), "{stderr}");
    assert!(stderr.contains("pytest-dev__pytest.git"), "{stderr}");
}

#[test]
fn a_failing_pip_install_names_the_package_and_the_log() {
    if !ready() {
        return;
    }
    let ctx = TestContext::new();
    let input = edited(&ctx, "bad-package.json", |v| {
        v["instance_id"] = "pytest-dev__pytest-99992".into();
        v["version"] = "99.0".into();
    });
    let specs = ctx.write(
        "specs.toml",
        "[[spec]]\nrepo = \"pytest-dev/pytest\"\nversions = [\"99.0\"]\npython = \"3.11\"\n\
         pip_packages = [\"srl-no-such-package-4cd1\"]\ninstall = \"python -m pip install -e .\"\n\
         test_cmd = \"pytest -rA\"\nlog_parser = \"pytest\"\nsource = \"memory\"\n",
    );
    let stderr = failed_build(&ctx, &input, &repos(), &["--specs", specs.to_str().expect("utf-8")]);
    assert!(stderr.contains("the setup script failed (exit 1)"), "{stderr}");
    assert!(stderr.contains("srl-no-such-package-4cd1"), "{stderr}");
    assert!(stderr.contains("log: logs/pytest-dev__pytest-99992.log"), "{stderr}");
    // The build container is gone (checked while no other test builds).
    let _no_build_running = BUILDS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let out = Command::new("docker").args(["ps", "-aq", "--filter", "name=srl-build-"]).output().expect("docker ps");
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty(), "build containers left behind");
}

#[test]
fn an_image_that_cannot_be_pulled_says_how_to_build_it() {
    if !ready() {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let name = "srl-test/sweb.eval.x86_64.nobody_1776_nothing-1:latest";
    let (no_pull, pull) = runtime.block_on(async {
        let docker = image::connect().await.expect("docker");
        let no_pull = image::ensure_image(&docker, name, false).await.expect_err("absent, no pull");
        let pull = image::ensure_image(&docker, name, true).await.expect_err("nothing to pull from");
        (format!("{no_pull:#}"), format!("{pull:#}"))
    });
    assert!(no_pull.contains(name) && no_pull.contains("--no-pull") && no_pull.contains("srl env build"), "{no_pull}");
    assert!(pull.contains(&format!("cannot pull image {name}")) && pull.contains("srl env build"), "{pull}");
}
