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
    json_argument_text, parse_completion_action, parse_fenced_bash, parse_fenced_blocks, parse_function_calls,
    parse_tool_call, Fenced, Located, ParseError,
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
