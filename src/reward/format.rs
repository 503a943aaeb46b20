//! The output contract: what every reply of the student must look like, defined once and used
//! by SFT targets, SRL rollouts, held-out evaluation, `srl agent` and RLVR alike.
//!
//! - **Shape.** One closed `<think>…</think>` block at the start, then exactly one parseable
//!   action. Text before `<think>` (other than whitespace), a second think block, or an action
//!   that does not parse are all format failures: the SRL paper gives those −1, and a lenient
//!   check would teach the student that the contract is optional.
//! - **Response prefix.** Text the response starts with that the prompt supplies rather than
//!   the model (`"<think>\n"` for a student trained with it prefilled). A reply is checked as
//!   prefix + generated text, never the generated text alone.
//! - **End.** A reply ends at the end of its first complete action: samplers stop there, and a
//!   server is sent [`OutputContract::STOP_SEQUENCES`] (whose cut closing tag
//!   [`OutputContract::restore_stop`] puts back).

use serde::{Deserialize, Serialize};

use crate::action::{first_action_end, parse_completion_action, Action};

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

/// A response in the contract's shape: the thought in a think block, then the action's text.
/// What SFT trains on and what the corrective message shows.
pub fn write_response(thought: &str, action_text: &str) -> String {
    format!("{THINK_OPEN}\n{thought}\n{THINK_CLOSE}\n{action_text}")
}

/// The contract a student is held to: the response prefix it was trained with, plus the rules
/// above that are the same for every student.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputContract {
    /// Prefilled after the prompt; part of the response for the format check and the reward.
    pub response_prefix: String,
}

impl OutputContract {
    /// Stop sequences for servers that cannot stop on a parsed action: the end of a function
    /// call. (A fenced block's closing fence cannot be one: it equals the opening fence.)
    pub const STOP_SEQUENCES: [&'static str; 1] = ["</function>"];

    pub fn new(response_prefix: impl Into<String>) -> OutputContract {
        OutputContract { response_prefix: response_prefix.into() }
    }

    /// The whole response: the prefix, then what the model generated after it.
    pub fn response(&self, generated: &str) -> String {
        format!("{}{generated}", self.response_prefix)
    }

    /// Thought and action of a whole response (prefix included), or what breaks the contract.
    pub fn check(&self, response: &str) -> Result<Formatted, String> {
        check_format(response)
    }

    /// Where the reply ends in `generated` (the text after the prefix): just past the first
    /// complete action after `</think>`, or just past a second think tag before any action
    /// (the reply is broken for good: more text cannot mend it), or `None` while neither is
    /// there yet.
    pub fn reply_end(&self, generated: &str) -> Option<usize> {
        let response = self.response(generated);
        let think_end = response.find(THINK_CLOSE)? + THINK_CLOSE.len();
        let rest = &response[think_end..];
        let action = first_action_end(rest);
        let second_tag = [THINK_OPEN, THINK_CLOSE].iter().filter_map(|tag| rest.find(tag).map(|i| i + tag.len())).min();
        let end = match (action, second_tag) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        (think_end + end).checked_sub(self.response_prefix.len())
    }

    /// `generated` cut where the reply ends (unchanged when no action is complete).
    pub fn cut<'a>(&self, generated: &'a str) -> &'a str {
        &generated[..self.reply_end(generated).unwrap_or(generated.len())]
    }

    /// A server's reply that stopped on [`Self::STOP_SEQUENCES`] lacks the closing tag it
    /// stopped on; this puts it back when a function call is left open.
    pub fn restore_stop(&self, reply: &str, stopped_on_sequence: bool) -> String {
        let response = self.response(reply);
        let after_think = response.find(THINK_CLOSE).map_or(response.as_str(), |i| &response[i..]);
        let opens = after_think.matches("<function=").count();
        let closes = after_think.matches(Self::STOP_SEQUENCES[0]).count();
        if stopped_on_sequence && opens > closes {
            format!("{}{}", reply.trim_end(), Self::STOP_SEQUENCES[0])
        } else {
            reply.to_string()
        }
    }
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

    #[test]
    fn the_prefix_is_part_of_the_response() {
        let contract = OutputContract::new("<think>\n");
        let generated = "look\n</think>\n<function=bash>\n<parameter=command>ls</parameter>\n</function>\n</function>";
        assert!(check_format(generated).is_err(), "without the prefix the reply is broken");
        let cut = contract.cut(generated);
        assert!(cut.ends_with("</parameter>\n</function>"), "{cut:?}");
        assert_eq!(contract.check(&contract.response(cut)).unwrap().thought, "look");
        assert_eq!(contract.reply_end("still thinking <function=bash>"), None, "no </think> yet");
        let looping = "<function=bash>\n<parameter=command>ls</parameter>\n</function>\n</think>\n</think>\n</think>";
        assert_eq!(
            contract.cut(looping),
            &looping[..looping.len() - "\n</think>".len()],
            "ends at the second </think>"
        );
        assert_eq!(OutputContract::default().reply_end("<think>a</think>```bash\nls\n```\nmore"), Some(30));
    }

    #[test]
    fn a_stop_sequence_cut_from_a_server_reply_is_restored() {
        let contract = OutputContract::new("<think>\n");
        let reply = "x\n</think>\n<function=bash>\n<parameter=command>ls</parameter>\n";
        let restored = contract.restore_stop(reply, true);
        assert!(contract.check(&contract.response(&restored)).is_ok(), "{restored:?}");
        assert_eq!(contract.restore_stop(reply, false), reply, "a reply that ended on EOS is left alone");
        let closed = "x</think><function=submit></function>";
        assert_eq!(contract.restore_stop(closed, true), closed);
    }
}
