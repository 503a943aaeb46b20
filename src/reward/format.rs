//! The format check: a completion earns a reward only if it keeps the output contract — one
//! closed `<think>…</think>` block at the start, then exactly one parseable action.
//!
//! Text before `<think>` (other than whitespace), a second think block, or an action that
//! does not parse are all format failures: the SRL paper gives those −1, and a lenient check
//! would teach the student that the contract is optional.

use crate::action::{parse_completion_action, Action};

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// The monologue and the action of a well-formed completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    pub thought: String,
    pub action: Action,
}

/// Splits `completion` into thought and action, or says what breaks the contract.
pub fn check_format(completion: &str) -> Result<Formatted, String> {
    let body = completion.trim_start();
    if !body.starts_with(THINK_OPEN) {
        return Err("completion does not start with <think>".to_string());
    }
    let opens = body.matches(THINK_OPEN).count();
    let closes = body.matches(THINK_CLOSE).count();
    if opens != 1 || closes != 1 {
        return Err(format!("expected one <think> and one </think>, found {opens} and {closes}"));
    }
    let close = body.find(THINK_CLOSE).expect("counted one </think> above");
    let thought = body[THINK_OPEN.len()..close].trim().to_string();
    let action_text = &body[close + THINK_CLOSE.len()..];
    let action = parse_completion_action(action_text).map_err(|e| format!("after </think>: {e}"))?;
    Ok(Formatted { thought, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(completion: &str, expect: &str) {
        let got = match check_format(completion) {
            Ok(f) => format!("ok {} {:?}", f.action.tool, f.action.args),
            Err(e) => format!("err {e}"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn well_formed() {
        check(
            "<think>look around</think>\n<function=bash>\n<parameter=command>ls</parameter>\n</function>",
            r#"ok bash {"command": "ls"}"#,
        );
    }

    #[test]
    fn fenced_bash_is_accepted() {
        check("<think>x</think>\n```bash\nls -la\n```", r#"ok bash {"command": "ls -la"}"#);
    }

    #[test]
    fn unclosed_think() {
        check(
            "<think>hmm <function=bash><parameter=command>ls</parameter></function>",
            "err expected one <think> and one </think>, found 1 and 0",
        );
    }

    #[test]
    fn text_before_think() {
        check("Sure! <think>x</think><function=submit></function>", "err completion does not start with <think>");
    }

    #[test]
    fn two_actions() {
        check(
            "<think>x</think><function=bash><parameter=command>ls</parameter></function><function=submit></function>",
            "err after </think>: found 2 actions, expected exactly one",
        );
    }

    #[test]
    fn no_action() {
        check("<think>x</think> I am done.", "err after </think>: no action found (expected one <function=…> call)");
    }

    #[test]
    fn broken_call() {
        check(
            "<think>x</think><function=bash><parameter=command>ls",
            "err after </think>: malformed action at byte 15: parameter \"command\" is not closed",
        );
    }
}
