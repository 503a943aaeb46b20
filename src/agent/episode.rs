//! What an episode records, and the prompt the student sees at each of its turns.
//!
//! An *episode* is one student attempt at one task instance: a list of *rounds*, each one model
//! reply and what came of it — an action and its observation, or a reply that broke the output
//! contract and the corrective message that answered it. The prompt of the next turn is built
//! from the rounds exactly as `steps` builds training prompts (system prompt, the problem, the
//! last N rounds as canonical action / `OBSERVATION:` turns, observations cut to head + tail),
//! so the student acts in the words it was trained on. A rejected reply is shown as the raw
//! text it wrote, followed by the corrective message.
//!
//! Pure: no model, no sandbox. The episode becomes an `srl.trajectory/1` record here; the
//! SWE-agent `.traj` rendering lives in `output`.

use crate::action::{render, Action};
use crate::reward::format::write_response;
use crate::steps::truncate::head_tail;
use crate::steps::{prompt, Message};
use crate::trajectory::{Fnv64, RejectedReply, Step, Trajectory, Usage, SCHEMA};

/// The `source_format` of trajectories the agent writes.
pub const SOURCE_FORMAT: &str = "srl-agent";

/// Tools the student is offered: those the shipped tasks' experts use.
pub const TOOLS: [&str; 3] = ["bash", "str_replace_editor", "submit"];

/// What became of one model reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A well-formed reply: its action ran.
    Action { thought: String, action: Action, observation: String, exit_code: Option<i64> },
    /// The reply broke the output contract; `error` says how (from `reward::format`).
    FormatError { error: String },
}

/// One model reply and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// The model's text, verbatim.
    pub reply: String,
    pub outcome: Outcome,
    /// This round's model call and, for an action, its execution.
    pub usage: Usage,
    /// The reply as exact token ids and log-probs, when the model is local.
    pub tokens: Option<super::model::TurnTokens>,
}

/// How an episode ended. Returned by the loop, never kept in flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Termination {
    /// The student called `submit` (or `finish`).
    Submitted,
    /// `--max-steps` replies were spent without a submission.
    StepLimit,
    /// The model or the sandbox failed; the message says which and why. Not the student's fault.
    Error(String),
}

impl Termination {
    /// The `exit_status` written to the trajectory (SWE-agent's words where it has them).
    pub fn exit_status(&self) -> &'static str {
        match self {
            Termination::Submitted => "submitted",
            Termination::StepLimit => "exit_step_limit",
            Termination::Error(_) => "exit_error",
        }
    }
}

/// Everything one episode produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub instance_id: String,
    pub problem_statement: String,
    pub rounds: Vec<Round>,
    pub termination: Termination,
    /// The work tree's diff when the episode ended (whether or not the student submitted).
    pub submission: String,
    /// Wall seconds of the whole episode, sandbox start and teardown included.
    pub seconds: f64,
}

impl Episode {
    /// Totals over every round.
    pub fn usage(&self) -> Usage {
        let mut total = Usage::default();
        for round in &self.rounds {
            total.add(&round.usage);
        }
        total
    }

    pub fn n_actions(&self) -> usize {
        self.rounds.iter().filter(|r| matches!(r.outcome, Outcome::Action { .. })).count()
    }
}

/// The user message that answers a reply which broke the output contract.
pub fn format_error_message(error: &str) -> String {
    let example = write_response("I should look at the repository first.", &render(&Action::bash("ls")));
    format!(
        "Your reply was not in the required format ({error}), so nothing was run. Reply with your \
         reasoning inside one <think>...</think> block, then exactly one function call, for example:\n{example}"
    )
}

/// The chat prompt for the next turn: system prompt, the problem, then the last
/// `context_rounds` rounds (`None`: all), observations cut to `max_observation_chars`.
pub fn prompt_messages(
    problem_statement: &str,
    rounds: &[Round],
    context_rounds: Option<usize>,
    max_observation_chars: usize,
) -> Vec<Message> {
    let first_shown = context_rounds.map_or(0, |n| rounds.len().saturating_sub(n));
    let mut messages = vec![
        message("system", prompt::system_prompt(TOOLS)),
        message("user", prompt::task_message(problem_statement, first_shown)),
    ];
    for round in &rounds[first_shown..] {
        let (assistant, user) = match &round.outcome {
            Outcome::Action { action, observation, .. } => {
                let (text, _) = head_tail(observation, max_observation_chars);
                (render(action), prompt::observation_message(&text))
            }
            Outcome::FormatError { error } => {
                (head_tail(&round.reply, max_observation_chars).0, format_error_message(error))
            }
        };
        messages.push(message("assistant", assistant));
        messages.push(message("user", user));
    }
    messages
}

fn message(role: &str, content: String) -> Message {
    Message { role: role.to_string(), content }
}

/// The episode as an `srl.trajectory/1` record. Each step keeps the replies rejected before
/// it (text and reason) and its usage includes them; the trajectory's usage is the total.
/// `source` names where it is written.
pub fn to_trajectory(episode: &Episode, source: &str) -> Trajectory {
    let mut steps = Vec::new();
    let mut pending = Usage::default();
    let mut rejected = Vec::new();
    for round in &episode.rounds {
        pending.add(&round.usage);
        match &round.outcome {
            Outcome::Action { thought, action, observation, exit_code } => {
                let mut step = Step::new(thought.clone(), action.clone(), observation.clone(), *exit_code);
                step.usage = Some(std::mem::take(&mut pending));
                step.rejected_replies = std::mem::take(&mut rejected);
                steps.push(step);
            }
            Outcome::FormatError { error } => {
                rejected.push(RejectedReply { text: round.reply.clone(), reason: error.clone() })
            }
        }
    }
    let problem_statement = episode.problem_statement.trim().to_string();
    let mut hash = Fnv64::new();
    hash.write(problem_statement.as_bytes());
    for step in &steps {
        hash.write(step.action_text.as_bytes());
        hash.write(step.observation.as_bytes());
    }
    Trajectory {
        schema: SCHEMA.to_string(),
        id: format!("{}.{:08x}", episode.instance_id, hash.finish() as u32),
        instance_id: Some(episode.instance_id.clone()),
        instance_id_source: None,
        source_format: SOURCE_FORMAT.to_string(),
        source: source.to_string(),
        problem_statement,
        steps,
        submission: Some(episode.submission.clone()).filter(|s| !s.trim().is_empty()),
        exit_status: Some(episode.termination.exit_status().to_string()),
        resolved: None,
        usage: Some(episode.usage()),
        rejected_after_last_step: rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action_round(i: usize, observation_len: usize) -> Round {
        Round {
            reply: format!("<think>t{i}</think><function=bash><parameter=command>echo {i}</parameter></function>"),
            outcome: Outcome::Action {
                thought: format!("t{i}"),
                action: Action::bash(format!("echo {i}")),
                observation: "x".repeat(observation_len),
                exit_code: Some(0),
            },
            usage: Usage { model_calls: 1, prompt_tokens: 10, completion_tokens: 5, ..Usage::default() },
            tokens: None,
        }
    }

    fn error_round(reply: &str) -> Round {
        Round {
            reply: reply.to_string(),
            outcome: Outcome::FormatError { error: "completion does not start with <think>".to_string() },
            usage: Usage {
                model_calls: 1,
                format_errors: 1,
                prompt_tokens: 7,
                completion_tokens: 3,
                ..Usage::default()
            },
            tokens: None,
        }
    }

    /// Roles of the prompt (first letters) after `rounds`, with `context` rounds shown.
    fn check(rounds: &[Round], context: Option<usize>, expect_roles: &str) -> Vec<Message> {
        let messages = prompt_messages("Fix it", rounds, context, 25);
        let roles: Vec<&str> = messages.iter().map(|m| &m.role[..1]).collect();
        assert_eq!(roles.join(""), expect_roles);
        messages
    }

    #[test]
    fn first_turn_sees_only_the_problem() {
        let messages = check(&[], Some(2), "su");
        assert_eq!(messages[1].content, "<problem_statement>\nFix it\n</problem_statement>");
        assert!(messages[0].content.contains("str_replace_editor:"));
    }

    #[test]
    fn window_keeps_the_last_rounds_and_announces_the_rest() {
        let rounds: Vec<Round> = (0..5).map(|i| action_round(i, 40)).collect();
        let messages = check(&rounds, Some(2), "suauau");
        assert!(messages[1].content.ends_with("(3 earlier steps taken on this task are not shown.)"));
        assert_eq!(messages[2].content, render(&Action::bash("echo 3")), "assistant turns are canonical actions");
        assert!(messages[3].content.starts_with("OBSERVATION:\n"));
        assert!(messages[3].content.contains("characters elided"), "observations are cut to head + tail");
        check(&rounds, None, "suauauauauau");
        check(&rounds, Some(0), "su");
    }

    #[test]
    fn a_rejected_reply_is_shown_with_the_corrective_message() {
        let rounds = vec![action_round(0, 3), error_round("Sure, I will fix it.")];
        let messages = check(&rounds, Some(2), "suauau");
        assert_eq!(messages[4].content, "Sure, I will fix it.");
        assert!(messages[5].content.starts_with("Your reply was not in the required format (completion does not"));
        assert!(messages[5].content.contains("<think>"));
        assert!(crate::reward::format::check_format(messages[5].content.split_once("example:\n").unwrap().1).is_ok());
    }

    #[test]
    fn trajectory_keeps_actions_and_charges_rejected_replies_to_the_next_step() {
        let episode = Episode {
            instance_id: "demo-1".to_string(),
            problem_statement: "  Fix it\n".to_string(),
            rounds: vec![error_round("no"), action_round(0, 3), error_round("no again")],
            termination: Termination::StepLimit,
            submission: String::new(),
            seconds: 1.0,
        };
        let trajectory = to_trajectory(&episode, "trajs/demo-1.traj");
        assert_eq!(trajectory.schema, SCHEMA);
        assert!(trajectory.id.starts_with("demo-1."));
        assert_eq!(trajectory.problem_statement, "Fix it");
        assert_eq!(trajectory.steps.len(), 1);
        let step_usage = trajectory.steps[0].usage.clone().unwrap();
        assert_eq!((step_usage.model_calls, step_usage.format_errors, step_usage.prompt_tokens), (2, 1, 17));
        let total = trajectory.usage.unwrap();
        assert_eq!((total.model_calls, total.format_errors, total.completion_tokens), (3, 2, 11));
        assert_eq!(trajectory.exit_status.as_deref(), Some("exit_step_limit"));
        assert_eq!(trajectory.submission, None, "an empty diff is no submission");
        let before = &trajectory.steps[0].rejected_replies;
        assert_eq!(before.len(), 1);
        assert_eq!(
            (before[0].text.as_str(), before[0].reason.as_str()),
            ("no", "completion does not start with <think>")
        );
        assert_eq!(trajectory.rejected_after_last_step.len(), 1);
        assert_eq!(trajectory.rejected_after_last_step[0].text, "no again");
    }
}
