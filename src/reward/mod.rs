//! Rewards for a proposed action, as in the SRL paper: the similarity of the student's action
//! to the expert's, or −1 when the completion breaks the output format.
//!
//! Similarity is CPython's `difflib.SequenceMatcher(None, student, expert).ratio()` over the
//! canonical renderings of both actions (see `action::render`), so parameter order and
//! whitespace between tags never move a score. The default is `autojunk = false`: with
//! CPython's default (`true`) any character that makes up more than 1% of an expert action
//! of 200 or more characters is ignored when seeding matches, which makes the score
//! asymmetric and collapses it towards 0 for long, near-identical edits (srl-paper.md §8).
//!
//! Pure: text in, numbers out; nothing here reads files or runs commands.

pub mod difflib;
pub mod execution;
pub mod format;

use serde::Serialize;

use crate::action::{parse_completion_action, render, Action};

/// The reward of a completion that breaks the output contract.
pub const FORMAT_PENALTY: f64 = -1.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewardConfig {
    pub autojunk: bool,
}

/// Everything that went into one step reward; serialized as the output of `srl reward`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReward {
    pub format_ok: bool,
    /// Similarity of the canonical actions; absent when the format check failed.
    pub similarity: Option<f64>,
    pub reward: f64,
    /// The student's parsed action, when there is one.
    pub action: Option<Action>,
    /// Why the format check failed.
    pub format_error: Option<String>,
}

/// Canonical text of an expert action given as a function call or fenced block; an error
/// when it holds no single action, since a target that cannot be parsed is a data bug.
pub fn expert_action_text(expert: &str) -> Result<String, String> {
    parse_completion_action(expert).map(|a| render(&a)).map_err(|e| format!("expert action: {e}"))
}

/// The SRL step reward of `completion` against the expert's canonical action text.
pub fn step_reward(expert_text: &str, completion: &str, config: &RewardConfig) -> StepReward {
    match format::check_format(completion) {
        Ok(formatted) => {
            let similarity = difflib::ratio(&render(&formatted.action), expert_text, config.autojunk);
            StepReward {
                format_ok: true,
                similarity: Some(similarity),
                reward: similarity,
                action: Some(formatted.action),
                format_error: None,
            }
        }
        Err(reason) => StepReward {
            format_ok: false,
            similarity: None,
            reward: FORMAT_PENALTY,
            action: None,
            format_error: Some(reason),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_AUTOJUNK: RewardConfig = RewardConfig { autojunk: false };

    fn check(expert: &str, completion: &str, expect: f64) {
        let expert = expert_action_text(expert).unwrap();
        let got = step_reward(&expert, completion, &NO_AUTOJUNK).reward;
        assert!((got - expect).abs() < 1e-12, "got {got}, expected {expect}");
    }

    #[test]
    fn identical_action_scores_one_whatever_the_layout() {
        check(
            "<function=str_replace_editor><parameter=path>/a.py</parameter><parameter=command>view</parameter></function>",
            "<think>x</think>\n<function=str_replace_editor>\n  <parameter=command>view</parameter>\n<parameter=path>\n/a.py\n</parameter>\n</function>",
            1.0,
        );
    }

    #[test]
    fn fenced_expert_and_xml_student_compare_canonically() {
        check(
            "```bash\nls -la\n```",
            "<think>x</think><function=bash><parameter=command>ls -la</parameter></function>",
            1.0,
        );
    }

    #[test]
    fn broken_format_is_minus_one() {
        check("```bash\nls\n```", "<function=bash><parameter=command>ls</parameter></function>", -1.0);
    }

    #[test]
    fn near_miss_scores_between_zero_and_one() {
        // python3: difflib.SequenceMatcher(None, A, B, autojunk=False).ratio() over the canonical texts
        // A = "<function=bash>\n<parameter=command>grep -nr x .</parameter>\n</function>", B the same with "-rn".
        check(
            "<function=bash><parameter=command>grep -rn x .</parameter></function>",
            "<think>x</think><function=bash><parameter=command>grep -nr x .</parameter></function>",
            0.9859154929577465,
        );
    }
}
