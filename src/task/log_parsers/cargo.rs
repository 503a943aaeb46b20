//! `cargo test` logs: `test path::name ... ok|FAILED|ignored`.
//!
//! Semantics of SWE-bench's `parse_log_cargo` (SWE-bench Multilingual) for `ok` and `FAILED`.
//! Beyond it:
//! - `ignored` (also `ignored, reason`) becomes SKIPPED instead of being dropped;
//! - names with spaces are kept whole: doctests (`src/lib.rs - parse (line 12)`) and
//!   tests expected to panic, whose ` - should panic` annotation is removed so the id is the
//!   test path;
//! - when a test prints to an uncaptured stdout, cargo writes `test name ... ` and the result
//!   comes later, alone on a line. That result is given to the test only if it is the one test
//!   waiting; with several tests running in parallel the pairing is unknowable and nothing is
//!   recorded. A `running N tests` or `test result:` line ends the wait.

use super::{record, StatusMap, TestStatus};

/// `running 12 tests` (or `running 1 test`), the line that opens each test binary's run.
pub(crate) fn is_running_line(line: &str) -> bool {
    line.strip_prefix("running ")
        .and_then(|rest| rest.strip_suffix(" tests").or_else(|| rest.strip_suffix(" test")))
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Parses `test name ... result` lines and results printed after a test's own output.
pub fn parse(test_output: &str) -> StatusMap {
    let mut statuses = StatusMap::new();
    let mut waiting: Vec<&str> = Vec::new();
    for raw in test_output.lines() {
        let line = raw.trim();
        if is_running_line(line) || line.starts_with("test result:") {
            waiting.clear();
        } else if let Some((name, rest)) = line.strip_prefix("test ").and_then(|l| l.split_once(" ...")) {
            match result(rest.trim()) {
                Some(status) => record(&mut statuses, test_name(name), status),
                None => waiting.push(name),
            }
        } else if let Some(status) = result(line) {
            if let [name] = waiting[..] {
                record(&mut statuses, test_name(name), status);
            }
            waiting.clear();
        }
    }
    statuses
}

fn result(word: &str) -> Option<TestStatus> {
    match word {
        "ok" => Some(TestStatus::Passed),
        "FAILED" => Some(TestStatus::Failed),
        "ignored" => Some(TestStatus::Skipped),
        _ if word.starts_with("ignored, ") => Some(TestStatus::Skipped),
        _ => None,
    }
}

fn test_name(name: &str) -> &str {
    name.strip_suffix(" - should panic").unwrap_or(name)
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
            "running 4 tests\ntest a::ok_one ... ok\ntest a::bad ... FAILED\ntest a::slow ... ignored\n\
             test a::net ... ignored, needs network\n\ntest result: FAILED. 1 passed; 1 failed; 2 ignored",
            &[("a::ok_one", Passed), ("a::bad", Failed), ("a::slow", Skipped), ("a::net", Skipped)],
        );
    }

    #[test]
    fn doctests_and_tests_expected_to_panic() {
        check(
            "test src/lib.rs - parse (line 12) ... ok\ntest t::boom - should panic ... ok",
            &[("src/lib.rs - parse (line 12)", Passed), ("t::boom", Passed)],
        );
    }

    #[test]
    fn result_after_output_goes_to_the_only_waiting_test() {
        check("running 1 test\ntest t::noisy ... hello\nok", &[("t::noisy", Passed)]);
        check("test t::a ... \ntest t::b ... \nok\nFAILED", &[]);
    }

    #[test]
    fn benches_and_summaries_are_not_tests() {
        check("test b::fast ... bench:       1,234 ns/iter (+/- 5)\ntest result: ok. 0 passed", &[]);
    }
}
