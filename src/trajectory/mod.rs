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
        let mut hash = Fnv64::new();
        for piece in self.hashed_pieces() {
            hash.write(piece);
        }
        self.into_trajectory_hashed(hash.finish(), format, source, fallback_name)
    }

    /// What the id's content hash covers, one [`Fnv64::write`] each: the problem statement,
    /// then every step's canonical action and observation.
    pub fn hashed_pieces(&self) -> Vec<&[u8]> {
        let mut pieces = vec![self.problem_statement.as_bytes()];
        for step in &self.steps {
            pieces.extend([step.action_text.as_bytes(), step.observation.as_bytes()]);
        }
        pieces
    }

    /// [`Parsed::into_trajectory`] with the hash of [`Parsed::hashed_pieces`] already made
    /// (by [`fnv64_lanes`], say).
    pub fn into_trajectory_hashed(self, hash: u64, format: Format, source: String, fallback_name: &str) -> Trajectory {
        let name = self.instance_id.clone().unwrap_or_else(|| fallback_name.to_string());
        Trajectory {
            schema: SCHEMA.to_string(),
            id: format!("{name}.{:08x}", hash as u32),
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

/// Hashes at once, in lock step.
const LANES: usize = 4;

/// The [`Fnv64`] of each `lanes[k]` (every piece `write`n in turn), several lanes at a time.
/// FNV-1a is a chain, one multiplication per byte that waits for the one before, so a single
/// hash runs at the multiplier's latency (about 1 GB/s); four independent chains interleaved
/// keep the multiplier busy and run nearly four times as fast. Importing a dataset hashes
/// every observation, and this took the hash from a fifth of `srl import`'s time to a
/// twentieth, with every id unchanged.
pub fn fnv64_lanes(lanes: &[Vec<&[u8]>]) -> Vec<u64> {
    lanes.chunks(LANES).flat_map(fnv64_group).collect()
}

/// [`fnv64_lanes`] for at most [`LANES`] lanes. The separator after each piece is the byte
/// 0xff hashed like any other, so each lane is one stream of bytes.
fn fnv64_group(group: &[Vec<&[u8]>]) -> Vec<u64> {
    /// What a finished lane (or a missing one) hashes, unread, while the others go on.
    const IDLE: &[u8] = &[0; 256];
    let step = |hash: u64, byte: u8| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    let mut hashes = [Fnv64::new().0; LANES];
    let mut results = vec![Fnv64::new().0; group.len()];
    // Per lane: the rest of the current piece (its separator still due) and the next piece.
    let mut current: [&[u8]; LANES] = [IDLE; LANES];
    let mut next = [0; LANES];
    let mut live = [false; LANES];
    for (k, pieces) in group.iter().enumerate() {
        if let Some(first) = pieces.first() {
            (current[k], next[k], live[k]) = (first, 1, true);
        }
    }
    loop {
        for (k, pieces) in group.iter().enumerate() {
            while live[k] && current[k].is_empty() {
                hashes[k] = step(hashes[k], 0xff);
                match pieces.get(next[k]) {
                    Some(piece) => (current[k], next[k]) = (piece, next[k] + 1),
                    None => (results[k], current[k], live[k]) = (hashes[k], IDLE, false),
                }
            }
        }
        if !live.contains(&true) {
            return results;
        }
        let run = (0..LANES).filter(|&k| live[k]).map(|k| current[k].len()).min().expect("a live lane");
        let run = run.min(IDLE.len());
        let [a, b, c, d] = current.map(|piece| &piece[..run]);
        for (((&a, &b), &c), &d) in a.iter().zip(b).zip(c).zip(d) {
            hashes = [step(hashes[0], a), step(hashes[1], b), step(hashes[2], c), step(hashes[3], d)];
        }
        for k in 0..LANES {
            current[k] = if live[k] { &current[k][run..] } else { IDLE };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_hash_as_one_fnv64_each() {
        // Lanes of uneven lengths: none, empty pieces, pieces longer than a run, 1 to 9 lanes.
        let text: Vec<u8> = (0..3000u32).map(|n| (n.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        let lane = |seed: usize| -> Vec<&[u8]> {
            (0..seed % 5).map(|n| &text[n * seed % 700..(n * seed % 700) + (n * 37 + seed * 301) % 2000]).collect()
        };
        for n_lanes in 1..10 {
            let lanes: Vec<Vec<&[u8]>> = (0..n_lanes).map(|k| lane(k * 7 + n_lanes)).collect();
            let expected: Vec<u64> = lanes
                .iter()
                .map(|pieces| {
                    let mut hash = Fnv64::new();
                    pieces.iter().for_each(|piece| hash.write(piece));
                    hash.finish()
                })
                .collect();
            assert_eq!(fnv64_lanes(&lanes), expected, "{n_lanes} lanes");
        }
    }
}
