//! pytest logs: verbose result lines (`path::test[param] PASSED [ 95%]`) and the `-rA` short
//! test summary (`PASSED path::test`, `FAILED path::test - AssertionError`).
//!
//! Semantics of SWE-bench's `parse_log_pytest`: both line forms count, a status-first line is
//! tried before a test-first one, and a later line overrides an earlier one for the same test
//! (so a summary `ERROR` after a verbose `PASSED` — a teardown error — wins). ANSI colour codes
//! are removed first (SWE-bench only does so for some repositories; pytest ids never contain an
//! escape character, so removing them everywhere loses nothing).
//!
//! Where it deliberately differs:
//! - Parametrised ids may contain spaces (`test_tag[{{ money }}-2,30]`). SWE-bench cuts the id at
//!   the first space; here the id runs to the first space outside square brackets. For a
//!   status-first line whose id has a space, SWE-bench's truncated id is recorded as well, so
//!   instances whose FAIL_TO_PASS lists hold such truncated ids still grade the same.
//! - A status-first line needs exactly one space after the status, as pytest prints it. That
//!   keeps `ERROR    root:file.py:7 message` (a captured log record) and a bare
//!   `PASSED      [100%]` progress line out of the result, where SWE-bench records them as
//!   tests named `root:file.py:7` and `[100%]`; likewise the `_____ ERROR collecting t.py _____`
//!   section rules, which SWE-bench records as a test named `_____`.
//!
//! Not handled (no runner prints an id there): the dot-progress form `tests/x.py ..F.` without
//! `-v` or `-rA`, and `pytest-xdist` `[gw0]` prefixes.

use std::borrow::Cow;

use super::{record, StatusMap, TestStatus};

const STATUSES: [(&str, TestStatus); 6] = [
    ("PASSED", TestStatus::Passed),
    ("FAILED", TestStatus::Failed),
    ("SKIPPED", TestStatus::Skipped),
    ("ERROR", TestStatus::Error),
    ("XFAIL", TestStatus::Xfail),
    ("XPASS", TestStatus::Xpass),
];

/// Parses verbose and short-summary result lines.
pub fn parse(test_output: &str) -> StatusMap {
    let mut statuses = StatusMap::new();
    for raw in test_output.lines() {
        let line = strip_ansi(raw);
        let line = line.trim_end();
        if let Some((id, status)) = status_first(line) {
            record(&mut statuses, id, status);
            if let Some(truncated) = id.split_whitespace().next().filter(|t| t.len() < id.len()) {
                record(&mut statuses, truncated, status);
            }
        } else if let Some((id, status)) = test_first(line) {
            record(&mut statuses, id, status);
        }
    }
    statuses
}

/// `PASSED path::test`, `FAILED path::test[a b] - message`, but not `SKIPPED [2] file.py:3: why`
/// (the summary of skips, which names no test).
fn status_first(line: &str) -> Option<(&str, TestStatus)> {
    let (word, status) = STATUSES.iter().find(|(word, _)| line.starts_with(word))?;
    let rest = line[word.len()..].strip_prefix(' ')?;
    if rest.starts_with(char::is_whitespace) {
        return None;
    }
    if *status == TestStatus::Skipped && is_skip_count(rest) {
        return None;
    }
    let id = node_id(rest);
    (!id.is_empty()).then_some((id, *status))
}

/// `path::test[param] PASSED [ 42%]` (anything may follow the status after a space), but not a
/// section rule such as `_____ ERROR collecting t.py _____`.
fn test_first(line: &str) -> Option<(&str, TestStatus)> {
    let id = node_id(line);
    if id.is_empty() || id.chars().all(|c| c == '_') {
        return None;
    }
    let rest = &line[id.len()..];
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let (word, status) = STATUSES.iter().find(|(word, _)| rest.starts_with(word))?;
    let after = &rest[word.len()..];
    (after.is_empty() || after.starts_with(char::is_whitespace)).then_some((id, *status))
}

/// The node id at the start of `text`: up to the first whitespace that is not inside square
/// brackets. When the brackets never close (a parameter id with a stray `[`), falls back to the
/// first whitespace, which is what SWE-bench does for every id.
fn node_id(text: &str) -> &str {
    let first_token_end = text.find(char::is_whitespace).unwrap_or(text.len());
    let mut depth: i32 = 0;
    for (idx, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            c if c.is_whitespace() && depth <= 0 => return &text[..idx],
            _ => {}
        }
    }
    if depth > 0 {
        &text[..first_token_end]
    } else {
        text
    }
}

/// `[3] file.py:12: reason`: pytest's count of skips sharing one reason.
fn is_skip_count(rest: &str) -> bool {
    rest.strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .is_some_and(|(digits, _)| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
}

/// Removes ANSI escape sequences (`ESC [ … letter`) so coloured output parses like plain output.
pub(crate) fn strip_ansi(line: &str) -> Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() || c == '~' {
                    break;
                }
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(log: &str, expect: &[(&str, TestStatus)]) {
        let got = parse(log);
        let want: StatusMap = expect.iter().map(|(id, s)| (id.to_string(), *s)).collect();
        assert_eq!(got, want, "{log}");
    }

    use TestStatus::*;

    #[test]
    fn verbose_lines() {
        check(
            "tests/t.py::test_a PASSED                  [ 50%]\ntests/t.py::C::test_b[x-1] FAILED [100%]",
            &[("tests/t.py::test_a", Passed), ("tests/t.py::C::test_b[x-1]", Failed)],
        );
    }

    #[test]
    fn summary_lines_and_messages() {
        check(
            "PASSED t.py::a\nFAILED t.py::b - assert 1 == 2\nXFAIL t.py::c - reason\nERROR t.py - ImportError",
            &[("t.py::a", Passed), ("t.py::b", Failed), ("t.py::c", Xfail), ("t.py", Error)],
        );
    }

    #[test]
    fn later_lines_win() {
        check("t.py::a PASSED [ 50%]\nt.py::a ERROR [ 50%]\nERROR t.py::a - teardown", &[("t.py::a", Error)]);
    }

    #[test]
    fn ids_with_spaces_inside_brackets() {
        check(
            "t.py::f[Union-Union[str, int]] PASSED [  4%]\nt.py::g[{% for i in \"x\" %}-y] PASSED [ 5%]",
            &[("t.py::f[Union-Union[str, int]]", Passed), ("t.py::g[{% for i in \"x\" %}-y]", Passed)],
        );
    }

    #[test]
    fn summary_ids_with_spaces_keep_the_swe_bench_truncation_too() {
        check("FAILED t.py::f[a b] - boom", &[("t.py::f[a b]", Failed), ("t.py::f[a", Failed)]);
    }

    #[test]
    fn unbalanced_brackets_fall_back_to_the_first_space() {
        check("t.py::f[a[b c PASSED", &[]);
        check("PASSED t.py::f[a[b c", &[("t.py::f[a[b", Passed)]);
    }

    #[test]
    fn lines_that_name_no_test() {
        check(
            "SKIPPED [1] t.py:2: unconditional skip\nERROR    root:t.py:7 error text\nPASSED       [100%]\nFAILED\n\
             [1/1] Generating write_version_file\n===== 1 passed in 0.1s =====\n____ ERROR collecting t.py ____",
            &[],
        );
    }

    #[test]
    fn colour_codes_are_removed() {
        check(
            "\u{1b}[31mFAILED\u{1b}[0m t.py::\u{1b}[1mC::test_x\u{1b}[0m - assert (2 == 1)",
            &[("t.py::C::test_x", Failed)],
        );
    }
}
