//! Grading: per-test statuses against an instance's test lists, giving the SWE-bench report
//! (E1: `{patch_is_None, patch_exists, patch_successfully_applied, resolved, tests_status}`).
//!
//! The rules are SWE-bench's `get_eval_tests_report` (PASS_AND_FAIL evaluation):
//! - FAIL_TO_PASS (and FAIL_TO_FAIL / PASS_TO_FAIL when the instance lists them): success if the
//!   test PASSED or XFAILed; failure if it FAILED, ERRORed, was SKIPPED or is missing from the log;
//! - PASS_TO_PASS: as above, except that SKIPPED keeps the test a success (SWE-bench's
//!   `test_maintained`: a test the environment skips was not broken by the patch);
//! - XPASS is neither: SWE-bench leaves such a test out of both lists;
//! - `resolved` ⇔ the patch applied and no FAIL_TO_PASS or PASS_TO_PASS test is a failure
//!   (SWE-bench's `ResolvedStatus.FULL`: both ratios are 1, an empty list counting as 1).
//!
//! [`grade_log`] adds the step before: find the test output in a harness log and parse it. A log
//! with no test results at all is not graded: it says nothing about the patch, and
//! [`Outcome::NoTestResults`] keeps it apart from an unresolved instance.
//!
//! [`validation_report`] derives the test lists themselves from two runs, as SWE-smith's
//! validation does. Not ported: SWE-bench's FAIL_ONLY evaluation (a handful of repositories whose
//! logs only report failures) and SWE-smith's filtering of tests to the files its command ran
//! (an instance's lists are taken as they are).

use serde::{Deserialize, Serialize};

use super::instance::Instance;
use super::log_parsers::layout::{self, TestOutput};
use super::log_parsers::{detect, Parser, StatusMap, TestStatus};

/// The per-instance evaluation report, field for field SWE-bench's `report.json` (flat; the
/// official harness nests it under the instance id). A SWE-bench file format, so its shape is
/// theirs and it carries no `srl` schema tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    #[serde(rename = "patch_is_None")]
    pub patch_is_none: bool,
    pub patch_exists: bool,
    pub patch_successfully_applied: bool,
    pub resolved: bool,
    /// Absent when there was no patch or it did not apply, as in SWE-bench.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests_status: Option<TestsStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestsStatus {
    #[serde(rename = "FAIL_TO_PASS")]
    pub fail_to_pass: SuccessFailure,
    #[serde(rename = "PASS_TO_PASS")]
    pub pass_to_pass: SuccessFailure,
    #[serde(rename = "FAIL_TO_FAIL")]
    pub fail_to_fail: SuccessFailure,
    #[serde(rename = "PASS_TO_FAIL")]
    pub pass_to_fail: SuccessFailure,
}

/// The tests of one list, split by outcome, each in the instance's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessFailure {
    pub success: Vec<String>,
    pub failure: Vec<String>,
}

impl Report {
    /// The report for a prediction without a patch (`model_patch: null`).
    pub fn no_patch() -> Report {
        Report {
            patch_is_none: true,
            patch_exists: false,
            patch_successfully_applied: false,
            resolved: false,
            tests_status: None,
        }
    }
}

/// How a list's tests are judged: FAIL_TO_PASS-like lists must pass, PASS_TO_PASS must not break.
#[derive(Clone, Copy)]
enum Rule {
    MustPass,
    Maintained,
}

/// Grades `statuses` against `instance`. With `patch_applied == false` no test is looked at and
/// the report is unresolved without `tests_status`, as SWE-bench writes it.
pub fn grade(instance: &Instance, statuses: &StatusMap, patch_applied: bool) -> Report {
    if !patch_applied {
        return Report {
            patch_is_none: false,
            patch_exists: true,
            patch_successfully_applied: false,
            resolved: false,
            tests_status: None,
        };
    }
    let tests_status = TestsStatus {
        fail_to_pass: split(&instance.fail_to_pass, statuses, Rule::MustPass),
        pass_to_pass: split(&instance.pass_to_pass, statuses, Rule::Maintained),
        fail_to_fail: split(&instance.fail_to_fail, statuses, Rule::MustPass),
        pass_to_fail: split(&instance.pass_to_fail, statuses, Rule::MustPass),
    };
    let resolved = tests_status.fail_to_pass.failure.is_empty() && tests_status.pass_to_pass.failure.is_empty();
    Report {
        patch_is_none: false,
        patch_exists: true,
        patch_successfully_applied: true,
        resolved,
        tests_status: Some(tests_status),
    }
}

fn split(ids: &[String], statuses: &StatusMap, rule: Rule) -> SuccessFailure {
    let mut out = SuccessFailure::default();
    for id in ids {
        let status = statuses.get(id).copied();
        let success = match (rule, status) {
            (_, Some(TestStatus::Passed | TestStatus::Xfail)) => Some(true),
            (Rule::Maintained, Some(TestStatus::Skipped)) => Some(true),
            (_, None | Some(TestStatus::Failed | TestStatus::Error | TestStatus::Skipped)) => Some(false),
            (_, Some(TestStatus::Xpass)) => None,
        };
        match success {
            Some(true) => out.success.push(id.clone()),
            Some(false) => out.failure.push(id.clone()),
            None => {}
        }
    }
    out
}

/// What grading a log produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Tests ran and were graded; `resolved` says whether the patch fixed the instance.
    Graded(Report),
    /// The harness could not apply the patch: unresolved, as SWE-bench counts it (a model
    /// failure: the patch itself is broken or does not fit the repository).
    PatchFailed(Report),
    /// The log holds no per-test result, so it says nothing reliable about the patch. Treat it
    /// as an infrastructure failure to retry or skip, not as an unresolved instance. (A patch
    /// that breaks the test runner's own imports also ends here; telling that apart needs the
    /// runner's output, which the caller has.)
    NoTestResults(NoResults),
}

/// Why a log has no test results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoResults {
    /// A harness log without a test-output section (an OpenHands log stopped before grading).
    NoTestOutput,
    /// The harness says the run did not finish (timeout, failed reset, missing end marker).
    Incomplete(&'static str),
    /// There is test output, but the parser found no result line in it.
    NothingParsed(Parser),
}

/// Grades a raw log (any layout of [`layout::extract`]) against `instance`. `parser: None`
/// picks the parser from the test output ([`detect`]).
pub fn grade_log(instance: &Instance, log: &str, parser: Option<Parser>) -> Outcome {
    let test_output = match layout::extract(log) {
        TestOutput::Found(text) => text,
        TestOutput::PatchFailed => return Outcome::PatchFailed(grade(instance, &StatusMap::new(), false)),
        TestOutput::Incomplete(reason) => return Outcome::NoTestResults(NoResults::Incomplete(reason)),
        TestOutput::Missing => return Outcome::NoTestResults(NoResults::NoTestOutput),
    };
    let parser = parser.unwrap_or_else(|| detect(&test_output));
    let statuses = parser.parse(&test_output);
    if statuses.is_empty() {
        return Outcome::NoTestResults(NoResults::NothingParsed(parser));
    }
    Outcome::Graded(grade(instance, &statuses, true))
}

/// FAIL_TO_PASS / PASS_TO_PASS / FAIL_TO_FAIL / PASS_TO_FAIL derived from two runs, the shape of
/// SWE-smith's `run_validation/<id>/report.json`. Lists are in test-id order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    #[serde(rename = "FAIL_TO_PASS")]
    pub fail_to_pass: Vec<String>,
    #[serde(rename = "PASS_TO_PASS")]
    pub pass_to_pass: Vec<String>,
    #[serde(rename = "FAIL_TO_FAIL")]
    pub fail_to_fail: Vec<String>,
    #[serde(rename = "PASS_TO_FAIL")]
    pub pass_to_fail: Vec<String>,
}

/// Classifies every test by its status `before` the fix (the buggy code) and `after` it (the
/// fixed code), with SWE-smith's rules (`get_valid_report`): only PASSED and FAILED count, so a
/// test that ERRORs or is skipped on either side is left out; a test only seen after is
/// FAIL_TO_PASS if it passed and PASS_TO_FAIL if it failed; a test that FAILED before and
/// vanished after is FAIL_TO_PASS.
pub fn validation_report(before: &StatusMap, after: &StatusMap) -> ValidationReport {
    use TestStatus::{Failed, Passed};
    let mut report = ValidationReport::default();
    for (id, &now) in after {
        let list = match (before.get(id).copied(), now) {
            (None | Some(Failed), Passed) => &mut report.fail_to_pass,
            (None | Some(Passed), Failed) => &mut report.pass_to_fail,
            (Some(Passed), Passed) => &mut report.pass_to_pass,
            (Some(Failed), Failed) => &mut report.fail_to_fail,
            _ => continue,
        };
        list.push(id.clone());
    }
    let vanished = before.iter().filter(|(id, &was)| was == Failed && !after.contains_key(*id));
    report.fail_to_pass.extend(vanished.map(|(id, _)| id.clone()));
    report.fail_to_pass.sort();
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use TestStatus::*;

    fn instance(f2p: &[&str], p2p: &[&str]) -> Instance {
        let ids = |v: &[&str]| serde_json::json!(v);
        let value = serde_json::json!({"repo": "o/r", "instance_id": "o__r-1", "base_commit": "c", "patch": "p",
            "problem_statement": "s", "FAIL_TO_PASS": ids(f2p), "PASS_TO_PASS": ids(p2p)});
        Instance::try_from(value).expect("the test instance is well-formed")
    }

    fn check(f2p: &[&str], p2p: &[&str], statuses: &[(&str, TestStatus)], expect: &str) {
        let statuses: StatusMap = statuses.iter().map(|(id, s)| (id.to_string(), *s)).collect();
        let report = grade(&instance(f2p, p2p), &statuses, true);
        let ts = report.tests_status.expect("graded");
        let got = format!(
            "resolved={} f2p={:?}/{:?} p2p={:?}/{:?}",
            report.resolved,
            ts.fail_to_pass.success,
            ts.fail_to_pass.failure,
            ts.pass_to_pass.success,
            ts.pass_to_pass.failure
        );
        assert_eq!(got, expect);
    }

    #[test]
    fn passing_and_xfail_succeed() {
        check(
            &["a", "b"],
            &["c"],
            &[("a", Passed), ("b", Xfail), ("c", Passed)],
            r#"resolved=true f2p=["a", "b"]/[] p2p=["c"]/[]"#,
        );
    }

    #[test]
    fn missing_and_skipped_fail_to_pass_tests_fail() {
        check(&["a", "b"], &[], &[("b", Skipped)], r#"resolved=false f2p=[]/["a", "b"] p2p=[]/[]"#);
    }

    #[test]
    fn skipped_keeps_a_pass_to_pass_test() {
        check(
            &[],
            &["c", "d", "e"],
            &[("c", Skipped), ("d", Error)],
            r#"resolved=false f2p=[]/[] p2p=["c"]/["d", "e"]"#,
        );
    }

    #[test]
    fn xpass_counts_neither_way() {
        check(&["a"], &["c"], &[("a", Xpass), ("c", Xpass)], "resolved=true f2p=[]/[] p2p=[]/[]");
    }

    #[test]
    fn unapplied_patch_has_no_tests_status() {
        let report = grade(&instance(&["a"], &[]), &StatusMap::new(), false);
        assert_eq!(
            serde_json::to_string(&report).expect("serializable"),
            r#"{"patch_is_None":false,"patch_exists":true,"patch_successfully_applied":false,"resolved":false}"#
        );
    }

    #[test]
    fn logs_without_results_are_not_graded() {
        let inst = instance(&["a"], &[]);
        assert_eq!(
            grade_log(&inst, "Traceback (most recent call last):\nSyntaxError", None),
            Outcome::NoTestResults(NoResults::NothingParsed(Parser::Pytest))
        );
        let log = "+ : '>>>>> Start Test Output'\nt.py::a PASSED\n";
        assert!(matches!(grade_log(&inst, log, None), Outcome::NoTestResults(NoResults::Incomplete(_))));
        assert!(matches!(grade_log(&inst, ">>>>> Patch Apply Failed", None), Outcome::PatchFailed(r) if !r.resolved));
        assert!(matches!(grade_log(&inst, "PASSED a", None), Outcome::Graded(r) if r.resolved));
    }

    #[test]
    fn validation_follows_swe_smith() {
        let map = |v: &[(&str, TestStatus)]| v.iter().map(|(id, s)| (id.to_string(), *s)).collect::<StatusMap>();
        let before = map(&[("f2p", Failed), ("p2p", Passed), ("gone", Failed), ("err", Error), ("f2f", Failed)]);
        let after = map(&[("f2p", Passed), ("p2p", Passed), ("new", Passed), ("err", Passed), ("f2f", Failed)]);
        let report = validation_report(&before, &after);
        assert_eq!(report.fail_to_pass, ["f2p", "gone", "new"]);
        assert_eq!(report.pass_to_pass, ["p2p"]);
        assert_eq!(report.fail_to_fail, ["f2f"]);
        assert!(report.pass_to_fail.is_empty());
    }
}
