//! Which importer reads a record: the `--format` names and content sniffing for `auto`.
//!
//! Sniffing looks at the shape of one decoded record (its keys, the shape of its first
//! messages), never at file names, so a renamed file still imports. The order of the checks
//! matters only where shapes overlap, and each overlap is commented.

use serde_json::Value;

use super::{mini_swe_agent, nebius, openai_chat, openhands, openhands_completions, swe_agent, swe_smith, Parsed};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// SWE-agent `.traj` (0.x text commands and 1.x function calling) and its demo YAML.
    SweAgent,
    /// mini-swe-agent `.traj.json`: the `mini-swe-agent-1` object or a bare message list.
    MiniSweAgent,
    /// SWE-smith fine-tuning JSONL: `{"messages": […]}` with `<function=…>` calls.
    SweSmith,
    /// OpenHands `output.jsonl` records (both vintages) and bare event lists.
    OpenHands,
    /// OpenHands `llm_completions/<id>/*.json`: one LLM request + response.
    OpenHandsCompletions,
    /// nebius/SWE-agent-trajectories rows: SWE-agent 0.x runs as a `trajectory` of `{role, text}`.
    Nebius,
    /// OpenAI tool-calling chats (`trajectory` or `messages` with `tool_calls`): SWE-Zero, SWE-smith `tool`.
    OpenAiChat,
}

pub const ALL: [Format; 7] = [
    Format::SweAgent,
    Format::MiniSweAgent,
    Format::SweSmith,
    Format::OpenHands,
    Format::OpenHandsCompletions,
    Format::Nebius,
    Format::OpenAiChat,
];

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::SweAgent => "swe-agent",
            Format::MiniSweAgent => "mini-swe-agent",
            Format::SweSmith => "swe-smith",
            Format::OpenHands => "openhands",
            Format::OpenHandsCompletions => "openhands-completions",
            Format::Nebius => "nebius-swe-agent",
            Format::OpenAiChat => "openai-chat",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn parse(self, record: &Value) -> Result<Parsed, String> {
        match self {
            Format::SweAgent => swe_agent::parse(record),
            Format::MiniSweAgent => mini_swe_agent::parse(record),
            Format::SweSmith => swe_smith::parse(record),
            Format::OpenHands => openhands::parse(record),
            Format::OpenHandsCompletions => openhands_completions::parse(record),
            Format::Nebius => nebius::parse(record),
            Format::OpenAiChat => openai_chat::parse(record),
        }
    }
}

/// The format of one record, or `None` when it is not a trajectory (a report, a prediction
/// file, a task instance…).
pub fn sniff(record: &Value) -> Option<Format> {
    // SWE-agent's `history` + `trajectory` is checked before OpenHands' `history`, which never
    // comes with a `trajectory` key.
    if swe_agent::sniff(record) {
        return Some(Format::SweAgent);
    }
    if mini_swe_agent::sniff(record) {
        return Some(Format::MiniSweAgent);
    }
    // SWE-smith records are bare `messages` lists too; they are told apart from mini-swe-agent
    // by their `<function=` calls, so mini-swe-agent is asked first and declines those.
    if swe_smith::sniff(record) {
        return Some(Format::SweSmith);
    }
    if openhands_completions::sniff(record) {
        return Some(Format::OpenHandsCompletions);
    }
    if openhands::sniff(record) {
        return Some(Format::OpenHands);
    }
    // Dataset rows. Both decline `history` (SWE-agent) and, for tool calls, `response`
    // (completion logs); nebius' messages have `text` where chat messages have `content`.
    if nebius::sniff(record) {
        return Some(Format::Nebius);
    }
    if openai_chat::sniff(record) {
        return Some(Format::OpenAiChat);
    }
    None
}
