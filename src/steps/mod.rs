//! Step-wise SRL instances: one training prompt per expert step.
//!
//! For step k of a trajectory the student sees the system prompt, the problem statement and
//! the previous expert rounds (each the expert's canonical action as an assistant turn and its
//! observation as a user turn), and must produce step k's action. Every step is a target,
//! including the first (context = the problem alone) and the last (usually `submit`): the
//! paper's literal k ∈ 1..N−1 would never teach the student to stop.
//!
//! By default only the last two rounds are shown, as in the paper's SWE setup; `all` keeps the
//! whole history. Pure: trajectories in, instances out.

pub mod prompt;
pub mod truncate;

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::trajectory::Trajectory;

/// The `schema` value of every step instance this version writes.
pub const SCHEMA: &str = "srl.step/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    fn new(role: &str, content: String) -> Message {
        Message { role: role.to_string(), content }
    }
}

/// One line of a `srl.step/1` JSONL file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepInstance {
    pub schema: String,
    /// `<trajectory id>/<step index>`, stable across runs.
    pub id: String,
    pub trajectory_id: String,
    pub instance_id: Option<String>,
    /// 0-based index of the target step in its trajectory.
    pub step_index: usize,
    pub n_steps: usize,
    /// Chat messages up to the point where the student answers: system, user, then alternating
    /// assistant (expert action) / user (observation).
    pub messages: Vec<Message>,
    /// The expert's action for this step, canonical text (what the reward compares against).
    pub target: String,
    pub target_action: Action,
    /// The expert's free text before the action (its monologue), for SFT targets.
    #[serde(default)]
    pub target_thought: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepOptions {
    /// How many previous expert rounds to show; `None` shows all.
    pub context_rounds: Option<usize>,
    /// Observations longer than this many characters are cut to head + tail.
    pub max_observation_chars: usize,
}

/// What building instances from a batch of trajectories produced, for the summary line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StepStats {
    pub trajectories: usize,
    pub instances: usize,
    pub context_chars: usize,
    pub truncated_observations: usize,
}

impl StepStats {
    pub fn line(&self) -> String {
        let mean = if self.instances == 0 { 0.0 } else { self.context_chars as f64 / self.instances as f64 };
        format!(
            "built {} step instances from {} trajectories (mean context {:.0} chars, {} observations truncated)",
            self.instances, self.trajectories, mean, self.truncated_observations
        )
    }
}

/// One instance per step of `trajectory`, in step order.
pub fn build_instances(trajectory: &Trajectory, options: &StepOptions, stats: &mut StepStats) -> Vec<StepInstance> {
    stats.trajectories += 1;
    let system = prompt::system_prompt(trajectory.steps.iter().map(|s| s.action.tool.as_str()));
    // The last step's observation is never context: nothing follows it.
    let shown = trajectory.steps.len().saturating_sub(1);
    let observations: Vec<String> = trajectory.steps[..shown]
        .iter()
        .map(|step| {
            let (text, truncated) = truncate::head_tail(&step.observation, options.max_observation_chars);
            stats.truncated_observations += usize::from(truncated);
            prompt::observation_message(&text)
        })
        .collect();
    let mut instances = Vec::with_capacity(trajectory.steps.len());
    for (k, step) in trajectory.steps.iter().enumerate() {
        let first_shown = options.context_rounds.map_or(0, |n| k.saturating_sub(n));
        let mut messages = vec![
            Message::new("system", system.clone()),
            Message::new("user", prompt::task_message(&trajectory.problem_statement, first_shown)),
        ];
        for (previous, observation) in trajectory.steps[first_shown..k].iter().zip(&observations[first_shown..k]) {
            messages.push(Message::new("assistant", previous.action_text.clone()));
            messages.push(Message::new("user", observation.clone()));
        }
        stats.instances += 1;
        stats.context_chars += messages.iter().map(|m| m.content.chars().count()).sum::<usize>();
        instances.push(StepInstance {
            schema: SCHEMA.to_string(),
            id: format!("{}/{k}", trajectory.id),
            trajectory_id: trajectory.id.clone(),
            instance_id: trajectory.instance_id.clone(),
            step_index: k,
            n_steps: trajectory.steps.len(),
            messages,
            target: step.action_text.clone(),
            target_action: step.action.clone(),
            target_thought: step.thought.clone(),
        });
    }
    instances
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trajectory::{Parsed, Step};

    fn trajectory(n: usize) -> Trajectory {
        let steps =
            (0..n).map(|i| Step::new("t", Action::bash(format!("echo {i}")), "x".repeat(i * 10), Some(0))).collect();
        let parsed = Parsed { problem_statement: "Fix it".into(), steps, ..Parsed::default() };
        parsed.into_trajectory(crate::trajectory::Format::SweSmith, "mem".into(), "demo")
    }

    fn check(n: usize, rounds: Option<usize>, step: usize, expect_roles: &str) {
        let options = StepOptions { context_rounds: rounds, max_observation_chars: 25 };
        let instances = build_instances(&trajectory(n), &options, &mut StepStats::default());
        let roles: Vec<&str> = instances[step].messages.iter().map(|m| &m.role[..1]).collect();
        assert_eq!(roles.join(""), expect_roles);
    }

    #[test]
    fn zero_rounds_shows_only_the_problem_at_every_step() {
        check(3, Some(0), 2, "su");
    }

    #[test]
    fn first_step_sees_only_the_problem() {
        check(4, Some(2), 0, "su");
    }

    #[test]
    fn context_keeps_the_last_two_rounds() {
        check(5, Some(2), 4, "suauau");
        check(5, None, 4, "suauauauau");
    }

    #[test]
    fn omitted_rounds_are_announced_and_observations_truncated() {
        let options = StepOptions { context_rounds: Some(1), max_observation_chars: 25 };
        let mut stats = StepStats::default();
        let instances = build_instances(&trajectory(5), &options, &mut stats);
        assert!(instances[4].messages[1].content.ends_with("(3 earlier steps taken on this task are not shown.)"));
        assert_eq!(instances[4].target, "<function=bash>\n<parameter=command>echo 4</parameter>\n</function>");
        assert_eq!(stats.instances, 5);
        assert_eq!(stats.truncated_observations, 1, "of 30 and 40 chars only the 30 is ever shown");
        assert!(instances[4].id.ends_with("/4"));
    }
}
