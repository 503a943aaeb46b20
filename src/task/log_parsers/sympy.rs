//! sympy `bin/test` logs (verbose): one `test_name <result>` line per test, where the result is
//! `ok`, `F` (failed), `E` (exception), `s` (skipped), `f` (expected to fail) or `X` (expected to
//! fail but passed).
//!
//! Semantics of SWE-bench's `parse_log_sympy` for `ok`, `F` and `E`: the id is the bare function
//! name (sympy's FAIL_TO_PASS lists hold `test_foo`, not a path). Beyond SWE-bench:
//! - `s`, `f` and `X` become SKIPPED, XFAIL and XPASS (SWE-bench drops those lines, so such a
//!   test would count as missing);
//! - a skip reason can wrap, putting the result alone on the next line; it belongs to the test
//!   still waiting for one;
//! - the `[OK]` / `[FAIL]` file verdict sympy appends to a file's last test line is removed
//!   before reading the result (SWE-bench misses that test).
//!
//! Not ported: SWE-bench also records `path.py:test_name` FAILED from the `___ path.py:test ___`
//! headers of the failure report. No instance lists tests in that form, the same failure is
//! already on the test's own line, and when deriving FAIL_TO_PASS from two runs those extra ids
//! would show up as tests of their own.

use super::{record, StatusMap, TestStatus};

/// Parses `test_name … result` lines.
pub fn parse(test_output: &str) -> StatusMap {
    let mut statuses = StatusMap::new();
    let mut waiting: Option<&str> = None;
    for raw in test_output.lines() {
        let line = strip_file_verdict(raw.trim());
        let status = line.rsplit(' ').next().and_then(result);
        if line.starts_with("test_") {
            let name = line.split_whitespace().next().unwrap_or_default();
            match status {
                Some(status) if name != line => {
                    record(&mut statuses, name, status);
                    waiting = None;
                }
                _ => waiting = Some(name),
            }
        } else if let (Some(status), Some(name)) = (status, waiting) {
            // Only a skip reason wraps; any other word ending a line is someone's output.
            if line.len() <= 2 || status == TestStatus::Skipped {
                record(&mut statuses, name, status);
                waiting = None;
            }
        } else if line.is_empty() || line.starts_with('_') || line.starts_with('=') {
            waiting = None;
        }
    }
    statuses
}

fn result(word: &str) -> Option<TestStatus> {
    match word {
        "ok" => Some(TestStatus::Passed),
        "F" => Some(TestStatus::Failed),
        "E" => Some(TestStatus::Error),
        "s" => Some(TestStatus::Skipped),
        "f" => Some(TestStatus::Xfail),
        "X" => Some(TestStatus::Xpass),
        _ => None,
    }
}

fn strip_file_verdict(line: &str) -> &str {
    for verdict in ["[OK]", "[FAIL]"] {
        if let Some(rest) = line.strip_suffix(verdict) {
            return rest.trim_end();
        }
    }
    line
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
            "sympy/core/tests/test_args.py[3]\ntest_a ok\ntest_b F\ntest_c E\ntest_d abstract Class s\ntest_e f\ntest_g X",
            &[("test_a", Passed), ("test_b", Failed), ("test_c", Error), ("test_d", Skipped), ("test_e", Xfail), (
                "test_g", Xpass,
            )],
        );
    }

    #[test]
    fn wrapped_skip_reason() {
        check(
            "test_a abstract class\ns\ntest_b\nabstract class s\ntest_c ok",
            &[("test_a", Skipped), ("test_b", Skipped), ("test_c", Passed)],
        );
    }

    #[test]
    fn file_verdict_is_not_the_result() {
        check("test_vector ok                                [FAIL]", &[("test_vector", Passed)]);
    }

    #[test]
    fn failure_report_and_summary_are_not_tests() {
        check(
            "test_a F\n________ sympy/x/tests/test_y.py:test_a ________\n  File \"x.py\", line 3, in test_a\n\
             AssertionError\n tests finished: 0 passed, 1 failed, in 0.1 seconds",
            &[("test_a", Failed)],
        );
    }
}
