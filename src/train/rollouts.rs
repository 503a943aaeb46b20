//! `rollouts.jsonl`: what the policy wrote during SRL training, one line per sampled group, so a
//! person (or `srl view`) can read the expert's step beside the rollouts for the same prompt.
//!
//! The file is bounded twice: groups are written only for the first `srl.log_rollout_steps`
//! steps of the run, and each completion is cut to `srl.log_rollout_chars` characters (head
//! kept, the original length recorded, never cut silently). Dropped groups (dynamic sampling)
//! are written too, marked `kept: false` and without advantages. On resume the lines of steps
//! after the checkpoint are removed, as `metrics.jsonl`'s are.
//!
//! Record (`srl.rollouts/1`): `schema`, `step` (global optimisation step), `stage`, `group`
//! (index within the step), `round` (dynamic-sampling round), `step_id` (the step instance),
//! `instance_id`, `kept`, `expert_action` (canonical text), `rollouts[]` of `completion`,
//! `completion_chars` (length before the cut), `truncated`, `reward`, `format_ok`,
//! `similarity`, `execution`, `advantage`.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::srl::SampledGroup;

/// The `schema` value of every record.
pub const SCHEMA: &str = "srl.rollouts/1";

/// How much of the rollouts a run keeps.
#[derive(Debug, Clone, Copy)]
pub struct RolloutLog {
    /// Steps (counted from the run's first) whose groups are written; 0 writes none.
    pub max_steps: usize,
    /// Characters of each completion kept.
    pub max_chars: usize,
}

#[derive(Serialize)]
struct GroupRecord<'a> {
    schema: &'static str,
    step: usize,
    stage: &'a str,
    group: usize,
    round: usize,
    step_id: &'a str,
    instance_id: Option<&'a str>,
    kept: bool,
    expert_action: &'a str,
    rollouts: Vec<RolloutRecord<'a>>,
}

#[derive(Serialize)]
struct RolloutRecord<'a> {
    completion: &'a str,
    completion_chars: usize,
    truncated: bool,
    reward: f64,
    format_ok: bool,
    similarity: Option<f64>,
    execution: Option<f64>,
    advantage: Option<f64>,
}

/// The first `max_chars` characters of `text` (on a character boundary).
fn head(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

/// Appends the groups of global step `step` to `path` (nothing past `log.max_steps`).
pub fn append(path: &Path, log: RolloutLog, stage: &str, step: usize, groups: &[SampledGroup]) -> Result<()> {
    if step >= log.max_steps || groups.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for (idx, group) in groups.iter().enumerate() {
        let rollouts = group
            .completions
            .iter()
            .zip(&group.rewards)
            .enumerate()
            .map(|(k, (completion, reward))| {
                let kept = head(completion, log.max_chars);
                RolloutRecord {
                    completion: kept,
                    completion_chars: completion.chars().count(),
                    truncated: kept.len() < completion.len(),
                    reward: reward.reward,
                    format_ok: reward.format_ok,
                    similarity: reward.similarity,
                    execution: reward.execution,
                    advantage: group.advantages.get(k).copied(),
                }
            })
            .collect();
        let record = GroupRecord {
            schema: SCHEMA,
            step,
            stage,
            group: idx,
            round: group.round,
            step_id: &group.step_id,
            instance_id: group.instance_id.as_deref(),
            kept: !group.advantages.is_empty(),
            expert_action: &group.target,
            rollouts,
        };
        text.push_str(&serde_json::to_string(&record)?);
        text.push('\n');
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// Removes the records of steps at or after `step` (a resume from a checkpoint taken before them).
pub fn truncate_from_step(path: &Path, step: usize) -> Result<()> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut kept = String::new();
    for line in text.lines() {
        let record_step = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("step").and_then(serde_json::Value::as_u64));
        if record_step.is_some_and(|s| (s as usize) < step) {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    if kept != text {
        crate::atomic::write_file(path, kept.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::srl::RolloutReward;

    fn group(kept: bool) -> SampledGroup {
        let reward = |r: f64| RolloutReward { reward: r, format_ok: r >= 0.0, similarity: Some(r), execution: None };
        SampledGroup {
            step_id: "t.0000/2".into(),
            instance_id: Some("repo__1".into()),
            target: "ls -la".into(),
            round: 0,
            completions: vec!["ls -l".into(), "é".repeat(10)],
            rewards: vec![reward(0.9), reward(-1.0)],
            advantages: if kept { vec![1.0, -1.0] } else { Vec::new() },
        }
    }

    #[test]
    fn groups_are_written_bounded_and_truncated_on_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollouts.jsonl");
        let log = RolloutLog { max_steps: 2, max_chars: 4 };
        for step in 0..3 {
            append(&path, log, "srl", step, &[group(true), group(false)]).unwrap();
        }
        let lines: Vec<serde_json::Value> =
            fs::read_to_string(&path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 4, "step 2 is past max_steps");
        let first = &lines[0];
        assert_eq!(first["expert_action"], "ls -la");
        assert_eq!(first["rollouts"][0]["completion"], "ls -");
        assert_eq!(first["rollouts"][1]["completion"], "éééé");
        assert_eq!(first["rollouts"][1]["completion_chars"], 10);
        assert_eq!(first["rollouts"][1]["truncated"], true);
        assert_eq!(first["rollouts"][0]["advantage"], 1.0);
        assert_eq!(lines[1]["kept"], false);
        assert!(lines[1]["rollouts"][0]["advantage"].is_null());
        truncate_from_step(&path, 1).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 2);
    }
}
