//! The action grammar: what one agent step asks the environment to do.
//!
//! An [`Action`] is a tool name plus named string arguments. Every source syntax we meet
//! (SWE-agent XML function calls, fenced bash blocks, OpenAI tool calls) is parsed into it,
//! and [`render`] writes it back in one canonical syntax, the XML function call. Rewards
//! compare canonical renderings, so whitespace between tags or the order in which a model
//! wrote its parameters never changes a score.
//!
//! This module is pure: no I/O, no knowledge of trajectories or rewards.

mod parse;
mod render;

pub use parse::{
    first_action_end, json_argument_text, parse_completion_action, parse_fenced_bash, parse_fenced_blocks,
    parse_function_calls, parse_tool_call, Fenced, Located, ParseError,
};
pub use render::render;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One tool call. Argument values are always text: non-string JSON arguments (numbers,
/// lists such as `view_range`) are kept as their compact JSON rendering, which is also how
/// they appear inside XML parameter bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub tool: String,
    #[serde(default)]
    pub args: BTreeMap<String, String>,
}

impl Action {
    pub fn new(tool: impl Into<String>) -> Action {
        Action { tool: tool.into(), args: BTreeMap::new() }
    }

    /// A `bash` action running `command`.
    pub fn bash(command: impl Into<String>) -> Action {
        Action::new("bash").arg("command", command)
    }

    pub fn arg(mut self, key: impl Into<String>, value: impl Into<String>) -> Action {
        self.args.insert(key.into(), value.into());
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.args.get(key).map(String::as_str)
    }
}

/// Tool names that different scaffolds use for the same tool, mapped to ours.
/// OpenHands calls its shell tool `execute_bash` (later `execute_command`); both are `bash` here.
pub fn canonical_tool_name(name: &str) -> &str {
    match name {
        "execute_bash" | "execute_command" | "run" | "shell" => "bash",
        "str_replace_based_edit_tool" => "str_replace_editor",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Values may hold anything but the two closing tags the syntax cannot escape.
    fn value() -> impl Strategy<Value = String> {
        "(?s)[a-z<>/=\\n \t'\"é😀{}\\[\\]-]{0,40}".prop_filter("closing tags cannot be escaped", |v| {
            !v.contains("</parameter>") && !v.contains("</function>")
        })
    }

    fn action() -> impl Strategy<Value = Action> {
        let tool = prop_oneof![Just("bash".to_string()), Just("str_replace_editor".to_string()), "[a-z_]{1,12}"]
            .prop_filter("aliases are renamed on parse", |t| canonical_tool_name(t) == t);
        let args = prop::collection::btree_map("[a-z_]{1,10}", value(), 0..5);
        (tool, args).prop_map(|(tool, args)| Action { tool, args })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parse_of_render_is_identity(action in action()) {
            let text = render(&action);
            let parsed = parse_function_calls(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text:?}")))?;
            prop_assert_eq!(parsed.len(), 1);
            prop_assert_eq!(&parsed[0].action, &action);
        }

        #[test]
        fn render_is_canonical_under_reordering_and_spacing(action in action(), spaces in "[ \n]{0,3}") {
            let mut shuffled = format!("<function={}>{spaces}", action.tool);
            for (key, value) in action.args.iter().rev() {
                let value = if value.contains('\n') { format!("\n{value}\n") } else { value.clone() };
                shuffled.push_str(&format!("<parameter={key}>{value}</parameter>{spaces}"));
            }
            shuffled.push_str("</function>");
            let parsed = parse_completion_action(&shuffled).map_err(|e| TestCaseError::fail(format!("{e}: {shuffled:?}")))?;
            prop_assert_eq!(render(&parsed), render(&action));
        }
    }
}
