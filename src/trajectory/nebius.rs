//! nebius/SWE-agent-trajectories rows: SWE-agent 0.x runs flattened into a chat, a
//! `trajectory` list of `{role, text, system_prompt, mask, cutoff_date}` with roles `system`,
//! `user` and `ai`, beside `instance_id`, `model_name`, `target` (the patch passed the tests),
//! `exit_status`, `generated_patch` and `eval_logs`.
//!
//! Each `ai` message is the raw model response; SWE-agent 0.x executed the command in its last
//! fenced block, so that block is the step's `bash` action and the text around it the thought.
//! The `user` message after it is the observation as SWE-agent's template wrote it:
//! `{observation}\n(Open file: …)\n(Current directory: …)\nbash-$`, or the no-output sentence
//! in place of an empty observation. Both are template, not output, and are stripped, so a row
//! gives the steps the `.traj` of the same run gives (see the tests). `target` becomes the
//! trajectory's `resolved` in `read` (see `outcome`), like every dataset's outcome field.
//!
//! Deliberately not read: `mask` and `cutoff_date` (training bookkeeping of the dataset),
//! `eval_logs` (a test log, not part of the trajectory).

use serde_json::Value;

use super::problem::{extract_problem_statement, nonempty_string, str_field};
use super::{Parsed, Step};
use crate::action::{parse_fenced_blocks, Action};

/// How many messages `sniff` looks at.
const SNIFF_MESSAGES: usize = 3;

/// SWE-agent 0.x's `next_step_no_output_template`, written where the observation was empty.
const NO_OUTPUT: &str = "Your command ran successfully and did not produce any output.";

/// Where SWE-agent's prompt suffix starts, and how it ends.
const SUFFIX_START: &str = "\n(Open file: ";
const SUFFIX_END: &str = "bash-$";

/// The header of a demonstration pasted as a user message before the task.
const DEMO_HEADER: &str = "Here is a demonstration of how to correctly accomplish this task.";

pub fn sniff(record: &Value) -> bool {
    let Some(object) = record.as_object() else { return false };
    // SWE-agent's own `.traj` files hold a `trajectory` too, next to their `history`.
    if object.contains_key("history") {
        return false;
    }
    let Some(messages) = object.get("trajectory").and_then(Value::as_array) else { return false };
    !messages.is_empty()
        && messages.iter().take(SNIFF_MESSAGES).all(|m| {
            m.get("role").is_some_and(Value::is_string) && m.get("text").is_some() && m.get("content").is_none()
        })
}

pub fn parse(record: &Value) -> Result<Parsed, String> {
    if !record.is_object() {
        return Err("record is not a JSON object".to_string());
    }
    let messages = match record.get("trajectory") {
        Some(Value::Array(messages)) => messages,
        Some(_) => return Err("trajectory is not a list".to_string()),
        None => return Err("trajectory is missing".to_string()),
    };
    let mut turns = Vec::with_capacity(messages.len());
    for (idx, message) in messages.iter().enumerate() {
        let role =
            str_field(message, "role").ok_or_else(|| format!("trajectory[{idx}].role is missing or not a string"))?;
        let text = match message.get("text") {
            None | Some(Value::Null) => "",
            Some(Value::String(text)) => text.as_str(),
            Some(_) => return Err(format!("trajectory[{idx}].text is not a string")),
        };
        turns.push((role, text));
    }
    let task = turns
        .iter()
        .position(|(role, text)| *role == "user" && !text.starts_with(DEMO_HEADER))
        .ok_or("no user message with the task")?;
    let problem_statement = extract_problem_statement(turns[task].1);
    if problem_statement.is_empty() {
        return Err("the task message (the first user message) is empty".to_string());
    }
    let mut parsed = Parsed {
        instance_id: nonempty_string(record, "instance_id"),
        problem_statement,
        submission: nonempty_string(record, "generated_patch"),
        exit_status: nonempty_string(record, "exit_status"),
        ..Parsed::default()
    };
    for (pos, (role, text)) in turns.iter().enumerate().skip(task + 1) {
        if !matches!(*role, "ai" | "assistant") {
            continue;
        }
        let reply = turns.get(pos + 1).filter(|(role, _)| *role == "user").map(|(_, text)| *text);
        match response_step(text, reply) {
            Some(step) => parsed.steps.push(step),
            None => parsed.skipped_turns += 1,
        }
    }
    Ok(parsed)
}

/// The step of one model response: its last fenced block is the command, as SWE-agent 0.x's
/// parser takes it; a response without one executed nothing.
fn response_step(text: &str, reply: Option<&str>) -> Option<Step> {
    let block = parse_fenced_blocks(text).pop()?;
    let command = block.body.trim_end_matches(['\n', '\r']);
    if command.trim().is_empty() {
        return None;
    }
    let thought = format!("{}{}", &text[..block.start], &text[block.end..]);
    let observation = reply.map(observation).unwrap_or_default();
    Some(Step::new(thought.trim(), Action::bash(command), observation, None))
}

/// The command's output inside SWE-agent's observation template.
fn observation(text: &str) -> String {
    let body = match text.rfind(SUFFIX_START) {
        Some(start) if text[start..].trim_end().ends_with(SUFFIX_END) => &text[..start],
        _ => text,
    };
    if body == NO_OUTPUT {
        return String::new();
    }
    body.to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{json, Value};

    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real/");

    /// SWE-agent 0.x runs with text commands (F1): the runs nebius' dataset was made of.
    const RUNS: [&str; 2] = [
        "swe-agent/tests/test_data/trajectories/gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__c-3.00__install-1/pydicom__pydicom-1458.traj",
        "swe-agent/tests/test_data/trajectories/gpt4__swe-agent__test-repo__default_from_url__t-0.00__p-0.95__c-3.00__install-1/swe-agent__test-repo-i1.traj",
    ];

    /// A nebius row made from a `.traj`: its non-demo history with nebius' role names and
    /// columns (`system_prompt` on every message, `mask` on the model's).
    fn nebius_row(traj: &Value, target: bool) -> Value {
        let history = traj["history"].as_array().unwrap();
        let system = history.iter().find(|m| m["role"] == "system").map(|m| m["content"].clone()).unwrap();
        let messages: Vec<Value> = history
            .iter()
            .filter(|m| m.get("is_demo").is_none())
            .map(|m| {
                let role = if m["role"] == "assistant" { "ai" } else { m["role"].as_str().unwrap() };
                json!({"role": role, "text": m["content"], "system_prompt": system, "mask": role == "ai",
                       "cutoff_date": "2024-06-01"})
            })
            .collect();
        json!({"instance_id": traj["environment"], "model_name": "gpt4", "target": target, "trajectory": messages,
               "exit_status": traj["info"]["exit_status"], "generated_patch": traj["info"]["submission"],
               "eval_logs": "Will execute following command for apply_patch: …"})
    }

    fn traj(rel: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(Path::new(FIXTURES).join(rel)).unwrap()).unwrap()
    }

    /// The row and the `.traj` it came from give the same steps: actions from the last fence of
    /// the raw response equal the commands SWE-agent recorded as executed, and the observations
    /// without the prompt suffix equal the recorded outputs.
    #[test]
    fn rows_give_the_steps_of_their_traj() {
        for rel in RUNS {
            let traj = traj(rel);
            let row = nebius_row(&traj, true);
            assert!(sniff(&row) && !sniff(&traj), "{rel}");
            let from_row = parse(&row).unwrap();
            let from_traj = super::super::swe_agent::parse(&traj).unwrap();
            let (row_steps, traj_steps) = (&from_row.steps, &from_traj.steps);
            assert_eq!(row_steps.len(), traj_steps.len(), "{rel}");
            let last = row_steps.len() - 1;
            for (n, (a, b)) in row_steps.iter().zip(traj_steps).enumerate() {
                assert_eq!((&a.thought, &a.action), (&b.thought, &b.action), "{rel} step {n}");
                if n < last {
                    assert_eq!(a.observation, b.observation, "{rel} step {n}");
                }
            }
            // The history ends on the final command: its output (the diff `submit` printed)
            // was never shown to the model, so the chat does not have it.
            assert_eq!(row_steps[last].observation, "", "{rel}");
            assert_eq!(from_row.problem_statement, from_traj.problem_statement, "{rel}");
            assert_eq!((from_row.exit_status, from_row.skipped_turns), (from_traj.exit_status, 0), "{rel}");
            assert_eq!(from_row.submission.as_deref().map(str::trim), from_traj.submission.as_deref().map(str::trim));
        }
    }

    #[test]
    fn responses_without_a_command_are_skipped_turns() {
        let row = json!({"trajectory": [
            {"role": "system", "text": "SETTING: …"},
            {"role": "user", "text": "ISSUE:\nIt breaks\n\nINSTRUCTIONS:\nSolve it"},
            {"role": "ai", "text": "Let me think about it."},
            {"role": "user", "text": "Your output was not formatted correctly."},
            {"role": "ai", "text": "DISCUSSION\nList.\n```\nls -a\n```\nDone."},
            {"role": "user", "text": NO_OUTPUT.to_string() + "\n(Open file: n/a)\n(Current directory: /r)\nbash-$"},
            {"role": "ai", "text": "```\nsubmit\n```"},
        ], "target": false, "instance_id": ""});
        let parsed = parse(&row).unwrap();
        assert_eq!((parsed.steps.len(), parsed.skipped_turns), (2, 1));
        assert_eq!(parsed.problem_statement, "It breaks");
        assert_eq!(parsed.steps[0].action, Action::bash("ls -a"));
        assert_eq!(
            (parsed.steps[0].thought.as_str(), parsed.steps[0].observation.as_str()),
            ("DISCUSSION\nList.\n\nDone.", "")
        );
        assert_eq!((parsed.steps[1].observation.as_str(), parsed.instance_id), ("", None));
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        for bad in [
            json!(3),
            json!({"trajectory": 3}),
            json!({"trajectory": [{"text": "x"}]}),
            json!({"trajectory": [{"role": "user", "text": 4}]}),
            json!({"trajectory": [{"role": "ai", "text": "```\nls\n```"}]}),
            json!({"trajectory": [{"role": "user", "text": "  "}]}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
        assert!(!sniff(&json!({"trajectory": []})));
        assert!(!sniff(&json!({"trajectory": [{"role": "user", "content": "x", "text": "y"}]})));
    }
}
