//! `go test -v` logs: `--- PASS: TestX (0.00s)`, `--- FAIL: …`, `--- SKIP: …`; subtests are
//! indented and named `TestParent/sub_case`.
//!
//! Semantics of SWE-bench's `parse_log_gotest`: the line is trimmed, the id is everything
//! between `--- STATUS: ` and the ` (duration)` that ends the line, so subtests keep their
//! `Parent/child` path. Package lines (`ok  pkg 0.1s`, `FAIL pkg`) and `=== RUN` lines carry no
//! per-test result and are ignored.

use super::{record, StatusMap, TestStatus};

const RESULTS: [(&str, TestStatus); 3] =
    [("--- PASS: ", TestStatus::Passed), ("--- FAIL: ", TestStatus::Failed), ("--- SKIP: ", TestStatus::Skipped)];

/// A line only `go test -v` prints: a test result or `=== RUN`.
pub(crate) fn is_signature(line: &str) -> bool {
    line.starts_with("=== RUN ") || RESULTS.iter().any(|(prefix, _)| line.starts_with(prefix))
}

/// Parses `--- PASS|FAIL|SKIP: name (duration)` lines.
pub fn parse(test_output: &str) -> StatusMap {
    let mut statuses = StatusMap::new();
    for raw in test_output.lines() {
        let line = raw.trim();
        let Some((rest, status)) = RESULTS.iter().find_map(|(prefix, s)| Some((line.strip_prefix(prefix)?, *s))) else {
            continue;
        };
        if let Some((name, _duration)) = rest.strip_suffix(')').and_then(|r| r.rsplit_once(" (")) {
            record(&mut statuses, name, status);
        }
    }
    statuses
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
    fn results_and_subtests() {
        check(
            "=== RUN   TestA\n--- PASS: TestA (0.00s)\n--- FAIL: TestB (0.01s)\n    --- PASS: TestB/case_1 (0.00s)\n\
             \x20   --- FAIL: TestB/with space (0.00s)\n--- SKIP: TestC (0.00s)\nFAIL\nok  \tpkg\t0.1s",
            &[
                ("TestA", Passed),
                ("TestB", Failed),
                ("TestB/case_1", Passed),
                ("TestB/with space", Failed),
                ("TestC", Skipped),
            ],
        );
    }

    #[test]
    fn a_result_without_duration_is_not_counted() {
        check("--- PASS: TestA", &[]);
    }
}
