//! SWE-agent trajectories: 0.x `.traj` files with text commands (F1), 1.x `.traj` files with
//! OpenAI function calls (F2), and the history-only demonstrations made from them (F2 JSON,
//! F2y YAML, which `read` has already decoded).
//!
//! Steps come from one of two places. When the primary agent's history holds tool calls (1.x
//! function calling), each call is one step whose arguments are the JSON in `history`, verbatim:
//! `trajectory[].action` is only a shell-like flattening of them that does not quote reliably.
//! Otherwise each `trajectory[]` entry is one step, and its command as executed becomes a `bash`
//! action: 0.x special commands (`open`, `edit N:M … end_of_edit`, `submit`) are shell functions
//! installed in the container, so the command string is all there is to them.
//!
//! Deliberately not done: rebuilding 0.x steps from a `history` without `trajectory[]` (the
//! command would have to be re-parsed from raw model output with the run's own parser config),
//! parsing the flattened 1.x action strings (except for a bare final `submit`, see
//! `recover_final_submit`), and stripping the `(Open file: …)\n(Current directory: …)\nbash-$`
//! suffix that 1.x tool messages carry: it is part of what the model saw. SWE-agent does not
//! record exit codes, so every step's `exit_code` is `None`.

use std::borrow::Cow;

use serde_json::Value;

use super::problem::{content_text, extract_problem_statement, nonempty_string, str_field};
use super::{Parsed, Step};
use crate::action::{parse_tool_call, Action};

/// Top-level keys of OpenHands (`instance`, `instruction`) and chat-list (`messages`) records:
/// a `history` next to them is never SWE-agent's.
const FOREIGN_KEYS: [&str; 3] = ["instance", "instruction", "messages"];

/// Keys that mark a `history` message as SWE-agent's: its own `agent` and `message_type`, and
/// OpenAI's `tool_calls`, which no other format keeps in a `history`.
const MESSAGE_MARKERS: [&str; 3] = ["agent", "message_type", "tool_calls"];

/// How many history messages `sniff` looks at; the markers are on every message.
const SNIFF_MESSAGES: usize = 5;

/// What SWE-agent's observation template (the SWE-smith configs) writes before tool output.
/// It is template, not output; the SWE-smith importer strips it from the SFT export of the same
/// runs too, so both give the same observations.
const OBSERVATION_PREFIX: &str = "OBSERVATION:\n";

pub fn sniff(record: &Value) -> bool {
    let Some(object) = record.as_object() else { return false };
    let Some(history) = object.get("history").and_then(Value::as_array) else { return false };
    // OpenHands records never carry `trajectory`, so `history` + `trajectory` is ours alone.
    if object.get("trajectory").is_some_and(Value::is_array) {
        return true;
    }
    if FOREIGN_KEYS.iter().any(|key| object.contains_key(*key)) {
        return false;
    }
    // History-only demos: chat messages (OpenHands events have no `role`) with SWE-agent's markers.
    history.iter().take(SNIFF_MESSAGES).any(|message| {
        message.get("role").is_some_and(Value::is_string) && MESSAGE_MARKERS.iter().any(|k| message.get(*k).is_some())
    })
}

pub fn parse(record: &Value) -> Result<Parsed, String> {
    if !record.is_object() {
        return Err("record is not a JSON object".to_string());
    }
    let history = optional_list(record, "history")?.unwrap_or_default();
    let trajectory = optional_list(record, "trajectory")?;
    let info = match record.get("info") {
        None | Some(Value::Null) => None,
        Some(info @ Value::Object(_)) => Some(info),
        Some(_) => return Err("info is not an object".to_string()),
    };
    let messages = primary_messages(history)?;
    let replay = replay_config(record);
    let replay = replay.as_deref();

    let (steps, skipped_turns) = if messages.iter().any(|m| !tool_calls(m).is_empty()) {
        let (mut steps, skipped) = function_call_steps(&messages);
        if let Some(trajectory) = trajectory {
            let calls = messages.iter().filter(|m| is_assistant(m)).map(|m| tool_calls(m).len()).sum();
            recover_final_submit(&mut steps, calls, trajectory);
        }
        (steps, skipped)
    } else if let Some(trajectory) = trajectory {
        command_steps(trajectory)?
    } else {
        return Err("no trajectory[] and no tool calls in history: nothing to import \
                    (0.x history without trajectory[] is not supported)"
            .to_string());
    };

    let problem_statement = problem_statement(&messages, replay).ok_or_else(|| {
        "no problem statement: no non-demo user message in history and no replay_config.problem_statement.text"
            .to_string()
    })?;
    Ok(Parsed {
        instance_id: instance_id(record, replay, info),
        problem_statement,
        steps,
        submission: submission(info),
        exit_status: info.and_then(|i| nonempty_string(i, "exit_status")),
        skipped_turns,
    })
}

/// `info.submission` as a patch. Terminal output puts a blank line before the diff, and some
/// versions captured the diff through a terminal, which turns every `\n` into `\r\n`: that is
/// undone only when every line ends so (a CRLF file's `\r\r\n` then becomes `\r\n` again).
fn submission(info: Option<&Value>) -> Option<String> {
    let text = info.and_then(|i| str_field(i, "submission"))?.trim_start();
    let newlines = text.matches('\n').count();
    match text {
        "" => None,
        _ if newlines > 0 && text.matches("\r\n").count() == newlines => Some(text.replace("\r\n", "\n")),
        _ => Some(text.to_string()),
    }
}

/// `record[key]` as a list; absent and `null` are `None`, any other type an error.
fn optional_list<'a>(record: &'a Value, key: &str) -> Result<Option<&'a [Value]>, String> {
    match record.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(format!("{key} is not a list")),
    }
}

/// The non-demo messages of the primary agent. The first message that names an agent (the
/// system prompt) names the primary one (`primary` in 0.x, `main` in 1.x); messages of any
/// other agent (subroutines, reviewers) are not steps of this trajectory.
fn primary_messages(history: &[Value]) -> Result<Vec<&Value>, String> {
    let mut primary: Option<&str> = None;
    let mut messages = Vec::new();
    for (idx, message) in history.iter().enumerate() {
        if !message.is_object() {
            return Err(format!("history[{idx}] is not an object"));
        }
        if message.get("is_demo").and_then(Value::as_bool).unwrap_or(false) {
            continue;
        }
        if let Some(agent) = str_field(message, "agent") {
            if *primary.get_or_insert(agent) != agent {
                continue;
            }
        }
        messages.push(message);
    }
    Ok(messages)
}

fn is_assistant(message: &Value) -> bool {
    str_field(message, "role") == Some("assistant")
}

fn tool_calls(message: &Value) -> &[Value] {
    message.get("tool_calls").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// 1.x function calling: one step per tool call of each assistant turn. A turn without a call,
/// and a call that cannot be read (no name, arguments that are not a JSON object), is a
/// skipped turn: SWE-agent executes neither, so nothing in the environment follows from it.
fn function_call_steps(messages: &[&Value]) -> (Vec<Step>, usize) {
    let mut steps = Vec::new();
    let mut skipped = 0;
    for (pos, message) in messages.iter().enumerate() {
        if !is_assistant(message) {
            continue;
        }
        let calls = tool_calls(message);
        if calls.is_empty() {
            skipped += 1;
            continue;
        }
        let results = tool_results(&messages[pos + 1..]);
        let mut thought = message.get("content").map(content_text).unwrap_or_default().trim().to_string();
        for (n, call) in calls.iter().enumerate() {
            let Some(action) = call_action(call) else {
                skipped += 1;
                continue;
            };
            // The thought precedes the whole turn, so only its first action carries it:
            // repeating it would teach a model to restate itself before every call.
            steps.push(Step::new(std::mem::take(&mut thought), action, call_observation(call, n, &results), None));
        }
    }
    (steps, skipped)
}

fn call_action(call: &Value) -> Option<Action> {
    let function = call.get("function")?;
    let name = str_field(function, "name").filter(|name| !name.trim().is_empty())?;
    let arguments = match function.get("arguments") {
        None | Some(Value::Null) => Cow::Borrowed(""),
        Some(Value::String(text)) => Cow::Borrowed(text.as_str()),
        // A hand-edited demo YAML may write the arguments as a mapping rather than a JSON string.
        Some(map @ Value::Object(_)) => Cow::Owned(map.to_string()),
        Some(_) => return None,
    };
    parse_tool_call(name, &arguments).ok()
}

/// The tool messages answering one assistant turn: those after it, up to the next assistant turn.
fn tool_results<'a>(rest: &[&'a Value]) -> Vec<&'a Value> {
    rest.iter().copied().take_while(|m| !is_assistant(m)).filter(|m| str_field(m, "role") == Some("tool")).collect()
}

/// The result naming the call's id (`tool_call_ids` in SWE-agent, `tool_call_id` in OpenAI's
/// own format), else the n-th result of the turn, else nothing (the run ended first).
fn call_observation(call: &Value, n: usize, results: &[&Value]) -> String {
    let by_id = str_field(call, "id").and_then(|id| results.iter().find(|m| answers(m, id)));
    let Some(result) = by_id.or_else(|| results.get(n)) else { return String::new() };
    let text = result.get("content").map(content_text).unwrap_or_default();
    match text.strip_prefix(OBSERVATION_PREFIX) {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

fn answers(result: &Value, id: &str) -> bool {
    str_field(result, "tool_call_id") == Some(id)
        || result.get("tool_call_ids").and_then(Value::as_array).is_some_and(|ids| ids.iter().any(|x| x == id))
}

/// Some SWE-agent 1.x versions stop writing `history` before the final `submit` turn, which
/// then survives only as one extra, last `trajectory[]` entry. `submit` takes no arguments,
/// so its flattened action is exact and the step is restored without guessing.
fn recover_final_submit(steps: &mut Vec<Step>, history_calls: usize, trajectory: &[Value]) {
    let Some(last) = trajectory.last() else { return };
    if trajectory.len() != history_calls + 1 || str_field(last, "action").map(str::trim) != Some("submit") {
        return;
    }
    let thought = str_field(last, "thought").unwrap_or_default().trim();
    let observation = str_field(last, "observation").unwrap_or_default();
    steps.push(Step::new(thought, Action::new("submit"), observation, None));
}

/// Text commands: one `bash` step per `trajectory[]` entry; an entry without a command is a
/// skipped turn.
fn command_steps(trajectory: &[Value]) -> Result<(Vec<Step>, usize), String> {
    let mut steps = Vec::new();
    let mut skipped = 0;
    for (idx, entry) in trajectory.iter().enumerate() {
        if !entry.is_object() {
            return Err(format!("trajectory[{idx}] is not an object"));
        }
        let text = |key: &str| match entry.get(key) {
            None | Some(Value::Null) => Ok(""),
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(_) => Err(format!("trajectory[{idx}].{key} is not a string")),
        };
        // The executed command ends with the newline that submitted it; it is no part of it.
        let command = text("action")?.trim_end_matches(['\n', '\r']);
        if command.trim().is_empty() {
            skipped += 1;
            continue;
        }
        steps.push(Step::new(text("thought")?.trim(), Action::bash(command), text("observation")?, None));
    }
    Ok((steps, skipped))
}

/// `replay_config` is a JSON string in some versions and an object in others.
fn replay_config(record: &Value) -> Option<Cow<'_, Value>> {
    match record.get("replay_config")? {
        Value::String(text) => serde_json::from_str::<Value>(text).ok().filter(Value::is_object).map(Cow::Owned),
        config @ Value::Object(_) => Some(Cow::Borrowed(config)),
        _ => None,
    }
}

/// The replay config holds the issue as it was loaded, before a template wrapped it, so it
/// needs no marker heuristics; the task message is the fallback (and the only source in 0.x).
fn problem_statement(messages: &[&Value], replay: Option<&Value>) -> Option<String> {
    let loaded = replay.and_then(|r| r.get("problem_statement")).and_then(|ps| match ps {
        Value::String(text) => Some(text.as_str()),
        _ => str_field(ps, "text"),
    });
    if let Some(text) = loaded.map(str::trim).filter(|t| !t.is_empty()) {
        return Some(text.to_string());
    }
    let task = messages.iter().find(|m| str_field(m, "role") == Some("user"))?;
    let text = extract_problem_statement(&task.get("content").map(content_text).unwrap_or_default());
    Some(text).filter(|t| !t.is_empty())
}

/// `environment` is the deployment's name: SWE-smith names it after the instance, plain runs
/// call it `main` or `swe_main`. Only a name shaped like an instance id (`owner__repo…`) counts.
fn instance_id(record: &Value, replay: Option<&Value>, info: Option<&Value>) -> Option<String> {
    replay
        .and_then(|r| r.get("problem_statement").and_then(|ps| nonempty_string(ps, "id")))
        .or_else(|| replay.and_then(|r| nonempty_string(r, "instance_id")))
        .or_else(|| info.and_then(|i| nonempty_string(i, "instance_id")))
        .or_else(|| nonempty_string(record, "environment").filter(|env| env.contains("__")))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::{json, Value};

    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real/");

    fn load(rel: &str) -> Value {
        let text = std::fs::read_to_string(Path::new(FIXTURES).join(rel)).unwrap();
        if rel.ends_with(".yaml") {
            serde_yaml_ng::from_str::<Value>(&text).unwrap()
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// Files under `FIXTURES/dir` whose name ends with one of `suffixes`, relative to `FIXTURES`.
    fn files_under(dir: &str, suffixes: &[&str]) -> Vec<String> {
        fn walk(path: &Path, suffixes: &[&str], out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(path).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, suffixes, out);
                } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
                    out.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(&Path::new(FIXTURES).join(dir), suffixes, &mut found);
        let mut rel: Vec<String> =
            found.iter().map(|p| p.strip_prefix(FIXTURES).unwrap().to_string_lossy().into_owned()).collect();
        rel.sort();
        rel
    }

    /// (unique fragment of the fixture's path, steps, skipped turns) for every SWE-agent fixture.
    /// Counted independently with python3 (json / yaml.safe_load), never with this importer:
    /// - F1 (no `tool_calls` in history): `len([s for s in d['trajectory'] if s['action'].strip()])`,
    ///   which equals `len(d['trajectory'])` in every file (no empty actions, so 0 skipped);
    /// - F2/F2y: `sum(len(m.get('tool_calls') or []) for m in d['history'] if m['role'] ==
    ///   'assistant' and not m.get('is_demo'))`, and assistant turns without `tool_calls` for the
    ///   skipped turns (none anywhere); `len(d['trajectory'])` agrees except where noted.
    const EXPECTED: [(&str, usize, usize); 17] = [
        // F2: 4 tool_calls in history, but trajectory[] has 5 entries, the 5th an argument-less
        // `submit` this version never wrote into history: 4 + 1 recovered.
        ("6e44b9__sweagenttestrepo-1c2844.traj", 5, 0),
        ("swe-agent__test-repo-i1.traj", 5, 0), // F1: 5 entries.
        ("pydicom__pydicom-1458.traj", 12, 0),  // F1: 12 entries.
        ("function_calling_simple.traj", 5, 0), // F2, history only: 5 tool_calls.
        ("humanevalfix-python-0.traj", 5, 0),   // F1: 5 entries.
        ("1867__default__t-0.20__p-0.95__c-2.00__install-1___install_from_source/", 14, 0), // F1: 14.
        ("1867__default_sys-env_cursors_window100", 12, 0), // F1 with set_cursors: 12 entries.
        ("1867__default_sys-env_window100", 11, 0), // F1: 11 entries.
        ("1867__function_calling__install-1/", 11, 0), // F2: 11 tool_calls, 11 entries.
        ("1867__function_calling_replace__install-1/", 11, 0), // F2: 11 tool_calls, 11 entries.
        ("1867__function_calling_replace_from_source/", 13, 0), // F2: 13 tool_calls, 13 entries.
        ("1867__xml_sys-env_cursors_window100", 12, 0), // F1 (XML config): 12 entries.
        ("1867__xml_sys-env_window100", 11, 0), // F1 (XML config): 11 entries.
        ("pr_53652.traj", 37, 0),               // F2 (SWE-smith): 37 tool_calls, 37 entries.
        ("pr_53856.traj", 17, 0),               // F2 (SWE-smith): 17 tool_calls, 17 entries.
        ("pr_8316.traj", 22, 0),                // F2 (SWE-smith): 22 tool_calls, 22 entries.
        ("str_replace_anthropic_demo.yaml", 4, 0), // F2y: 4 tool_calls, no trajectory.
    ];

    /// Every fixture of this format, each paired with the one `EXPECTED` row it matches.
    fn fixtures() -> Vec<(String, usize, usize)> {
        let mut files = files_under("swe-agent", &[".traj", "str_replace_anthropic_demo.yaml"]);
        files.extend(files_under("swe-smith", &[".traj"]));
        let paired: Vec<(String, usize, usize)> = files
            .into_iter()
            .map(|file| {
                let rows: Vec<_> = EXPECTED.iter().filter(|(part, _, _)| file.contains(part)).collect();
                assert_eq!(rows.len(), 1, "{file} matches {rows:?}");
                (file, rows[0].1, rows[0].2)
            })
            .collect();
        assert_eq!(paired.len(), EXPECTED.len(), "a row of EXPECTED matches no fixture");
        paired
    }

    fn path_of(part: &str) -> String {
        fixtures().into_iter().map(|(file, _, _)| file).find(|file| file.contains(part)).unwrap()
    }

    #[test]
    fn fixture_step_counts() {
        for (file, steps, skipped) in fixtures() {
            let record = load(&file);
            assert!(sniff(&record), "{file} not sniffed");
            let parsed = parse(&record).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!((parsed.steps.len(), parsed.skipped_turns), (steps, skipped), "{file}");
            assert!(!parsed.problem_statement.is_empty(), "{file}");
            assert!(parsed.steps.iter().all(|s| s.exit_code.is_none()), "{file}");
        }
    }

    #[test]
    fn fixture_values_text_commands() {
        let p = parse(&load(&path_of("pydicom"))).unwrap();
        assert_eq!(p.steps[0].action, Action::bash("create reproduce_bug.py"));
        assert!(p.steps[1].action.get("command").unwrap().starts_with("edit 1:1\nimport numpy as np\n"));
        assert!(p.steps[1].action.get("command").unwrap().ends_with("\nend_of_edit"));
        assert!(p.problem_statement.starts_with("Pixel Representation attribute should be optional"));
        assert!(p.steps[0].thought.starts_with("First, I'll create a new Python script"));
        assert!(p.submission.as_deref().unwrap().starts_with("diff --git a/pydicom/"));
        assert_eq!(p.exit_status.as_deref(), Some("submitted"));
        // environment is "swe_main" and there is no replay_config: the file stem will name it.
        assert_eq!(p.instance_id, None);

        let cursors = parse(&load(&path_of("default_sys-env_cursors"))).unwrap();
        assert_eq!(cursors.steps[6].action, Action::bash("set_cursors 1475 1475"));
        assert!(cursors.steps[7].action.get("command").unwrap().starts_with("edit\n"));
    }

    #[test]
    fn fixture_values_function_calls() {
        let p = parse(&load(&path_of("pr_53652"))).unwrap();
        assert_eq!(p.instance_id.as_deref(), Some("pandas-dev__pandas.95280573.pr_53652"));
        assert!(p
            .problem_statement
            .starts_with("BUG: [pyarrow] AttributeError: 'Index' object has no attribute 'freq'"));
        assert_eq!(p.steps[0].action.tool, "bash");
        assert!(p.steps[0].action.get("command").unwrap().starts_with("find /testbed -type f -name \"*.py\""));
        let view = &p.steps[1].action;
        assert_eq!(
            (view.tool.as_str(), view.get("command"), view.get("view_range")),
            ("str_replace_editor", Some("view"), Some("[6035,6050]"))
        );
        // The observation prefix is template, not output.
        assert!(!p.steps[1].observation.starts_with("OBSERVATION:"));
        let last = p.steps.last().unwrap();
        assert_eq!((last.action.tool.as_str(), last.action.args.len()), ("submit", 0));
        assert!(last.observation.starts_with("diff --git"));
        assert!(p.submission.as_deref().unwrap().starts_with("diff --git a/pandas/core/indexes/base.py"));

        let recovered = parse(&load(&path_of("6e44b9"))).unwrap();
        assert_eq!(recovered.instance_id.as_deref(), Some("SWE-agent__test-repo-i1"));
        assert_eq!(recovered.steps[0].action, Action::new("find_file").arg("file_name", "missing_colon.py"));
        let submit = recovered.steps.last().unwrap();
        assert_eq!(submit.action, Action::new("submit"));
        assert!(submit.observation.trim_start().starts_with("diff --git a/tests/missing_colon.py"));
        assert!(submit.thought.starts_with("The script `missing_colon.py` ran successfully"));
        // Captured through a terminal: every line of info.submission ends in \r\n.
        assert!(recovered.submission.as_deref().is_some_and(|s| s.starts_with("diff --git") && !s.contains('\r')));

        let yaml = parse(&load(&path_of("anthropic_demo"))).unwrap();
        assert_eq!(
            yaml.steps[0].action,
            Action::new("str_replace_editor").arg("command", "view").arg("path", "/swe-agent-test-repo")
        );
        assert_eq!(yaml.steps[0].thought, "Let’s start by exploring the repository structure.");
        assert!(yaml.problem_statement.starts_with("I'm running `missing_colon.py` as follows:"));
        assert_eq!((yaml.instance_id.as_deref(), yaml.submission, yaml.exit_status), (Some("1c2844"), None, None));
    }

    /// Records of every other format in the fixtures (and non-trajectory JSON/YAML next to the
    /// SWE-agent ones) must not be taken for SWE-agent's.
    #[test]
    fn other_formats_are_not_sniffed() {
        let mut files = Vec::new();
        for dir in ["mini-swe-agent", "mini-swe-agent-gemini3", "openhands", "openhands-eval-outputs", "swe-smith"] {
            files.extend(files_under(dir, &[".json", ".jsonl"]));
        }
        files.extend(files_under("swe-agent", &[".json", ".jsonl", ".yaml"]));
        files.retain(|f| !f.ends_with("str_replace_anthropic_demo.yaml"));
        assert!(files.len() > 20, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(Path::new(FIXTURES).join(&file)).unwrap();
            let records: Vec<Value> = if file.ends_with(".jsonl") {
                text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
            } else if file.ends_with(".yaml") {
                vec![serde_yaml_ng::from_str(&text).unwrap()]
            } else {
                vec![serde_json::from_str(&text).unwrap()]
            };
            for record in &records {
                let elements = record.as_array().cloned().unwrap_or_default();
                for value in std::iter::once(record).chain(elements.iter()) {
                    assert!(!sniff(value), "{file} sniffed as SWE-agent");
                }
            }
        }
    }

    fn function_calling_record() -> Value {
        json!({
            "history": [
                {"role": "system", "content": "You are …", "agent": "main"},
                {"role": "user", "is_demo": true, "agent": "main", "content": "<pr_description>demo</pr_description>"},
                {"role": "assistant", "is_demo": true, "agent": "main", "content": "demo",
                 "tool_calls": [{"id": "d", "function": {"name": "bash", "arguments": "{\"command\":\"demo\"}"}}]},
                {"role": "user", "agent": "main",
                 "content": [{"type": "text", "text": "<pr_description>\nFix it\n</pr_description>"}]},
                {"role": "assistant", "agent": "main", "content": " Look first. ", "tool_calls": [
                    {"id": "a", "function": {"name": "bash", "arguments": "{\"command\":\"ls\"}"}},
                    {"id": "b", "function": {"name": "str_replace_editor",
                     "arguments": {"command": "view", "path": "/x", "view_range": [1, 5]}}}]},
                // Results out of order: the ids decide.
                {"role": "tool", "agent": "main", "tool_call_ids": ["b"],
                 "content": [{"type": "text", "text": "OBSERVATION:\nfile x"}]},
                {"role": "tool", "agent": "main", "tool_call_ids": ["a"], "content": "x\ny"},
                {"role": "assistant", "agent": "main", "content": "I am done thinking."},
                {"role": "user", "agent": "main", "content": "Please call a tool."},
                {"role": "assistant", "agent": "reviewer", "content": "other agent",
                 "tool_calls": [{"id": "r", "function": {"name": "bash", "arguments": "{\"command\":\"no\"}"}}]},
                {"role": "assistant", "agent": "main", "content": "", "tool_calls": [
                    {"id": "c", "function": {"name": "bash", "arguments": "not json"}},
                    {"id": "e", "function": {"name": "submit", "arguments": ""}}]},
                {"role": "tool", "agent": "main", "tool_call_id": "e", "content": "\ndiff --git a/x b/x"}
            ],
            "info": {"submission": "\ndiff --git a/x b/x\n", "exit_status": "submitted"},
            "replay_config": "{\"problem_statement\": {\"id\": \"owner__repo-1\", \"text\": \"\"}}",
            "environment": "main"
        })
    }

    #[test]
    fn function_calls_become_steps() {
        let record = function_calling_record();
        assert!(sniff(&record));
        let p = parse(&record).unwrap();
        let tools: Vec<&str> = p.steps.iter().map(|s| s.action.tool.as_str()).collect();
        assert_eq!(tools, ["bash", "str_replace_editor", "submit"]);
        // The plain message and the call with broken arguments; the demo and the reviewer are not turns.
        assert_eq!(p.skipped_turns, 2);
        assert_eq!((p.steps[0].thought.as_str(), p.steps[1].thought.as_str()), ("Look first.", ""));
        assert_eq!((p.steps[0].observation.as_str(), p.steps[1].observation.as_str()), ("x\ny", "file x"));
        assert_eq!(p.steps[1].action.get("view_range"), Some("[1,5]"));
        assert_eq!(p.problem_statement, "Fix it");
        assert_eq!(p.instance_id.as_deref(), Some("owner__repo-1"));
        assert_eq!(p.submission.as_deref(), Some("diff --git a/x b/x\n"));
        assert_eq!(p.exit_status.as_deref(), Some("submitted"));
    }

    #[test]
    fn text_commands_become_bash_steps() {
        let record = json!({
            "environment": "swe_main",
            "history": [
                {"role": "system", "content": "SETTING", "agent": "primary"},
                {"role": "user", "content": "ISSUE:\nBroken\n\nINSTRUCTIONS:\nGo", "agent": "primary"}
            ],
            "trajectory": [
                {"action": "edit 4:4\n    x = 1\nend_of_edit\n", "thought": "Fix. ", "observation": "[File: a.py]"},
                {"action": "\n", "thought": "nothing", "observation": ""},
                {"action": "submit\n", "thought": "", "observation": "\ndiff --git a/a.py b/a.py"}
            ],
            "info": {"exit_status": "submitted", "submission": "\r\ndiff --git a/a.py b/a.py\r\n+x = 1\r\n"}
        });
        let p = parse(&record).unwrap();
        assert_eq!(p.steps.len(), 2);
        assert_eq!(p.skipped_turns, 1);
        assert_eq!(p.steps[0].action, Action::bash("edit 4:4\n    x = 1\nend_of_edit"));
        assert_eq!((p.steps[0].thought.as_str(), p.steps[0].observation.as_str()), ("Fix.", "[File: a.py]"));
        assert_eq!(p.steps[1].action, Action::bash("submit"));
        assert_eq!((p.problem_statement.as_str(), p.instance_id), ("Broken", None));
        assert_eq!(p.submission.as_deref(), Some("diff --git a/a.py b/a.py\n+x = 1\n"));
    }

    #[test]
    fn final_submit_is_recovered_only_when_missing() {
        let history = json!([
            {"role": "user", "content": "task", "agent": "main"},
            {"role": "assistant", "content": "t", "agent": "main",
             "tool_calls": [{"id": "a", "function": {"name": "bash", "arguments": "{\"command\":\"ls\"}"}}]},
            {"role": "tool", "content": "out", "agent": "main", "tool_call_ids": ["a"]}
        ]);
        let ls = json!({"action": "ls", "thought": "t", "observation": "out"});
        let submit = json!({"action": "submit\n", "thought": "Done.", "observation": "diff --git a b"});
        let record = json!({"history": history, "trajectory": [ls, submit]});
        let p = parse(&record).unwrap();
        assert_eq!(p.steps.len(), 2);
        assert_eq!((p.steps[1].action.clone(), p.steps[1].thought.as_str()), (Action::new("submit"), "Done."));
        let aligned = json!({"history": history, "trajectory": [submit]});
        assert_eq!(parse(&aligned).unwrap().steps.len(), 1);
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        let cases = [
            json!(5),
            json!({"history": 5, "trajectory": []}),
            json!({"history": [], "trajectory": "x"}),
            json!({"history": [3], "trajectory": []}),
            json!({"history": [{"role": "user", "content": "t"}], "trajectory": [7]}),
            json!({"history": [{"role": "user", "content": "t"}], "trajectory": [{"action": 1}]}),
            json!({"history": [{"role": "user", "content": "t"}], "trajectory": [], "info": "x"}),
            json!({"history": [{"role": "user", "content": "t"}]}),
            json!({"history": [], "trajectory": [{"action": "ls"}]}),
        ];
        for case in cases {
            assert!(parse(&case).is_err(), "{case}");
        }
        let odd_calls = json!({"history": [
            {"role": "user", "content": "t"},
            {"role": "assistant", "content": 5,
             "tool_calls": [7, {"function": {"name": 3}}, {"function": {"name": "x", "arguments": "[1]"}}]},
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "bash", "arguments": 5}}]},
            {"role": "tool", "content": {"odd": true}}
        ]});
        let p = parse(&odd_calls).unwrap();
        assert_eq!((p.steps.len(), p.skipped_turns), (0, 4));
    }

    #[test]
    fn sniff_declines_other_shapes() {
        assert!(!sniff(&json!([])));
        assert!(!sniff(&json!({"messages": [{"role": "user", "content": "x"}]})));
        let openhands =
            json!({"instance_id": "a", "instruction": "x", "history": [{"id": 0, "action": "run", "source": "agent"}]});
        assert!(!sniff(&openhands));
        assert!(!sniff(&json!({"history": [{"action": "run", "command": "ls", "thought": ""}]})));
        assert!(sniff(&json!({"history": [{"role": "user", "content": "x", "agent": "main"}]})));
    }
}
