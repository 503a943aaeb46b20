//! Test-log parsers: the raw output of a test run in, one status per test id out.
//!
//! One file per framework (`pytest`, `django`, `sympy`, `cargo`, `go`), each a pure
//! `parse(test_output) -> StatusMap` that ports the semantics of the matching SWE-bench parser
//! (`swebench/harness/log_parsers`), so that the test ids it produces are the ids SWE-bench wrote
//! into FAIL_TO_PASS / PASS_TO_PASS. Where a framework file deviates from SWE-bench, its module
//! doc says how and why; [`swebench`] holds the harness's own parsers unchanged, for grading
//! SWE-bench instances exactly as the harness did. [`layout`] and [`openhands`] deal with what wraps the test output
//! (harness markers, `bash -x` traces, python-logging lines); the parsers only see the runner's
//! own output.
//!
//! Not here: choosing which tests matter or whether the patch resolved the task (that is
//! `task::grade`), and running anything.

pub mod cargo;
pub mod django;
pub mod go;
pub mod layout;
pub mod openhands;
pub mod pytest;
pub mod swebench;
pub mod sympy;

use std::collections::BTreeMap;
use std::fmt;

/// The outcome of one test, with SWE-bench's names (`TestStatus` in `swebench.harness.constants`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TestStatus {
    Passed,
    Failed,
    Skipped,
    Error,
    /// Expected to fail and did: counts as a pass, as in SWE-bench.
    Xfail,
    /// Expected to fail but passed: SWE-bench counts it neither as a success nor a failure.
    Xpass,
}

impl TestStatus {
    /// The SWE-bench spelling: `PASSED`, `FAILED`, `SKIPPED`, `ERROR`, `XFAIL`, `XPASS`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Passed => "PASSED",
            TestStatus::Failed => "FAILED",
            TestStatus::Skipped => "SKIPPED",
            TestStatus::Error => "ERROR",
            TestStatus::Xfail => "XFAIL",
            TestStatus::Xpass => "XPASS",
        }
    }
}

impl fmt::Display for TestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Test id → status. When a log reports a test twice (pytest's verbose line and its `-rA`
/// summary line, or a call that passed and a teardown that errored), the later line wins, as
/// with the Python dict SWE-bench fills line by line.
pub type StatusMap = BTreeMap<String, TestStatus>;

/// The test frameworks whose logs can be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    Pytest,
    Django,
    Sympy,
    Cargo,
    Go,
    /// One of the SWE-bench harness's own parsers, quirks included ([`swebench`]): what a
    /// SWE-bench instance is graded with, chosen by its repository's spec.
    Swebench(swebench::Harness),
}

impl Parser {
    pub const ALL: [Parser; 12] = [
        Parser::Pytest,
        Parser::Django,
        Parser::Sympy,
        Parser::Cargo,
        Parser::Go,
        Parser::Swebench(swebench::Harness::Pytest),
        Parser::Swebench(swebench::Harness::PytestOptions),
        Parser::Swebench(swebench::Harness::PytestV2),
        Parser::Swebench(swebench::Harness::Django),
        Parser::Swebench(swebench::Harness::Sympy),
        Parser::Swebench(swebench::Harness::Seaborn),
        Parser::Swebench(swebench::Harness::Matplotlib),
    ];

    /// The name used on the command line (`--parser pytest`, `--parser swebench-pytest_options`).
    pub fn name(self) -> &'static str {
        use swebench::Harness;
        match self {
            Parser::Pytest => "pytest",
            Parser::Django => "django",
            Parser::Sympy => "sympy",
            Parser::Cargo => "cargo",
            Parser::Go => "go",
            Parser::Swebench(Harness::Pytest) => "swebench-pytest",
            Parser::Swebench(Harness::PytestOptions) => "swebench-pytest_options",
            Parser::Swebench(Harness::PytestV2) => "swebench-pytest_v2",
            Parser::Swebench(Harness::Django) => "swebench-django",
            Parser::Swebench(Harness::Sympy) => "swebench-sympy",
            Parser::Swebench(Harness::Seaborn) => "swebench-seaborn",
            Parser::Swebench(Harness::Matplotlib) => "swebench-matplotlib",
        }
    }

    /// The parser called `name`; `None` for anything else (including `auto`, which callers
    /// resolve with [`detect`]).
    pub fn from_name(name: &str) -> Option<Parser> {
        Parser::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Parses the runner's output (already cut out of its harness layout by
    /// [`layout::extract`]).
    pub fn parse(self, test_output: &str) -> StatusMap {
        match self {
            Parser::Pytest => pytest::parse(test_output),
            Parser::Django => django::parse(test_output),
            Parser::Sympy => sympy::parse(test_output),
            Parser::Cargo => cargo::parse(test_output),
            Parser::Go => go::parse(test_output),
            Parser::Swebench(harness) => harness.parse(test_output),
        }
    }
}

/// Picks the parser for `--parser auto` from the content of the test output. Each runner has a
/// line no other runner prints, checked in this order (the first match wins):
///
/// 1. go: a `--- PASS: ` / `--- FAIL: ` / `--- SKIP: ` result or an `=== RUN ` line;
/// 2. cargo: a `running N tests` line and a `test result: ` line;
/// 3. pytest: its `test session starts` banner;
/// 4. sympy: its `test process starts` banner or its `tests finished: ` summary;
/// 5. django: `Ran N tests in`, or a `name ... ok|FAIL|ERROR|skipped` result line;
/// 6. otherwise pytest, the most common runner (and the one whose result lines are least
///    likely to be confused with anything else).
///
/// Go and cargo come first because their markers are the most specific; the pytest banner
/// comes before the django rule because pytest runs can print unittest-style ` ... ok` lines in
/// captured output, while Django's runner never prints the pytest banner.
pub fn detect(test_output: &str) -> Parser {
    let lines = || test_output.lines().map(str::trim);
    if lines().any(go::is_signature) {
        Parser::Go
    } else if lines().any(cargo::is_running_line) && lines().any(|l| l.starts_with("test result: ")) {
        Parser::Cargo
    } else if lines().any(|l| l.contains("test session starts")) {
        Parser::Pytest
    } else if lines().any(|l| l.contains("test process starts") || l.starts_with("tests finished: ")) {
        Parser::Sympy
    } else if lines().any(django::is_signature) {
        Parser::Django
    } else {
        Parser::Pytest
    }
}

/// Records `status` for `id` unless the id is empty (a line that only looked like a result).
fn record(statuses: &mut StatusMap, id: &str, status: TestStatus) {
    let id = id.trim();
    if !id.is_empty() {
        statuses.insert(id.to_string(), status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(test_output: &str, expect: &str) {
        assert_eq!(detect(test_output).name(), expect, "{test_output}");
    }

    #[test]
    fn detection_follows_the_signature_order() {
        check("=== RUN   TestX\n--- PASS: TestX (0.00s)\nok  \tpkg\t0.1s", "go");
        check("running 2 tests\ntest a::b ... ok\ntest a::c ... FAILED\n\ntest result: FAILED.", "cargo");
        check("===== test session starts =====\nx.py::t PASSED", "pytest");
        check("== test process starts ==\ntest_a ok\n tests finished: 1 passed", "sympy");
        check("test_a (m.C) ... ok\n\nRan 1 test in 0.1s\n\nOK", "django");
        check("PASSED x.py::t", "pytest");
        check("", "pytest");
    }

    #[test]
    fn parser_names_round_trip() {
        for parser in Parser::ALL {
            assert_eq!(Parser::from_name(parser.name()), Some(parser));
        }
        assert_eq!(Parser::from_name("auto"), None);
    }
}
