//! Django `runtests.py` logs (unittest's verbose runner): `test_x (module.Class) ... ok`.
//!
//! Semantics of SWE-bench's `parse_log_django`: the test id is whatever precedes ` ... ` on the
//! result line. For a test with a docstring, unittest prints the name on one line and the
//! docstring's first line before ` ... ok` on the next, so the id is the docstring line — which
//! is exactly how SWE-bench's FAIL_TO_PASS lists spell those tests (`"A cached sitemap index can
//! be rendered (#2713)."`). When the test printed something between ` ... ` and its status, the
//! status arrives alone on a later line and belongs to the last unfinished test.
//!
//! Where it deliberately differs:
//! - A lone `ok` line only finishes a test still waiting for its status; SWE-bench gives it to
//!   the last line with ` ... ` even when that test already failed.
//! - Lone `FAIL` / `ERROR` lines finish a waiting test too, and the `FAIL: test_x (module.Class)`
//!   headers of the failure report record the failure under the test's id: `test_x
//!   (module.Class)`, or the docstring line that follows the header when there is one (the id
//!   the result line used). SWE-bench records the bare `test_x`, an id no instance uses.
//! - ` ... expected failure` and ` ... unexpected success` become XFAIL and XPASS (SWE-bench
//!   drops them).
//!
//! The multi-line regexes SWE-bench runs over the whole log ("Testing against Django installed
//! in …\nok") are covered by the waiting-test rule and not repeated.

use super::{record, StatusMap, TestStatus};

const SEPARATOR: &str = " ... ";

/// Trailing results of `name ... <result>`, longest first where one is a prefix of another.
const RESULTS: [(&str, TestStatus); 7] = [
    (" ... ok", TestStatus::Passed),
    (" ... OK", TestStatus::Passed),
    (" ...  OK", TestStatus::Passed),
    (" ... FAIL", TestStatus::Failed),
    (" ... ERROR", TestStatus::Error),
    (" ... expected failure", TestStatus::Xfail),
    (" ... unexpected success", TestStatus::Xpass),
];

/// A line only Django's runner prints: `Ran N tests in …` or a `name ... result` line.
pub(crate) fn is_signature(line: &str) -> bool {
    (line.starts_with("Ran ") && line.contains(" test") && line.contains(" in "))
        || RESULTS.iter().any(|(suffix, _)| line.ends_with(suffix))
        || line.contains(" ... skipped")
}

/// Parses `name ... result` lines, results on later lines and `FAIL:` / `ERROR:` headers.
pub fn parse(test_output: &str) -> StatusMap {
    let mut statuses = StatusMap::new();
    let mut waiting: Option<String> = None;
    let mut header: Option<(&str, TestStatus)> = None;
    for raw in test_output.lines() {
        let line = raw.trim();
        if let Some((id, status)) = header.take() {
            let docstring = !line.is_empty() && !line.starts_with("---");
            record(&mut statuses, if docstring { line } else { id }, status);
            if docstring {
                continue;
            }
        }
        if line.contains("--version is equivalent to version") {
            // SWE-bench's special case: this admin_scripts docstring test prints over several lines.
            record(&mut statuses, "--version is equivalent to version", TestStatus::Passed);
        }
        if let Some((id, status)) = result_line(line) {
            record(&mut statuses, id, status);
            waiting = None;
        } else if let Some(found) = report_header(line) {
            header = Some(found);
        } else if let Some(status) = lone_result(line) {
            if let Some(id) = waiting.take() {
                record(&mut statuses, &id, status);
            }
        } else if let Some((id, _)) = line.split_once(SEPARATOR) {
            waiting = Some(id.to_string());
        }
    }
    if let Some((id, status)) = header {
        record(&mut statuses, id, status);
    }
    statuses
}

/// `name ... ok`, `name ... skipped 'why'`, `Applying app.0002...name ... ok`.
fn result_line(line: &str) -> Option<(&str, TestStatus)> {
    let line = strip_migration_prefix(line);
    if let Some((id, _)) = line.split_once(" ... skipped") {
        return Some((id, TestStatus::Skipped));
    }
    let (suffix, status) = RESULTS.iter().find(|(suffix, _)| line.ends_with(suffix))?;
    let id = &line[..line.len() - suffix.len()];
    Some((id, *status))
}

/// A migration's `Applying x.0002_y...` can run into the first test's line (django__django-7188
/// in SWE-bench); the test starts after the migration's `...`.
fn strip_migration_prefix(line: &str) -> &str {
    match line.strip_prefix("Applying ").and_then(|rest| rest.split_once("...")) {
        Some((_, after)) if after.contains(SEPARATOR) => after.trim_start(),
        _ => line,
    }
}

/// `FAIL: test_x (module.Class)` / `ERROR: test_x (module.Class)` from the failure report; the id
/// ends at the first `)` so a subtest's `[…] (param=1)` tail is not part of it.
fn report_header(line: &str) -> Option<(&str, TestStatus)> {
    let (rest, status) = if let Some(rest) = line.strip_prefix("FAIL: ") {
        (rest, TestStatus::Failed)
    } else {
        (line.strip_prefix("ERROR: ")?, TestStatus::Error)
    };
    let id = match rest.find(" (").and_then(|open| rest[open..].find(')').map(|close| open + close + 1)) {
        Some(end) => &rest[..end],
        None => rest.split_whitespace().next()?,
    };
    Some((id, status))
}

/// A status printed alone after the test's own output.
fn lone_result(line: &str) -> Option<TestStatus> {
    match line {
        "ok" | "OK" => Some(TestStatus::Passed),
        "FAIL" => Some(TestStatus::Failed),
        "ERROR" => Some(TestStatus::Error),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TestStatus::*;

    fn check(log: &str, expect: &[(&str, TestStatus)]) {
        let want: StatusMap = expect.iter().map(|(id, s)| (id.to_string(), *s)).collect();
        assert_eq!(parse(log), want, "{log}");
    }

    #[test]
    fn result_lines() {
        check(
            "test_a (m.C) ... ok\ntest_b (m.C) ... FAIL\ntest_c (m.C) ... ERROR\ntest_d (m.C) ... skipped 'no db'",
            &[("test_a (m.C)", Passed), ("test_b (m.C)", Failed), ("test_c (m.C)", Error), ("test_d (m.C)", Skipped)],
        );
    }

    #[test]
    fn docstring_line_is_the_id() {
        check(
            "test_choices (m.BasicFieldTests)\nCan supply a custom choices form class. ... ok",
            &[("Can supply a custom choices form class.", Passed)],
        );
    }

    #[test]
    fn status_on_a_later_line() {
        check(
            "test_max (f.T) ... Testing against Django installed in '/testbed/django'\nFound 157 test(s).\n\
             System check identified no issues (0 silenced).\nok\ntest_min (f.T) ... noise\nFAIL",
            &[("test_max (f.T)", Passed), ("test_min (f.T)", Failed)],
        );
    }

    #[test]
    fn a_lone_ok_does_not_revive_a_failed_test() {
        check("test_a (m.C) ... FAIL\nok", &[("test_a (m.C)", Failed)]);
    }

    #[test]
    fn failure_report_headers() {
        check(
            "FAIL: test_a (m.C)\n-----\nERROR: test_b (m.C.test_b) [sub] (i=1)\n\nERROR: setUpClass (m.D)",
            &[("test_a (m.C)", Failed), ("test_b (m.C.test_b)", Error), ("setUpClass (m.D)", Error)],
        );
    }

    #[test]
    fn failure_report_header_with_a_docstring_uses_the_docstring_id() {
        check(
            "test_t (m.C)\nA value is coerced to str. ... noise\nERROR\n=====\nERROR: test_t (m.C)\n\
             A value is coerced to str.\n-----\nTraceback (most recent call last):",
            &[("A value is coerced to str.", Error)],
        );
    }

    #[test]
    fn migration_output_running_into_a_test() {
        check(
            "Applying sites.0002_alter_domain_unique...test_no_migrations (m.C) ... ok\n  Applying a.0001_initial... OK",
            &[("test_no_migrations (m.C)", Passed)],
        );
    }

    #[test]
    fn expected_failures() {
        check(
            "test_a (m.C) ... expected failure\ntest_b (m.C) ... unexpected success",
            &[("test_a (m.C)", Xfail), ("test_b (m.C)", Xpass)],
        );
    }
}
