//! OpenHands LLM completion logs (F8, `llm_completions/<instance_id>/<model>-<ts>.json`): one
//! request (`messages`) and its `response`. The last log of an instance holds the whole
//! conversation, so it is imported as that instance's trajectory.
//!
//! Each assistant tool call is a step (several calls in one message are several steps; the
//! message text is the first one's thought); its observation is the `role: "tool"` message with
//! the same `tool_call_id`, verbatim (with OpenHands' prompt and exit-code trailer), and the exit
//! code is read from that trailer. The response's own tool call is the last step and has no
//! observation. `think` and `finish` follow the rules of the event-stream importer
//! ([`super::openhands`]): `think` is a skipped turn whose text leads the next thought, `finish`
//! carries no arguments. Assistant turns without a tool call and tool calls whose arguments are
//! not a JSON object are skipped turns.
//!
//! Not here: the instance id (only the directory name holds it, so `read` falls back to the
//! file stem), the final patch and exit status, which these files do not record; earlier logs of
//! the same instance are prefixes of the last one and are imported as such if given.

use std::collections::HashMap;

use serde_json::Value;

use super::openhands::{carry_thought, finish_action, take_thought};
use super::problem::{content_text, extract_problem_statement, str_field};
use super::{Parsed, Step};
use crate::action::parse_tool_call;

/// Trailers OpenHands appends to a command's output (older and newer wording).
const EXIT_TRAILERS: [(&str, &str); 2] =
    [("[Command finished with exit code ", "]"), ("[The command completed with exit code ", ".]")];

pub fn sniff(record: &Value) -> bool {
    record.get("messages").is_some_and(Value::is_array)
        && record.get("response").is_some_and(Value::is_object)
        && (record.get("kwargs").is_some() || record.get("args").is_some())
}

pub fn parse(record: &Value) -> Result<Parsed, String> {
    let messages = match record.get("messages") {
        Some(Value::Array(messages)) => messages,
        Some(_) => return Err("messages is not a list".to_string()),
        None => return Err("messages is missing".to_string()),
    };
    let results = tool_results(messages);
    let mut turns = Turns { parsed: Parsed::default(), carried: String::new(), results: &results };
    let mut task = None;
    for (idx, message) in messages.iter().enumerate() {
        let role =
            str_field(message, "role").ok_or_else(|| format!("messages[{idx}].role is missing or not a string"))?;
        match role {
            "user" if task.is_none() => task = Some(content_text(message.get("content").unwrap_or(&Value::Null))),
            "assistant" => turns.assistant(message, &format!("messages[{idx}]"))?,
            _ => {}
        }
    }
    let choices = match record.pointer("/response/choices") {
        Some(Value::Array(choices)) => choices,
        _ => return Err("response.choices is missing or not a list".to_string()),
    };
    if let Some(last) = choices.first() {
        let message = last.get("message").ok_or("response.choices[0].message is missing")?;
        turns.assistant(message, "response.choices[0].message")?;
    }
    let mut parsed = turns.parsed;
    parsed.problem_statement = task.map(|t| extract_problem_statement(&t)).unwrap_or_default();
    Ok(parsed)
}

/// Tool results by `tool_call_id`; the first one wins should an id repeat.
fn tool_results(messages: &[Value]) -> HashMap<&str, &Value> {
    let mut results = HashMap::new();
    for message in messages.iter().filter(|m| str_field(m, "role") == Some("tool")) {
        if let Some(id) = str_field(message, "tool_call_id") {
            results.entry(id).or_insert_with(|| message.get("content").unwrap_or(&Value::Null));
        }
    }
    results
}

struct Turns<'a> {
    parsed: Parsed,
    /// Text of `think` calls waiting for the next step.
    carried: String,
    results: &'a HashMap<&'a str, &'a Value>,
}

impl Turns<'_> {
    fn assistant(&mut self, message: &Value, path: &str) -> Result<(), String> {
        let calls = match message.get("tool_calls") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(calls)) => calls.as_slice(),
            Some(_) => return Err(format!("{path}.tool_calls is not a list")),
        };
        if calls.is_empty() {
            self.parsed.skipped_turns += 1;
            return Ok(());
        }
        let mut text = content_text(message.get("content").unwrap_or(&Value::Null));
        for (k, call) in calls.iter().enumerate() {
            let call_path = format!("{path}.tool_calls[{k}]");
            // Only the first call of a message gets the message text as its thought.
            let thought = std::mem::take(&mut text);
            self.call(call, &thought, &call_path)?;
        }
        Ok(())
    }

    fn call(&mut self, call: &Value, thought: &str, path: &str) -> Result<(), String> {
        let name = call
            .pointer("/function/name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{path}.function.name is missing or not a string"))?;
        let arguments = match call.pointer("/function/arguments") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            // Some providers hand back the arguments already decoded.
            Some(other) => other.to_string(),
        };
        let Ok(mut action) = parse_tool_call(name, &arguments) else {
            // OpenHands answers such a call with an error: the turn held no usable action.
            self.parsed.skipped_turns += 1;
            return Ok(());
        };
        if action.tool == "think" {
            carry_thought(&mut self.carried, thought);
            carry_thought(&mut self.carried, action.get("thought").unwrap_or(""));
            self.parsed.skipped_turns += 1;
            return Ok(());
        }
        if action.tool == "finish" {
            action = finish_action();
        }
        let result = str_field(call, "id").and_then(|id| self.results.get(id));
        let observation = result.map(|content| content_text(content)).unwrap_or_default();
        let exit_code = trailing_exit_code(&observation);
        let thought = take_thought(&mut self.carried, thought);
        self.parsed.steps.push(Step::new(thought, action, observation, exit_code));
        Ok(())
    }
}

/// The exit code in the trailer OpenHands puts on the last line of a command's output.
pub(super) fn trailing_exit_code(text: &str) -> Option<i64> {
    let last = text.trim_end().rsplit('\n').next()?.trim();
    EXIT_TRAILERS.iter().find_map(|(open, close)| last.strip_prefix(open)?.strip_suffix(close)?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RUN: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/real/openhands-eval-outputs/evaluation/evaluation_outputs/outputs/",
        "princeton-nlp__SWE-bench_Verified-test/CodeActAgent/",
        "claude-3-5-sonnet-20241022_maxiter_50_N_v0.15.0-no-hint-no-condensation-run_1"
    );

    fn load(path: &str) -> Value {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn completion(rel: &str) -> Value {
        load(&format!("{RUN}/llm_completions/{rel}"))
    }

    fn call(id: &str, name: &str, arguments: &str) -> Value {
        json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
    }

    fn record(messages: Value, response_calls: Value) -> Value {
        json!({"messages": messages, "kwargs": {}, "args": [],
               "response": {"choices": [{"message": {"role": "assistant", "content": "bye", "tool_calls": response_calls}}]}})
    }

    #[test]
    fn tool_calls_pair_with_results_and_response_is_last() {
        let messages = json!([
            {"role": "system", "content": [{"type": "text", "text": "sys"}]},
            {"role": "user", "content": [{"type": "text", "text": "<pr_description>\nBug\n</pr_description>"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Look."}],
             "tool_calls": [call("a", "execute_bash", "{\"command\": \"ls\"}"), call("b", "think", "{\"thought\": \"plan\"}")]},
            {"role": "tool", "tool_call_id": "a", "content": [{"type": "text", "text": "x.py\nroot@h:/w # \n[Command finished with exit code 3]"}]},
            {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "logged"}]},
            {"role": "assistant", "content": "no tool"},
            {"role": "user", "content": "Please continue working on the task"},
            {"role": "assistant", "content": "", "tool_calls": [call("c", "str_replace_editor", "not json")]},
        ]);
        let rec = record(messages, json!([call("d", "finish", "{\"message\": \"done\"}")]));
        assert!(sniff(&rec));
        let parsed = parse(&rec).unwrap();
        assert_eq!(parsed.problem_statement, "Bug");
        assert_eq!((parsed.steps.len(), parsed.skipped_turns), (2, 3));
        let bash = &parsed.steps[0];
        assert_eq!(
            (bash.action.tool.as_str(), bash.action.get("command"), bash.exit_code),
            ("bash", Some("ls"), Some(3))
        );
        assert_eq!(bash.thought, "Look.");
        let finish = &parsed.steps[1];
        assert_eq!((finish.action.tool.as_str(), finish.action.args.len()), ("finish", 0));
        assert_eq!((finish.thought.as_str(), finish.observation.as_str()), ("plan\n\nbye", ""));
        assert_eq!((parsed.instance_id, parsed.submission, parsed.exit_status), (None, None, None));
    }

    #[test]
    fn exit_code_trailers() {
        assert_eq!(trailing_exit_code("out\n[Command finished with exit code 0]\n"), Some(0));
        assert_eq!(trailing_exit_code("out\n[The command completed with exit code 127.]"), Some(127));
        assert_eq!(trailing_exit_code("[Command finished with exit code 1] then more"), None);
        assert_eq!(trailing_exit_code(""), None);
    }

    #[test]
    fn wrong_types_are_errors_or_skips_not_panics() {
        assert!(parse(&json!({"messages": 5, "response": {}, "kwargs": {}})).is_err());
        assert!(parse(&record(json!([{"role": 1}]), json!([]))).is_err());
        assert!(parse(&record(json!([{"role": "assistant", "tool_calls": 3}]), json!([]))).is_err());
        assert!(parse(&record(json!([{"role": "assistant", "tool_calls": [{"function": {}}]}]), json!([]))).is_err());
        assert!(parse(&json!({"messages": [], "response": {"choices": 2}, "kwargs": {}})).is_err());
        let odd = parse(&record(json!([{"role": "assistant", "tool_calls": [call("x", "bash", "[1]")]}]), Value::Null));
        assert_eq!(odd.map(|p| (p.steps.len(), p.skipped_turns)), Ok((0, 2)));
    }

    /// Expected counts, established with python3 independently of this parser: steps = number of
    /// `role: "tool"` messages (every call got exactly one result; all ids match) + the tool
    /// calls in `response.choices[0].message` (1 each: `finish` for four, `str_replace_editor`
    /// for django-11265); skipped = assistant messages without `tool_calls` (astropy-13033 and
    /// django-11138 have one each, followed by the "Please continue working" user turn).
    #[test]
    fn fixture_counts_and_fields() {
        let cases = [
            ("astropy__astropy-13033/litellm_proxy__claude-3-5-sonnet-20241022-1733339310.377825.json", 9 + 1, 1),
            ("django__django-11138/litellm_proxy__claude-3-5-sonnet-20241022-1733344991.570158.json", 27 + 1, 1),
            ("django__django-11206/litellm_proxy__claude-3-5-sonnet-20241022-1733344751.6975832.json", 15 + 1, 0),
            ("django__django-11265/litellm_proxy__claude-3-5-sonnet-20241022-1733345320.117138.json", 49 + 1, 0),
            ("django__django-11451/litellm_proxy__claude-3-5-sonnet-20241022-1733345517.955519.json", 19 + 1, 0),
        ];
        for (rel, steps, skipped) in cases {
            let rec = completion(rel);
            assert!(sniff(&rec), "{rel}");
            let parsed = parse(&rec).unwrap();
            assert_eq!((parsed.steps.len(), parsed.skipped_turns), (steps, skipped), "{rel}");
        }
        let parsed = parse(&completion(cases[2].0)).unwrap();
        assert!(parsed.problem_statement.starts_with("utils.numberformat.format renders small decimals"));
        let first = &parsed.steps[0];
        assert_eq!(
            (first.action.tool.as_str(), first.action.get("command")),
            ("bash", Some("ls -R /workspace/django__django__3.0"))
        );
        assert_eq!(first.exit_code, Some(0));
        assert!(first.thought.starts_with("I'll help you implement the necessary changes"));
        let last = parsed.steps.last().unwrap();
        assert_eq!((last.action.tool.as_str(), last.observation.as_str()), ("finish", ""));
        let editor = parse(&completion(cases[0].0)).unwrap();
        let view = &editor.steps[0];
        assert_eq!((view.action.tool.as_str(), view.action.get("command")), ("str_replace_editor", Some("view")));
        assert_eq!(view.exit_code, None);
    }

    #[test]
    fn fixture_non_trajectories_do_not_sniff() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real");
        for path in [
            format!("{RUN}/metadata.json"),
            format!("{fixtures}/openhands/evaluation/benchmarks/swe_bench/examples/example_model_output.json"),
            format!("{fixtures}/openhands/tests/runtime/trajs/basic.json"),
            format!("{fixtures}/mini-swe-agent/tests/test_data/results.json"),
            format!("{fixtures}/mini-swe-agent/tests/test_data/github_issue.traj.json"),
            format!("{fixtures}/mini-swe-agent-gemini3/swebench_results/20251118_gemini-3-pro-74pct/logs/pallets__flask-5014/report.json"),
        ] {
            assert!(!sniff(&load(&path)), "{path}");
        }
        let patches = std::fs::read_to_string(format!(
            "{fixtures}/openhands/evaluation/benchmarks/multi_swe_bench/examples/patch.jsonl"
        ))
        .unwrap();
        for line in patches.lines().filter(|l| !l.trim().is_empty()) {
            assert!(!sniff(&serde_json::from_str::<Value>(line).unwrap()));
        }
    }
}
