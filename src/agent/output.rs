//! The run directory of `srl agent`, every file written atomically:
//!
//! - `trajectories.jsonl`: one `srl.trajectory/1` record per episode, with per-step usage;
//! - `trajs/<instance_id>.traj`: the episode as a SWE-agent 1.x function-calling trajectory
//!   (`trajectory[]` of action / observation / response / thought, the chat `history` with
//!   `tool_calls`, `info` with submission, exit status and `model_stats`), which SWE-agent's
//!   tools and our own importer read;
//! - `preds.jsonl`: SWE-bench predictions (`instance_id`, `model_name_or_path`, `model_patch`);
//! - `summary.json`: the run in numbers ([`run_summary`]), written by the caller after grading.
//!
//! Building the `.traj` value and the summary is pure; only [`write_episodes`] touches disk.

use std::path::Path;

use anyhow::Result;
use serde_json::{json, Value};

use super::episode::{format_error_message, to_trajectory, Episode, Outcome, Termination, TOOLS};
use crate::action::render;
use crate::atomic::{write_file, AtomicFile};
use crate::jsonl::write_record;
use crate::steps::prompt;
use crate::task::eval::{InstanceResult, Prediction, Status};

/// The name of an instance's `.traj` file: its id with anything unsafe in a file name replaced.
pub fn traj_file_name(instance_id: &str) -> String {
    let safe: String =
        instance_id.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("{safe}.traj")
}

/// Writes trajectories, `.traj` files and predictions; returns the predictions.
pub fn write_episodes(run_dir: &Path, model_name: &str, episodes: &[Episode]) -> Result<Vec<Prediction>> {
    let mut trajectories = AtomicFile::create(&run_dir.join("trajectories.jsonl"))?;
    let mut predictions = Vec::with_capacity(episodes.len());
    for episode in episodes {
        let traj_name = format!("trajs/{}", traj_file_name(&episode.instance_id));
        write_record(&mut trajectories, &to_trajectory(episode, &traj_name))?;
        let traj = swe_agent_traj(episode);
        write_file(&run_dir.join(&traj_name), serde_json::to_string_pretty(&traj)?.as_bytes())?;
        predictions.push(Prediction {
            instance_id: episode.instance_id.clone(),
            model_name_or_path: model_name.to_string(),
            model_patch: Some(episode.submission.clone()),
        });
    }
    trajectories.commit()?;
    let mut preds = AtomicFile::create(&run_dir.join("preds.jsonl"))?;
    for prediction in &predictions {
        write_record(&mut preds, prediction)?;
    }
    preds.commit()?;
    Ok(predictions)
}

fn chat(role: &str, content: &str, message_type: &str) -> Value {
    json!({"role": role, "content": content, "agent": "main", "message_type": message_type})
}

/// The episode as a SWE-agent 1.x `.traj` value.
pub fn swe_agent_traj(episode: &Episode) -> Value {
    let mut history = vec![
        chat("system", &prompt::system_prompt(TOOLS), "system_prompt"),
        chat("user", &prompt::task_message(&episode.problem_statement, 0), "observation"),
    ];
    let mut trajectory = Vec::new();
    for (idx, round) in episode.rounds.iter().enumerate() {
        match &round.outcome {
            Outcome::Action { thought, action, observation, .. } => {
                let id = format!("call_{idx}");
                let arguments = serde_json::to_string(&action.args).expect("string maps always serialize");
                let mut assistant = chat("assistant", thought, "action");
                assistant["thought"] = json!(thought);
                assistant["action"] = json!(render(action));
                assistant["tool_calls"] = json!([{
                    "id": id, "type": "function", "function": {"name": action.tool, "arguments": arguments}
                }]);
                let mut tool = chat("tool", &format!("OBSERVATION:\n{observation}"), "observation");
                tool["tool_call_ids"] = json!([id]);
                history.extend([assistant, tool]);
                // SWE-agent flattens a call into a command line; bash's is the command itself.
                let flat = action
                    .get("command")
                    .filter(|_| action.tool == "bash")
                    .map_or_else(|| render(action), str::to_string);
                trajectory.push(json!({
                    "action": flat,
                    "observation": observation,
                    "response": round.reply,
                    "thought": thought,
                    "execution_time": round.usage.exec_seconds,
                    "state": {},
                }));
            }
            Outcome::FormatError { error } => {
                history.push(chat("assistant", &round.reply, "action"));
                history.push(chat("user", &format_error_message(error), "observation"));
            }
        }
    }
    json!({
        "environment": episode.instance_id,
        "trajectory": trajectory,
        "history": history,
        "info": traj_info(episode),
        "replay_config": {"problem_statement": {"id": episode.instance_id, "text": episode.problem_statement}},
    })
}

/// SWE-agent's `info`: submission, exit status and `model_stats`, plus what only we measure.
fn traj_info(episode: &Episode) -> Value {
    let usage = episode.usage();
    let mut info = json!({
        "submission": episode.submission,
        "exit_status": episode.termination.exit_status(),
        "model_stats": {
            "instance_cost": 0.0,
            "tokens_sent": usage.prompt_tokens,
            "tokens_received": usage.completion_tokens,
            "api_calls": usage.model_calls,
        },
        "format_errors": usage.format_errors,
        "seconds": episode.seconds,
    });
    if let Termination::Error(message) = &episode.termination {
        info["error"] = json!(message);
    }
    info
}

/// The run in numbers: totals, the resolve rate over every instance, seconds per model call,
/// and one line per episode with its grade (`results` from `task::eval`, any order).
pub fn run_summary(model_name: &str, episodes: &[Episode], results: &[InstanceResult]) -> Value {
    let mut total = crate::trajectory::Usage::default();
    for episode in episodes {
        total.add(&episode.usage());
    }
    let status_of = |id: &str| results.iter().find(|r| r.instance_id == id).map(|r| &r.status);
    let resolved = episodes.iter().filter(|e| status_of(&e.instance_id) == Some(&Status::Resolved)).count();
    let per_call = |seconds: f64| if total.model_calls == 0 { 0.0 } else { seconds / total.model_calls as f64 };
    let rows: Vec<Value> = episodes
        .iter()
        .map(|episode| {
            let usage = episode.usage();
            json!({
                "instance_id": episode.instance_id,
                "exit_status": episode.termination.exit_status(),
                "error": match &episode.termination { Termination::Error(m) => Some(m), _ => None },
                "steps": episode.n_actions(),
                "model_calls": usage.model_calls,
                "format_errors": usage.format_errors,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "seconds": episode.seconds,
                "patch_lines": episode.submission.lines().count(),
                "grade": status_of(&episode.instance_id),
            })
        })
        .collect();
    json!({
        "model": model_name,
        "instances": episodes.len(),
        "submitted": episodes.iter().filter(|e| e.termination == Termination::Submitted).count(),
        "errors": episodes.iter().filter(|e| matches!(e.termination, Termination::Error(_))).count(),
        "resolved": resolved,
        "resolve_rate": if episodes.is_empty() { 0.0 } else { resolved as f64 / episodes.len() as f64 },
        "steps": episodes.iter().map(Episode::n_actions).sum::<usize>(),
        // Replies that kept the output contract, over all model calls.
        "format_valid_rate": if total.model_calls == 0 {
            0.0
        } else {
            (total.model_calls - total.format_errors) as f64 / total.model_calls as f64
        },
        "usage": total,
        "seconds_per_model_call": per_call(total.model_seconds),
        "seconds_per_step": per_call(total.model_seconds + total.exec_seconds),
        "episodes": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::trajectory::Usage;

    fn episode() -> Episode {
        let usage = Usage { model_calls: 1, prompt_tokens: 100, completion_tokens: 20, ..Usage::default() };
        Episode {
            instance_id: "owner__repo-1".to_string(),
            problem_statement: "Fix the bug".to_string(),
            rounds: vec![
                super::super::episode::Round {
                    reply: "I will fix it".to_string(),
                    outcome: Outcome::FormatError { error: "completion does not start with <think>".to_string() },
                    usage: Usage { format_errors: 1, ..usage.clone() },
                    tokens: None,
                },
                super::super::episode::Round {
                    reply: "<think>look</think><function=bash><parameter=command>ls</parameter></function>".to_string(),
                    outcome: Outcome::Action {
                        thought: "look".to_string(),
                        action: Action::bash("ls"),
                        observation: "a.py".to_string(),
                        exit_code: Some(0),
                    },
                    usage,
                    tokens: None,
                },
            ],
            termination: Termination::StepLimit,
            submission: String::new(),
            seconds: 2.0,
        }
    }

    #[test]
    fn traj_has_swe_agent_shape_and_stats() {
        let traj = swe_agent_traj(&episode());
        assert_eq!(traj["trajectory"].as_array().unwrap().len(), 1, "only actions are trajectory entries");
        assert_eq!(traj["trajectory"][0]["action"], "ls");
        assert_eq!(traj["history"].as_array().unwrap().len(), 6);
        assert_eq!(
            traj["info"]["model_stats"],
            json!({"instance_cost": 0.0, "tokens_sent": 200, "tokens_received": 40, "api_calls": 2})
        );
        assert_eq!(traj["info"]["exit_status"], "exit_step_limit");
    }

    #[test]
    fn traj_reimports_with_our_swe_agent_importer() {
        let episode = episode();
        let traj = swe_agent_traj(&episode);
        let ours = to_trajectory(&episode, "x.traj");
        let format = crate::trajectory::detect::sniff(&traj).expect("sniffed");
        let parsed = format.parse(&traj).unwrap();
        assert_eq!(format.name(), "swe-agent");
        assert_eq!(parsed.instance_id, ours.instance_id);
        assert_eq!(parsed.problem_statement, ours.problem_statement);
        assert_eq!(parsed.skipped_turns, 1, "the rejected reply");
        let strip = |s: &crate::trajectory::Step| (s.thought.clone(), s.action.clone(), s.observation.clone());
        assert_eq!(
            parsed.steps.iter().map(strip).collect::<Vec<_>>(),
            ours.steps.iter().map(strip).collect::<Vec<_>>()
        );
        assert_eq!(parsed.exit_status, ours.exit_status);
    }

    #[test]
    fn summary_counts_calls_and_resolve_rate() {
        let results = vec![InstanceResult {
            instance_id: "owner__repo-1".to_string(),
            status: Status::EmptyPatch,
            wall: std::time::Duration::ZERO,
            tests: std::time::Duration::ZERO,
            reused: false,
            retries: 0,
        }];
        let summary = run_summary("m", &[episode()], &results);
        assert_eq!(summary["resolve_rate"], 0.0);
        assert_eq!(summary["steps"], 1);
        assert_eq!(summary["usage"]["model_calls"], 2);
        assert_eq!(summary["episodes"][0]["grade"], "empty_patch");
    }
}
