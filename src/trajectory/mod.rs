//! Expert trajectories in one normalized format, `srl.trajectory/1`, and the importers that
//! produce it from what real agent scaffolds write.
//!
//! A *trajectory* is one agent's attempt at one problem: the problem statement, then a list of
//! *steps*, each one action with the thought before it and the observation after it. The serde
//! structs below are the file format (one JSON object per line); their field docs are its
//! documentation.
//!
//! Each source format lives in its own file and exposes two pure functions over an already
//! decoded JSON value: `sniff` (is this record mine?) and `parse` (record → [`Parsed`]).
//! Reading files, streaming JSONL and choosing the format is [`read`]'s and [`detect`]'s job.

pub mod dataset;
pub mod detect;
pub mod line;
mod mini_swe_agent;
mod nebius;
mod openai_chat;
mod openhands;
mod openhands_completions;
pub mod origin;
pub mod outcome;
pub mod problem;
pub mod read;
mod swe_agent;
mod swe_smith;

use serde::{Deserialize, Serialize};

use crate::action::{render, Action};

pub use detect::Format;
pub use origin::IdSource;

/// The `schema` value of every record this version writes.
pub const SCHEMA: &str = "srl.trajectory/1";

/// One trajectory: a line of a `srl.trajectory/1` JSONL file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// Always `srl.trajectory/1`.
    pub schema: String,
    /// Stable id: instance id (or file stem) plus a hash of the trajectory's content, so the
    /// same trajectory gets the same id wherever and whenever it is imported.
    pub id: String,
    /// The benchmark instance the trajectory solves, when the source names it.
    pub instance_id: Option<String>,
    /// Where `instance_id` came from: `record`, `file name` (SWE-agent 0.x names a `.traj`
    /// after its instance and keeps the id nowhere else) or `folder name` (`trajs/<id>/…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id_source: Option<IdSource>,
    /// Which importer read it (`swe-agent`, `mini-swe-agent`, `swe-smith`, `openhands`, …).
    pub source_format: String,
    /// The file it came from, as given on the command line, with `#N` for record N of a multi-record file.
    pub source: String,
    /// The task as the agent saw it, with the scaffold's instructions stripped where they can be told apart.
    pub problem_statement: String,
    pub steps: Vec<Step>,
    /// The final patch, when the source records one.
    pub submission: Option<String>,
    /// How the run ended (`submitted`, `Submitted`, `exit_cost`, …), verbatim from the source.
    pub exit_status: Option<String>,
    /// Whether the run solved its task, when the source dataset says so (`resolved`, `target`;
    /// see [`outcome`]). Absent when the source has no such field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<bool>,
    /// What the whole run cost, when its producer measured it (`srl agent`); replies rejected
    /// for their format are counted here although they are no steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Replies rejected for their format after the last step (`srl agent`): the ones before a
    /// step are kept on that step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_after_last_step: Vec<RejectedReply>,
}

/// A model reply that broke the output contract, so nothing ran: kept so that a person can
/// read why an agent failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedReply {
    /// The whole reply (response prefix included).
    pub text: String,
    /// What broke the contract (`reward::format`'s words).
    pub reason: String,
}

/// One agent step: exactly one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The model's free text before the action (may be empty).
    pub thought: String,
    pub action: Action,
    /// Canonical rendering of `action` (see `action::render`); what rewards compare.
    pub action_text: String,
    /// What the environment answered.
    pub observation: String,
    /// Exit status of the command, when the source records it.
    pub exit_code: Option<i64>,
    /// What producing this step cost, when measured (`srl agent`): the model calls that led to
    /// the action, rejected replies before it included, and the action's execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Replies rejected for their format just before this step's action (`srl agent`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_replies: Vec<RejectedReply>,
}

/// Model calls, tokens and wall time spent on a step or a whole trajectory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub model_calls: u64,
    /// Replies that broke the output contract and were answered with a corrective message.
    pub format_errors: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Wall seconds waiting for the model.
    pub model_seconds: f64,
    /// Wall seconds running actions in the sandbox.
    pub exec_seconds: f64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.model_calls += other.model_calls;
        self.format_errors += other.format_errors;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.model_seconds += other.model_seconds;
        self.exec_seconds += other.exec_seconds;
    }
}

impl Step {
    pub fn new(
        thought: impl Into<String>,
        action: Action,
        observation: impl Into<String>,
        exit_code: Option<i64>,
    ) -> Step {
        let action_text = render(&action);
        Step {
            thought: thought.into(),
            action,
            action_text,
            observation: observation.into(),
            exit_code,
            usage: None,
            rejected_replies: Vec::new(),
        }
    }
}

/// What a format parser extracts from one record, before ids and provenance are attached.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub instance_id: Option<String>,
    pub problem_statement: String,
    pub steps: Vec<Step>,
    pub submission: Option<String>,
    pub exit_status: Option<String>,
    /// Agent turns that held no parseable action (format errors, plain messages); counted, not emitted.
    pub skipped_turns: usize,
}

impl Parsed {
    /// Attaches provenance and the content-derived id.
    pub fn into_trajectory(self, format: Format, source: String, fallback_name: &str) -> Trajectory {
        let name = self.instance_id.clone().unwrap_or_else(|| fallback_name.to_string());
        let mut hash = Fnv64::new();
        hash.write(self.problem_statement.as_bytes());
        for step in &self.steps {
            hash.write(step.action_text.as_bytes());
            hash.write(step.observation.as_bytes());
        }
        Trajectory {
            schema: SCHEMA.to_string(),
            id: format!("{name}.{:08x}", hash.finish() as u32),
            instance_id_source: self.instance_id.as_ref().map(|_| IdSource::Record),
            instance_id: self.instance_id,
            source_format: format.name().to_string(),
            source,
            problem_statement: self.problem_statement,
            steps: self.steps,
            submission: self.submission,
            exit_status: self.exit_status,
            resolved: None,
            usage: None,
            rejected_after_last_step: Vec::new(),
        }
    }
}

/// FNV-1a, 64 bit: a tiny, fixed, dependency-free hash for ids that must never change
/// between builds (std's `DefaultHasher` makes no such promise).
pub struct Fnv64(u64);

impl Fnv64 {
    pub fn new() -> Fnv64 {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") hash differently.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }

    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}
