//! The execution reward's comparison, on data: what the student's action did against what the
//! expert's did, from the same starting state.
//!
//! An effect is the exit status, the output, and the state of the repository's files after the
//! action (empty when it changed nothing). The score is the mean of three parts in [0, 1]: the
//! exit statuses agree; the outputs' difflib ratio; the diffs' difflib ratio. Actions that
//! differ in text but do the same thing (`grep -rn x .` and `grep -nr x .`) score 1. Outputs
//! and diffs are compared on their first [`COMPARED_CHARS`] characters after normalising line
//! ends and trailing whitespace. Running the actions is the caller's job.

use super::difflib;

/// Characters of each output and diff that take part in the comparison.
pub const COMPARED_CHARS: usize = 4000;

/// What one action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub exit_code: Option<i64>,
    pub output: String,
    /// The repository's diff against its base commit after the action, or empty when the
    /// action changed no file. Both sides start from the same state, so equal diffs mean the
    /// same change.
    pub diff: String,
}

fn normalise(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    lines.join("\n").trim_end().chars().take(COMPARED_CHARS).collect()
}

/// How alike two command outputs are, in [0, 1]: difflib's ratio after normalising line ends and
/// trailing whitespace, over their first [`COMPARED_CHARS`] characters.
pub fn output_similarity(a: &str, b: &str) -> f64 {
    difflib::ratio(&normalise(a), &normalise(b), false)
}

/// How alike two effects are, in [0, 1].
pub fn execution_score(student: &Effect, expert: &Effect) -> f64 {
    let exit = if student.exit_code == expert.exit_code { 1.0 } else { 0.0 };
    let output = output_similarity(&student.output, &expert.output);
    let diff = output_similarity(&student.diff, &expert.diff);
    (exit + output + diff) / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(exit: i64, output: &str, diff: &str) -> Effect {
        Effect { exit_code: Some(exit), output: output.into(), diff: diff.into() }
    }

    #[test]
    fn same_effect_in_other_words_scores_one() {
        let expert = effect(0, "a.py:3:x = 1\r\n", "");
        assert_eq!(execution_score(&effect(0, "a.py:3:x = 1  \n", ""), &expert), 1.0);
    }

    #[test]
    fn each_part_counts_a_third() {
        let expert = effect(0, "ok", "+fix");
        assert_eq!(execution_score(&effect(1, "ok", "+fix"), &expert), 2.0 / 3.0);
        // python3: difflib.SequenceMatcher(None, "", "+fix", autojunk=False).ratio() == 0.0
        assert_eq!(execution_score(&effect(0, "ok", ""), &expert), 2.0 / 3.0);
        assert!(execution_score(&effect(2, "boom", ""), &expert) < 0.2);
    }
}
