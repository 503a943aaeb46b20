//! Chat trajectories in OpenAI's tool-calling message format, as SFT datasets publish them:
//! nvidia's SWE-Zero / SWE-Hero (`trajectory`: OpenHands runs, tools `execute_bash`,
//! `str_replace_editor`, `think`, `finish`, plus `model_patch`), SWE-smith's `tool` split and
//! similar sets (`messages`, SWE-agent tools `bash`, `str_replace_editor`, `submit`, plus
//! `patch` and `resolved`). The messages are `{role, content, tool_calls, tool_call_id, name}`.
//!
//! Each assistant tool call is a step (the message text is the first call's thought); its
//! observation is the `tool` message naming the call's id, or, in sets that dropped the ids,
//! the n-th `tool` message after the call's turn. `think` and `finish` follow the OpenHands
//! importers (`think` is a skipped turn whose text leads the next thought; `finish` carries no
//! arguments). An assistant turn without a call, or a call whose arguments are not a JSON
//! object, is a skipped turn. SWE-agent's `OBSERVATION:\n` template prefix is stripped, and
//! OpenHands' exit-code trailer gives the exit code, as in the importers of those scaffolds.
//!
//! Not here: OpenHands `llm_completions` logs, which hold the same messages plus the call's
//! `response` and have their own importer (`openhands_completions`).

use serde_json::Value;

use super::openhands::{carry_thought, finish_action, take_thought};
use super::openhands_completions::trailing_exit_code;
use super::problem::{content_text, extract_problem_statement, nonempty_string, str_field};
use super::{Parsed, Step};
use crate::action::parse_tool_call;

/// The keys a message list is found under, in order.
const MESSAGE_KEYS: [&str; 2] = ["trajectory", "messages"];

/// Fields of the final patch, in order of preference.
const PATCH_KEYS: [&str; 3] = ["model_patch", "patch", "generated_patch"];

/// What SWE-agent's observation template writes before tool output.
const OBSERVATION_PREFIX: &str = "OBSERVATION:\n";

/// How many messages `sniff` looks at: the first assistant turn comes after the system prompt
/// and the task, and may hold only text.
const SNIFF_MESSAGES: usize = 8;

pub fn sniff(record: &Value) -> bool {
    let Some(object) = record.as_object() else { return false };
    // `response` marks an OpenHands completion log, `history` a SWE-agent `.traj`.
    if object.contains_key("response") || object.contains_key("history") {
        return false;
    }
    let Some(messages) = messages(record) else { return false };
    messages.iter().take(SNIFF_MESSAGES).any(|m| {
        str_field(m, "role") == Some("assistant")
            && m.get("tool_calls").and_then(Value::as_array).is_some_and(|c| !c.is_empty())
    })
}

fn messages(record: &Value) -> Option<&Vec<Value>> {
    MESSAGE_KEYS.iter().find_map(|key| record.get(*key).and_then(Value::as_array))
}

pub fn parse(record: &Value) -> Result<Parsed, String> {
    if !record.is_object() {
        return Err("record is not a JSON object".to_string());
    }
    let messages = messages(record).ok_or("no message list (trajectory or messages)")?;
    let mut task = None;
    for (idx, message) in messages.iter().enumerate() {
        if str_field(message, "role").is_none() {
            return Err(format!("message {idx} has no role"));
        }
        if task.is_none() && str_field(message, "role") == Some("user") {
            task = Some(text(message));
        }
    }
    let problem_statement = extract_problem_statement(&task.ok_or("no user message with the task")?);
    if problem_statement.is_empty() {
        return Err("the task message (the first user message) is empty".to_string());
    }
    let mut turns = Turns { parsed: Parsed::default(), carried: String::new() };
    for (pos, message) in messages.iter().enumerate() {
        if str_field(message, "role") == Some("assistant") {
            turns.assistant(message, &messages[pos + 1..], pos)?;
        }
    }
    let mut parsed = turns.parsed;
    parsed.instance_id = nonempty_string(record, "instance_id");
    parsed.problem_statement = problem_statement;
    parsed.submission = PATCH_KEYS.iter().find_map(|key| nonempty_string(record, key));
    parsed.exit_status = nonempty_string(record, "exit_status");
    Ok(parsed)
}

fn text(message: &Value) -> String {
    message.get("content").map(content_text).unwrap_or_default()
}

struct Turns {
    parsed: Parsed,
    /// Text of `think` calls waiting for the next step.
    carried: String,
}

impl Turns {
    fn assistant(&mut self, message: &Value, rest: &[Value], pos: usize) -> Result<(), String> {
        let calls = match message.get("tool_calls") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(calls)) => calls.as_slice(),
            Some(_) => return Err(format!("message {pos}: tool_calls is not a list")),
        };
        if calls.is_empty() {
            self.parsed.skipped_turns += 1;
            return Ok(());
        }
        // The tool messages answering this turn: those up to the next assistant turn.
        let results: Vec<&Value> = rest
            .iter()
            .take_while(|m| str_field(m, "role") != Some("assistant"))
            .filter(|m| str_field(m, "role") == Some("tool"))
            .collect();
        let mut thought = text(message);
        for (n, call) in calls.iter().enumerate() {
            // Only the first call of a turn gets the turn's text as its thought.
            let own = std::mem::take(&mut thought);
            self.call(call, &own, observation(call, n, &results));
        }
        Ok(())
    }

    fn call(&mut self, call: &Value, thought: &str, observation: String) {
        let name = call.pointer("/function/name").and_then(Value::as_str).unwrap_or_default();
        let arguments = match call.pointer("/function/arguments") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let action = match parse_tool_call(name, &arguments) {
            Ok(action) if !name.trim().is_empty() => action,
            _ => {
                self.parsed.skipped_turns += 1;
                return;
            }
        };
        if action.tool == "think" {
            carry_thought(&mut self.carried, thought);
            carry_thought(&mut self.carried, action.get("thought").unwrap_or(""));
            self.parsed.skipped_turns += 1;
            return;
        }
        let action = if action.tool == "finish" { finish_action() } else { action };
        let exit_code = trailing_exit_code(&observation);
        let thought = take_thought(&mut self.carried, thought);
        self.parsed.steps.push(Step::new(thought, action, observation, exit_code));
    }
}

/// The result naming the call's id, else the n-th result of the turn (sets without ids), else
/// nothing (the run ended first).
fn observation(call: &Value, n: usize, results: &[&Value]) -> String {
    let id = str_field(call, "id").filter(|id| !id.is_empty());
    let by_id = id.and_then(|id| results.iter().find(|m| str_field(m, "tool_call_id") == Some(id)));
    let has_ids = results.iter().any(|m| str_field(m, "tool_call_id").is_some_and(|id| !id.is_empty()));
    let result = match by_id {
        Some(result) => Some(result),
        None if !has_ids => results.get(n),
        None => None,
    };
    let Some(result) = result else { return String::new() };
    let text = text(result);
    match text.strip_prefix(OBSERVATION_PREFIX) {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::action::Action;

    const RUN: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/openhands-eval-outputs/evaluation/evaluation_outputs/outputs/",
        "princeton-nlp__SWE-bench_Verified-test/CodeActAgent/",
        "claude-3-5-sonnet-20241022_maxiter_50_N_v0.15.0-no-hint-no-condensation-run_1/llm_completions"
    );

    /// A SWE-Zero row (`trajectory` of string-content messages, the columns of its card) made
    /// from an OpenHands completion log: its messages plus the response's final message.
    fn swe_zero_row(log: &Value) -> Value {
        let mut messages: Vec<Value> = log["messages"].as_array().unwrap().clone();
        messages.push(log["response"]["choices"][0]["message"].clone());
        let trajectory: Vec<Value> = messages
            .iter()
            .map(|m| {
                let calls = m.get("tool_calls").and_then(Value::as_array).map(|calls| {
                    calls
                        .iter()
                        .map(|c| json!({"function": c["function"], "id": c["id"], "type": "function"}))
                        .collect::<Vec<_>>()
                });
                json!({"content": content_text(&m["content"]), "name": m.get("name"), "role": m["role"],
                       "tool_call_id": m.get("tool_call_id"), "tool_calls": calls})
            })
            .collect();
        json!({"instance_id": "x__y-1", "repo": "x/y", "license": "MIT", "trajectory_id": "t", "trajectory": trajectory,
               "model_patch": "diff --git a/f b/f\n", "dataset": "SWE-Gym"})
    }

    #[test]
    fn rows_give_the_steps_of_their_completion_logs() {
        let mut checked = 0;
        for dir in std::fs::read_dir(RUN).unwrap() {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                let log: Value = serde_json::from_str(&std::fs::read_to_string(file.unwrap().path()).unwrap()).unwrap();
                let row = swe_zero_row(&log);
                assert!(sniff(&row) && !sniff(&log));
                let from_row = parse(&row).unwrap();
                let from_log = super::super::openhands_completions::parse(&log).unwrap();
                assert_eq!(from_row.steps, from_log.steps);
                assert_eq!(
                    (from_row.skipped_turns, &from_row.problem_statement),
                    (from_log.skipped_turns, &from_log.problem_statement)
                );
                assert_eq!(from_row.submission.as_deref(), Some("diff --git a/f b/f\n"));
                checked += from_row.steps.len();
            }
        }
        assert_eq!(checked, 124, "the 5 logs hold 124 steps (see tests/import.rs)");
    }

    #[test]
    fn results_by_position_when_ids_are_missing() {
        let call = |name: &str, args: &str| json!({"function": {"name": name, "arguments": args}, "type": "function"});
        let row = json!({"messages": [
            {"role": "system", "content": "tools"},
            {"role": "user", "content": "<pr_description>\nFix\n</pr_description>"},
            {"role": "assistant", "content": "Two.", "tool_calls": [call("bash", "{\"command\": \"ls\"}"), call("bash", "{\"command\": \"pwd\"}")]},
            {"role": "tool", "content": "OBSERVATION:\na"},
            {"role": "tool", "content": "/r"},
            {"role": "assistant", "content": "no call"},
            {"role": "user", "content": "Please continue"},
            {"role": "assistant", "content": "", "tool_calls": [call("bash", "not json"), call("submit", "")]},
        ], "resolved": true, "patch": "p"});
        assert!(sniff(&row));
        let parsed = parse(&row).unwrap();
        assert_eq!((parsed.steps.len(), parsed.skipped_turns), (3, 2));
        assert_eq!((parsed.steps[0].observation.as_str(), parsed.steps[0].thought.as_str()), ("a", "Two."));
        assert_eq!((parsed.steps[1].observation.as_str(), parsed.steps[1].thought.as_str()), ("/r", ""));
        assert_eq!((parsed.steps[2].action.clone(), parsed.submission.as_deref()), (Action::new("submit"), Some("p")));
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        for bad in [
            json!(1),
            json!({"messages": 3}),
            json!({"messages": [{"content": "x"}]}),
            json!({"messages": [{"role": "assistant", "tool_calls": 3}, {"role": "user", "content": "t"}]}),
            json!({"trajectory": [{"role": "system", "content": "s"}]}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
        let odd = json!({"messages": [{"role": "user", "content": "t"},
            {"role": "assistant", "tool_calls": [{"function": {"name": 3}}, 7]}]});
        assert_eq!(parse(&odd).unwrap().skipped_turns, 2);
    }
}
