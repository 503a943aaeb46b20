//! OpenHands event streams: evaluation `output.jsonl` records (F6, v0.3x: `history` of events
//! with ids and `cause` links), the older resolver records (F6b: `issue`, flat `history` without
//! ids or sources) and bare event lists (F7, the replay tests' `trajs/*.json`).
//!
//! A step is one agent action that does something in the environment, rebuilt from the event's
//! own `args` as the tool call behind it: `run` → `bash`, `run_ipython` → `ipython`, `read` and
//! `edit` → `str_replace_editor`, `browse` → `web_read`, `browse_interactive` → `browser`,
//! `finish` → `finish` (a step, like SWE-agent's `submit`, always without arguments: its
//! arguments are a message to the user and vary between versions). An edit without a
//! `command` is taken from the recorded LLM tool call when there is one (some versions dropped
//! the editor arguments from the event), else it is an LLM-draft edit, tool `edit_file`
//! (OpenHands' name for that tool) with `path`, `content` and a non-default `start`/`end`.
//! Action types not listed are steps only when their LLM tool call is recorded.
//!
//! Not steps: `think` (it touches nothing; it is a skipped turn and its text is prepended to the
//! next step's thought), agent `message`s and failed tool calls (an `error` observation that
//! answers no action), which are skipped turns; `system`, `recall`, `change_agent_state`,
//! hidden commands and every user or environment event, which are not agent turns at all.
//!
//! Not handled: condensed histories are imported as they are (the condenser's summaries are not
//! turns), and `metrics`/`metadata` are ignored.

use std::collections::HashMap;

use serde_json::Value;

use super::problem::{extract_problem_statement, nonempty_string, str_field};
use super::{Parsed, Step};
use crate::action::{json_argument_text, parse_tool_call, Action};

/// Agent actions that are bookkeeping, not decisions of the model.
const NOT_TURNS: [&str; 5] = ["system", "recall", "change_agent_state", "condensation", "null"];
/// Observations that answer no action even when they follow one (F6b pairs by position).
const NOT_ANSWERS: [&str; 3] = ["agent_state_changed", "null", "recall"];

/// OpenHands' `finish`, normalized to carry no arguments (see the module doc).
pub(super) fn finish_action() -> Action {
    Action::new("finish")
}

/// `carried` (text of preceding `think` turns) and a step's own thought, as one thought.
pub(super) fn take_thought(carried: &mut String, own: &str) -> String {
    let own = own.trim();
    let thought = match (carried.is_empty(), own.is_empty()) {
        (true, _) => own.to_string(),
        (false, true) => carried.clone(),
        (false, false) => format!("{carried}\n\n{own}"),
    };
    carried.clear();
    thought
}

/// Appends a `think` turn's text to what the next step's thought will start with.
pub(super) fn carry_thought(carried: &mut String, thought: &str) {
    let thought = thought.trim();
    if !thought.is_empty() {
        if !carried.is_empty() {
            carried.push_str("\n\n");
        }
        carried.push_str(thought);
    }
}

pub fn sniff(record: &Value) -> bool {
    match record {
        Value::Array(items) => looks_like_events(items),
        Value::Object(map) => {
            // SWE-agent `.traj` files also have `history`, always with `trajectory`.
            if map.contains_key("trajectory") {
                return false;
            }
            match map.get("history").and_then(Value::as_array) {
                // An instance whose run recorded nothing is still an output record.
                Some(history) if history.is_empty() => map.contains_key("instruction"),
                Some(history) => looks_like_events(history),
                None => false,
            }
        }
        _ => false,
    }
}

/// Events are objects with a string `action` or `observation` (chat messages have `role`).
/// The first events decide; `null` entries are tolerated.
fn looks_like_events(items: &[Value]) -> bool {
    let mut events = 0;
    for item in items.iter().filter(|i| !i.is_null()).take(16) {
        let is_event = ["action", "observation"].iter().any(|k| item.get(*k).is_some_and(Value::is_string));
        if !is_event || item.get("role").is_some() {
            return false;
        }
        events += 1;
    }
    events > 0
}

pub fn parse(record: &Value) -> Result<Parsed, String> {
    let (events, prefix) = match record {
        Value::Array(items) => (items.as_slice(), "events"),
        Value::Object(_) => match record.get("history") {
            Some(Value::Array(items)) => (items.as_slice(), "history"),
            Some(_) => return Err("history is not a list".to_string()),
            None => return Err("history is missing".to_string()),
        },
        _ => return Err("record is neither an openhands output record nor an event list".to_string()),
    };
    let mut walk = Walk::default();
    for (idx, event) in events.iter().enumerate() {
        walk.event(event, &format!("{prefix}[{idx}]"))?;
    }
    let mut parsed = walk.parsed;
    parsed.problem_statement = problem_statement(record, events);
    parsed.instance_id = instance_id(record);
    parsed.submission = record.get("test_result").and_then(|t| nonempty_string(t, "git_patch"));
    parsed.submission = parsed.submission.or_else(|| nonempty_string(record, "git_patch"));
    parsed.exit_status = exit_status(record, walk.agent_state, walk.finished);
    Ok(parsed)
}

/// State carried through one pass over the events.
#[derive(Default)]
struct Walk {
    parsed: Parsed,
    /// Event id of an action → index of its step, to pair observations by `cause`.
    step_by_id: HashMap<i64, usize>,
    /// Steps that already have their observation.
    answered: Vec<bool>,
    /// The last step, when its action had no id (F6b): the next observation answers it.
    unpaired: Option<usize>,
    /// Text of `think` turns waiting for the next step.
    carried: String,
    seen_agent_turn: bool,
    agent_state: Option<String>,
    finished: bool,
}

impl Walk {
    fn event(&mut self, event: &Value, path: &str) -> Result<(), String> {
        match event {
            Value::Null => Ok(()),
            Value::Object(_) => {
                if let Some(kind) = event.get("action") {
                    let kind = kind.as_str().ok_or_else(|| format!("{path}.action is not a string"))?;
                    self.action(event, kind, path)
                } else if let Some(kind) = event.get("observation") {
                    let kind = kind.as_str().ok_or_else(|| format!("{path}.observation is not a string"))?;
                    self.observation(event, kind);
                    Ok(())
                } else {
                    Ok(())
                }
            }
            _ => Err(format!("{path} is not an object")),
        }
    }

    fn action(&mut self, event: &Value, kind: &str, path: &str) -> Result<(), String> {
        let source = str_field(event, "source");
        if source.is_some_and(|s| s != "agent") || NOT_TURNS.contains(&kind) {
            return Ok(());
        }
        // F6b keeps the arguments at the top level of the event.
        let (args, args_path) = match event.get("args") {
            Some(args) if args.is_object() => (args, format!("{path}.args")),
            Some(_) => return Err(format!("{path}.args is not an object")),
            None => (event, path.to_string()),
        };
        if args.get("hidden").and_then(Value::as_bool) == Some(true) {
            return Ok(());
        }
        let thought = optional_text(args, "thought", &args_path)?.unwrap_or_default();
        match kind {
            // A source-less message before any agent turn is the F6b task message.
            "message" if source.is_none() && !self.seen_agent_turn => return Ok(()),
            "message" => self.parsed.skipped_turns += 1,
            "think" => {
                carry_thought(&mut self.carried, &thought);
                self.parsed.skipped_turns += 1;
            }
            _ => match step_action(kind, event, args, &args_path)? {
                Some(action) => self.push_step(event, action, &thought),
                None => return Ok(()),
            },
        }
        self.seen_agent_turn = true;
        Ok(())
    }

    fn push_step(&mut self, event: &Value, action: Action, thought: &str) {
        self.finished |= action.tool == "finish";
        let index = self.parsed.steps.len();
        let thought = take_thought(&mut self.carried, thought);
        self.parsed.steps.push(Step::new(thought, action, "", None));
        self.answered.push(false);
        match event.get("id").and_then(Value::as_i64) {
            Some(id) => {
                self.step_by_id.insert(id, index);
                self.unpaired = None;
            }
            None => self.unpaired = Some(index),
        }
    }

    fn observation(&mut self, event: &Value, kind: &str) {
        if kind == "agent_state_changed" {
            let state = event.get("extras").and_then(|e| nonempty_string(e, "agent_state"));
            self.agent_state = state.or(self.agent_state.take());
            return;
        }
        let target = match event.get("cause").and_then(Value::as_i64) {
            Some(cause) => self.step_by_id.get(&cause).copied(),
            None if NOT_ANSWERS.contains(&kind) => None,
            None => self.unpaired.take(),
        };
        match target {
            Some(index) if !self.answered[index] => {
                self.answered[index] = true;
                let step = &mut self.parsed.steps[index];
                step.observation = observation_text(event);
                step.exit_code = exit_code(event);
            }
            Some(_) => {}
            // An error that answers no action is OpenHands rejecting a malformed tool call:
            // the model's turn produced no action.
            None if kind == "error" && event.get("cause").is_none() => {
                if matches!(str_field(event, "source"), None | Some("agent")) {
                    self.parsed.skipped_turns += 1;
                }
            }
            None => {}
        }
    }
}

/// The action of an agent event that acts on the environment, `None` for anything else.
fn step_action(kind: &str, event: &Value, args: &Value, path: &str) -> Result<Option<Action>, String> {
    let action = match kind {
        "run" => {
            let action = Action::bash(required_text(args, "command", path)?);
            // `is_input` sends text to a running process instead of starting a command.
            match args.get("is_input").and_then(Value::as_bool) {
                Some(true) => action.arg("is_input", "true"),
                _ => action,
            }
        }
        "run_ipython" => Action::new("ipython").arg("code", required_text(args, "code", path)?),
        "read" => {
            let action = editor("view", required_text(args, "path", path)?);
            with_optional(action, args, &["view_range"])
        }
        "edit" => edit_action(event, args, path)?,
        "browse" => Action::new("web_read").arg("url", required_text(args, "url", path)?),
        "browse_interactive" => Action::new("browser").arg("code", required_text(args, "browser_actions", path)?),
        "finish" => finish_action(),
        _ => return Ok(recorded_tool_call(event)),
    };
    Ok(Some(action))
}

fn edit_action(event: &Value, args: &Value, path: &str) -> Result<Action, String> {
    let file = required_text(args, "path", path)?;
    if let Some(command) = optional_text(args, "command", path)?.filter(|c| !c.is_empty()) {
        let action = editor(&command, file);
        return Ok(with_optional(action, args, &["file_text", "insert_line", "new_str", "old_str"]));
    }
    if let Some(action) = recorded_tool_call(event).filter(|a| a.tool == "str_replace_editor") {
        return Ok(action);
    }
    let content = optional_text(args, "content", path)?.unwrap_or_default();
    let mut action = Action::new("edit_file").arg("path", file).arg("content", content);
    for (key, default) in [("start", 1), ("end", -1)] {
        if let Some(line) = args.get(key).and_then(Value::as_i64).filter(|&l| l != default) {
            action = action.arg(key, line.to_string());
        }
    }
    Ok(action)
}

fn editor(command: &str, path: String) -> Action {
    Action::new("str_replace_editor").arg("command", command).arg("path", path)
}

/// Adds each of `keys` that is present and not null, as text (numbers and lists as JSON).
fn with_optional(mut action: Action, args: &Value, keys: &[&str]) -> Action {
    for key in keys {
        if let Some(value) = args.get(*key).filter(|v| !v.is_null()) {
            action = action.arg(*key, json_argument_text(value));
        }
    }
    action
}

/// The LLM tool call behind an event, from `tool_call_metadata`, when it is recorded and parses.
fn recorded_tool_call(event: &Value) -> Option<Action> {
    let metadata = event.get("tool_call_metadata")?;
    let name = str_field(metadata, "function_name")?;
    let id = str_field(metadata, "tool_call_id")?;
    let calls = metadata.pointer("/model_response/choices/0/message/tool_calls")?.as_array()?;
    let call = calls.iter().find(|c| str_field(c, "id") == Some(id))?;
    let arguments = call.pointer("/function/arguments").and_then(Value::as_str).unwrap_or("");
    parse_tool_call(name, arguments).ok()
}

fn required_text(args: &Value, key: &str, path: &str) -> Result<String, String> {
    optional_text(args, key, path)?.ok_or_else(|| format!("{path}.{key} is missing"))
}

/// `args[key]` as a string; missing or null is `None`, any other type is an error.
fn optional_text(args: &Value, key: &str, path: &str) -> Result<Option<String>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{path}.{key} is not a string")),
    }
}

fn observation_text(event: &Value) -> String {
    match event.get("content") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// v0.3x keeps the exit code in `extras.metadata`, earlier event streams in `extras`, F6b at the
/// top level.
fn exit_code(event: &Value) -> Option<i64> {
    ["/extras/metadata/exit_code", "/extras/exit_code", "/exit_code"]
        .iter()
        .find_map(|pointer| event.pointer(pointer).and_then(Value::as_i64))
}

/// The benchmark's own statement when the record carries its instance; else the issue inside
/// the task message; else the F6b `issue`, whose resolver instruction has no marker to cut at;
/// else the whole task message.
fn problem_statement(record: &Value, events: &[Value]) -> String {
    if let Some(statement) = record.get("instance").and_then(|i| nonempty_string(i, "problem_statement")) {
        return statement.trim().to_string();
    }
    let task = str_field(record, "instruction").or_else(|| first_user_message(events));
    if let Some(task) = task {
        let statement = extract_problem_statement(task);
        if statement != task.trim() {
            return statement;
        }
    }
    if let Some(issue) = record.get("issue").filter(|i| i.is_object()) {
        let parts: Vec<String> = ["title", "body"].iter().filter_map(|k| nonempty_string(issue, k)).collect();
        if !parts.is_empty() {
            return parts.join("\n\n").trim().to_string();
        }
    }
    task.map(|t| t.trim().to_string()).unwrap_or_default()
}

fn first_user_message(events: &[Value]) -> Option<&str> {
    events
        .iter()
        .filter(|e| str_field(e, "action") == Some("message"))
        .find(|e| matches!(str_field(e, "source"), None | Some("user")))
        .and_then(|e| e.pointer("/args/content").or_else(|| e.get("content")).and_then(Value::as_str))
}

/// `instance_id`, or the instance's, or `owner/repo#number` for an F6b resolver issue.
fn instance_id(record: &Value) -> Option<String> {
    if let Some(id) = nonempty_string(record, "instance_id") {
        return Some(id);
    }
    if let Some(id) = record.get("instance").and_then(|i| nonempty_string(i, "instance_id")) {
        return Some(id);
    }
    let issue = record.get("issue")?;
    let (owner, repo) = (str_field(issue, "owner")?, str_field(issue, "repo")?);
    let number = issue.get("number").filter(|n| n.is_number() || n.is_string()).map(json_argument_text)?;
    Some(format!("{owner}/{repo}#{number}"))
}

/// The first line of the record's `error` when the run failed; else the last agent state the
/// stream reported (`finished`, `awaiting_user_input`, `error`…); else `finished` when the agent
/// called `finish`; else unknown.
fn exit_status(record: &Value, agent_state: Option<String>, finished: bool) -> Option<String> {
    let error = str_field(record, "error").and_then(|e| e.lines().map(str::trim).find(|l| !l.is_empty()));
    if let Some(error) = error {
        return Some(error.to_string());
    }
    agent_state.or_else(|| finished.then(|| "finished".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real");
    const F6: &str = "openhands/evaluation/benchmarks/multi_swe_bench/examples/output.jsonl";
    const F6B: &str = "openhands/tests/unit/resolver/mock_output/output.jsonl";

    fn read(rel: &str) -> String {
        let path = format!("{FIXTURES}/{rel}");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn load(rel: &str) -> Value {
        serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn lines(rel: &str) -> Vec<Value> {
        read(rel).lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn step_summary(step: &Step) -> (&str, Option<&str>) {
        (step.action.tool.as_str(), step.action.get("command"))
    }

    #[test]
    fn events_pair_by_cause_and_think_carries_over() {
        let events = json!([
            {"id": 0, "source": "user", "action": "message", "args": {"content": "<pr_description>\nBug\n</pr_description>"}},
            {"id": 1, "source": "agent", "action": "run", "args": {"command": "ls", "thought": "look"}},
            {"id": 2, "source": "agent", "action": "think", "args": {"thought": "hmm"}},
            {"id": 3, "source": "agent", "observation": "think", "cause": 2, "content": "Your thought has been logged."},
            {"id": 4, "source": "agent", "observation": "run", "cause": 1, "content": "a.py", "extras": {"metadata": {"exit_code": 2}}},
            {"id": 5, "source": "agent", "observation": "error", "content": "Parameter 'command' is expected"},
            {"id": 6, "source": "agent", "action": "read", "args": {"path": "/a.py", "view_range": [1, 5], "thought": ""}},
            {"id": 7, "source": "agent", "action": "message", "args": {"content": "done?"}},
            {"id": 8, "source": "agent", "action": "finish", "args": {"final_thought": "bye", "thought": "end"}},
            {"id": 9, "source": "environment", "observation": "agent_state_changed", "content": "", "extras": {"agent_state": "finished"}}
        ]);
        assert!(sniff(&events));
        let parsed = parse(&events).unwrap();
        assert_eq!(parsed.problem_statement, "Bug");
        assert_eq!((parsed.steps.len(), parsed.skipped_turns), (3, 3));
        let [run, read, finish] = parsed.steps.as_slice() else { panic!() };
        assert_eq!((run.observation.as_str(), run.exit_code, run.thought.as_str()), ("a.py", Some(2), "look"));
        assert_eq!((read.action.get("view_range"), read.thought.as_str()), (Some("[1,5]"), "hmm"));
        assert_eq!((finish.action.args.len(), finish.thought.as_str()), (0, "end"));
        assert_eq!(parsed.exit_status.as_deref(), Some("finished"));
    }

    #[test]
    fn flat_history_pairs_by_position() {
        let record = json!({
            "issue": {"owner": "o", "repo": "r", "number": 7, "title": "T", "body": "B"},
            "instruction": "Please fix the following issue.\n# Problem Statement\nB",
            "git_patch": "diff --git a/x b/x",
            "history": [
                {"action": "message", "content": "Please fix the following issue."},
                {"action": "run_ipython", "code": "open_file('x')", "thought": "t"},
                {"observation": "run_ipython", "content": "[File: x]"},
                {"action": "run", "command": "false", "thought": ""},
                {"observation": "run", "content": "", "exit_code": 1},
                {"action": "finish", "outputs": {}, "thought": "ok"}
            ],
            "error": null
        });
        assert!(sniff(&record));
        let parsed = parse(&record).unwrap();
        assert_eq!((parsed.steps.len(), parsed.skipped_turns), (3, 0));
        assert_eq!(parsed.instance_id.as_deref(), Some("o/r#7"));
        assert_eq!(parsed.problem_statement, "T\n\nB");
        assert_eq!(parsed.steps[0].action.get("code"), Some("open_file('x')"));
        assert_eq!((parsed.steps[0].observation.as_str(), parsed.steps[1].exit_code), ("[File: x]", Some(1)));
        assert_eq!(parsed.submission.as_deref(), Some("diff --git a/x b/x"));
    }

    #[test]
    fn edits_map_to_editor_calls_or_drafts() {
        let edit = json!({"source": "agent", "action": "edit", "args": {"path": "/f", "command": "insert",
            "insert_line": 3, "new_str": "x", "old_str": null, "file_text": null}});
        let action = step_action("edit", &edit, &edit["args"], "e").unwrap().unwrap();
        assert_eq!(action.tool, "str_replace_editor");
        assert_eq!(
            (action.get("command"), action.get("insert_line"), action.get("old_str")),
            (Some("insert"), Some("3"), None)
        );
        let draft = json!({"source": "agent", "action": "edit", "args": {"path": "/f", "content": "new", "start": 1, "end": 9}});
        let action = step_action("edit", &draft, &draft["args"], "e").unwrap().unwrap();
        assert_eq!(
            (action.tool.as_str(), action.get("content"), action.get("end")),
            ("edit_file", Some("new"), Some("9"))
        );
        assert_eq!(action.get("start"), None);
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        assert_eq!(parse(&json!({"history": "x"})).unwrap_err(), "history is not a list");
        assert!(parse(&json!(5)).is_err());
        assert!(parse(&json!([3])).is_err());
        let bad = json!({"history": [{"id": 1, "source": "agent", "action": "run", "args": {"command": 5}}], "instruction": "t"});
        assert_eq!(parse(&bad).unwrap_err(), "history[0].args.command is not a string");
        let bad = json!([{"id": 1, "source": "agent", "action": "read", "args": {}}]);
        assert_eq!(parse(&bad).unwrap_err(), "events[0].args.path is missing");
        let bad = json!([{"source": "agent", "action": 4}]);
        assert!(parse(&bad).is_err());
        // An unknown action without a recorded tool call is not a turn; a garbled tool call is ignored.
        let odd = json!([{"id": 1, "source": "agent", "action": "delegate", "args": {},
            "tool_call_metadata": {"function_name": "x", "tool_call_id": "c", "model_response": {"choices": [
                {"message": {"tool_calls": [{"id": "c", "function": {"name": "x", "arguments": "not json"}}]}}]}}}]);
        let parsed = parse(&odd).unwrap();
        assert_eq!((parsed.steps.len(), parsed.skipped_turns), (0, 0));
    }

    /// Expected counts, established with python3 independently of this parser:
    /// - F6: `len(metrics["response_latencies"])` (one per LLM call) equals steps + skipped turns
    ///   (23 = 22 + 1 think; 34 = 33 + 1 failed tool call; 50 = 48 + 1 think + 1 failed call).
    ///   Steps = events with `action` in run/read/edit/finish (13+6+2+1; 12+11+9+1; 24+16+8+0);
    ///   skipped = `think` actions + `error` observations without `cause`.
    /// - F6b: observations + `finish` actions (3+1; 21+1); the only `message` is the task.
    /// - F7: action events with `tool_call_metadata` (2, 4, 1, 4) are the steps; agent-sourced
    ///   `message` actions (0, 1, 2, 0) the skipped turns.
    #[test]
    fn fixture_counts() {
        let expected = [(F6, vec![(22, 1), (33, 1), (48, 2)]), (F6B, vec![(4, 0), (22, 0)])];
        for (rel, counts) in expected {
            let records = lines(rel);
            assert_eq!(records.len(), counts.len(), "{rel}");
            for (n, (record, want)) in records.iter().zip(counts).enumerate() {
                assert!(sniff(record), "{rel} line {}", n + 1);
                let parsed = parse(record).unwrap();
                assert_eq!((parsed.steps.len(), parsed.skipped_turns), want, "{rel} line {}", n + 1);
            }
        }
        for (name, want) in [
            ("basic", (2, 0)),
            ("basic_gui_mode", (4, 1)),
            ("basic_interactions", (1, 2)),
            ("wrong_initial_state", (4, 0)),
        ] {
            let events = load(&format!("openhands/tests/runtime/trajs/{name}.json"));
            assert!(sniff(&events), "{name}");
            let parsed = parse(&events).unwrap();
            assert_eq!((parsed.steps.len(), parsed.skipped_turns), want, "{name}");
        }
    }

    #[test]
    fn fixture_f6_fields() {
        let records = lines(F6);
        let parsed = parse(&records[0]).unwrap();
        assert_eq!(parsed.instance_id.as_deref(), Some("ponylang__ponyc-4595"));
        assert!(parsed
            .problem_statement
            .starts_with("ponyc segfaults when trying to match using a single element tuple"));
        assert!(parsed.submission.as_deref().is_some_and(|s| s.starts_with("diff --git a/src/libponyc/ast/parser.c")));
        assert_eq!(parsed.exit_status.as_deref(), Some("finished"));
        let first = &parsed.steps[0];
        assert_eq!(step_summary(first), ("bash", Some("ls -l /workspace/ponylang__ponyc__0.1")));
        assert_eq!(first.exit_code, Some(0));
        assert!(first.observation.starts_with("total 300\n"));
        assert!(first.thought.starts_with("The task involves fixing an issue"));
        assert_eq!(parsed.steps[9].action.get("view_range"), Some("[650,700]"));
        assert_eq!(step_summary(&parsed.steps[11]), ("str_replace_editor", Some("str_replace")));
        assert!(parsed.steps[11].observation.starts_with("ERROR:\nNo replacement was performed"));
        // The `think` before `finish` leads the finish step's thought.
        let finish = &parsed.steps[21];
        assert_eq!((finish.action.tool.as_str(), finish.action.args.len()), ("finish", 0));
        assert!(finish.thought.starts_with("It seems that the `ponyc` compiler is not available"));
        let failed = parse(&records[2]).unwrap();
        assert_eq!(
            failed.exit_status.as_deref(),
            Some("RuntimeError: Agent reached maximum iteration in headless mode. Current iteration: 50, max iteration: 50")
        );
    }

    #[test]
    fn fixture_f6b_and_f7_fields() {
        let parsed = parse(&lines(F6B)[0]).unwrap();
        assert_eq!(parsed.instance_id.as_deref(), Some("neubig/pr-viewer#5"));
        assert_eq!(parsed.problem_statement, "Add MIT license\n\nWe can license this repo under the MIT license.");
        assert_eq!(step_summary(&parsed.steps[0]), ("bash", Some("touch LICENSE")));
        assert_eq!(parsed.steps[0].exit_code, Some(0));
        assert!(parsed.steps[1].action.get("code").is_some_and(|c| c.starts_with("mit_license = ")));
        assert!(parsed.steps[1].observation.starts_with("MIT License has been added"));
        assert!(parsed.submission.as_deref().is_some_and(|s| s.starts_with("diff --git a/LICENSE b/LICENSE")));
        assert_eq!(parsed.exit_status.as_deref(), Some("finished"));

        // The command-less edit is recovered from the recorded str_replace_editor call.
        let basic = parse(&load("openhands/tests/runtime/trajs/basic.json")).unwrap();
        assert!(basic.problem_statement.starts_with("Please create a simple 2048 game"));
        let edit = &basic.steps[0];
        assert_eq!(step_summary(edit), ("str_replace_editor", Some("create")));
        assert_eq!(edit.action.get("path"), Some("/workspace/game_2048.py"));
        assert!(edit.action.get("file_text").is_some_and(|t| t.starts_with("import random\n")));
        assert!(edit.observation.starts_with("--- /workspace/game_2048.py"));
        let gui = parse(&load("openhands/tests/runtime/trajs/basic_gui_mode.json")).unwrap();
        assert_eq!(gui.exit_status.as_deref(), Some("awaiting_user_input"));
        assert_eq!(gui.steps[3].exit_code, Some(-1));
        let rename = parse(&load("openhands/tests/runtime/trajs/wrong_initial_state.json")).unwrap();
        assert_eq!(step_summary(&rename.steps[0]), ("str_replace_editor", Some("view")));
        assert_eq!((rename.instance_id, rename.submission), (None, None));
    }

    #[test]
    fn fixture_non_trajectories_do_not_sniff() {
        let mut others = vec![
            load("openhands/evaluation/benchmarks/swe_bench/examples/example_model_output.json"),
            load("mini-swe-agent/tests/test_data/results.json"),
            load("mini-swe-agent/tests/test_data/github_issue.traj.json"),
            load("swe-smith/tests/test_logs/run_evaluation/report.json"),
            load("swe-agent/trajectories/demonstrations/function_calling_simple.traj"),
            load("swe-agent/tests/test_data/trajectories/gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__c-3.00__install-1/pydicom__pydicom-1458.traj"),
            load("mini-swe-agent-gemini3/swebench_results/20251118_gemini-3-pro-74pct/logs/astropy__astropy-7336/report.json"),
            load("mini-swe-agent-gemini3/swebench_results/20251118_gemini-3-pro-74pct/trajs/astropy__astropy-7336/astropy__astropy-7336.traj.json"),
        ];
        let run = "openhands-eval-outputs/evaluation/evaluation_outputs/outputs/princeton-nlp__SWE-bench_Verified-test/CodeActAgent/claude-3-5-sonnet-20241022_maxiter_50_N_v0.15.0-no-hint-no-condensation-run_1";
        others.push(load(&format!("{run}/metadata.json")));
        others.push(load(&format!("{run}/llm_completions/django__django-11206/litellm_proxy__claude-3-5-sonnet-20241022-1733344751.6975832.json")));
        others.extend(lines("openhands/evaluation/benchmarks/multi_swe_bench/examples/patch.jsonl"));
        others.extend(lines("swe-smith/tests/test_logs/ft_xml_example.jsonl"));
        for (n, other) in others.iter().enumerate() {
            assert!(!sniff(other), "non-trajectory #{n} sniffed as openhands");
        }
    }
}
