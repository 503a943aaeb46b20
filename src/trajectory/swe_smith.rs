//! SWE-smith fine-tuning records (F5): `{"messages": […], "instance_id": …}`, one per JSONL
//! line. They are SWE-agent runs converted for SFT: each assistant message is a thought followed
//! by one call in SWE-agent's XML syntax (`<function=…><parameter=…>…</function>`), and the user
//! message after it is the call's observation.
//!
//! Deliberately not done: these records keep no exit status, no exit codes and no patch field,
//! and nothing is invented for them. The submission is taken only from the observation of the
//! last `submit`; the review checklist that answers an earlier `submit` shows an intermediate
//! diff (often still with the reproduction script) that is not the patch that was graded, so it
//! is never used, even when the last `submit` has no observation (the usual case: the export
//! ends on the final assistant message).

use std::borrow::Cow;

use serde_json::Value;

use super::problem::{content_text, extract_problem_statement, nonempty_string, str_field};
use super::{Parsed, Step};
use crate::action::parse_function_calls;

/// What SWE-agent's observation templates write before tool output; template, not output.
const OBSERVATION_PREFIXES: [&str; 2] = ["OBSERVATION:\n", "Observation: "];

/// How many assistant messages `sniff` looks at, so that one format error up front (a message
/// without a call) does not hide the record's format.
const SNIFF_ASSISTANT_MESSAGES: usize = 3;

const DIFF_START: &str = "diff --git";

/// SWE-agent's review-on-submit message wraps the diff it shows in `<diff>…</diff>`.
const DIFF_CLOSE: &str = "</diff>";

pub fn sniff(record: &Value) -> bool {
    let Some(object) = record.as_object() else { return false };
    // OpenHands llm_completions records also hold `messages`, next to the call's `response`, and
    // its converter for models without native tool calls writes this same `<function=` syntax.
    if object.contains_key("response") {
        return false;
    }
    let Some(messages) = object.get("messages").and_then(Value::as_array) else { return false };
    // mini-swe-agent's messages are shaped alike but act through fenced ```bash blocks.
    messages
        .iter()
        .filter(|m| is_role(m, "assistant"))
        .take(SNIFF_ASSISTANT_MESSAGES)
        .any(|m| message_text(m).contains("<function="))
}

pub fn parse(record: &Value) -> Result<Parsed, String> {
    if !record.is_object() {
        return Err("record is not a JSON object".to_string());
    }
    let messages = match record.get("messages") {
        Some(Value::Array(messages)) => messages,
        Some(_) => return Err("messages is not a list".to_string()),
        None => return Err("messages is missing".to_string()),
    };
    if let Some(idx) = messages.iter().position(|m| !m.is_object()) {
        return Err(format!("messages[{idx}] is not an object"));
    }
    let task = messages.iter().find(|m| is_role(m, "user")).ok_or("no user message with the task")?;
    let problem_statement = extract_problem_statement(&message_text(task));
    if problem_statement.is_empty() {
        return Err("the task message (the first user message) is empty".to_string());
    }
    let (steps, skipped_turns) = steps(messages);
    Ok(Parsed {
        instance_id: nonempty_string(record, "instance_id"),
        problem_statement,
        submission: final_submission(&steps),
        steps,
        exit_status: None,
        skipped_turns,
    })
}

fn is_role(message: &Value, role: &str) -> bool {
    str_field(message, "role") == Some(role)
}

/// The message's text, borrowed when it is a plain string (the common case, and the bulk of
/// a dataset's bytes).
fn message_text(message: &Value) -> Cow<'_, str> {
    match message.get("content") {
        Some(Value::String(text)) => Cow::Borrowed(text),
        Some(content) => Cow::Owned(content_text(content)),
        None => Cow::Borrowed(""),
    }
}

/// One step per assistant message holding exactly one well-formed call. Zero calls, several,
/// or a broken one is a skipped turn: SWE-agent rejects such output as a format error and
/// executes nothing, and the user message after it is the error, not an observation.
fn steps(messages: &[Value]) -> (Vec<Step>, usize) {
    let mut steps = Vec::new();
    let mut skipped = 0;
    for (idx, message) in messages.iter().enumerate() {
        if !is_role(message, "assistant") {
            continue;
        }
        let text = message_text(message);
        let calls = parse_function_calls(&text);
        let Ok([call]) = calls.as_deref() else {
            skipped += 1;
            continue;
        };
        // The run's last call (normally `submit`) has no user message after it.
        let observation = match messages.get(idx + 1) {
            Some(next) if is_role(next, "user") => strip_observation_prefix(&message_text(next)),
            _ => String::new(),
        };
        steps.push(Step::new(text[..call.start].trim(), call.action.clone(), observation, None));
    }
    (steps, skipped)
}

fn strip_observation_prefix(text: &str) -> String {
    OBSERVATION_PREFIXES.iter().find_map(|prefix| text.strip_prefix(prefix)).unwrap_or(text).to_string()
}

/// The diff in the last `submit`'s observation, from its first `diff --git` up to a closing
/// `</diff>` if any. The diff went through a terminal, which turns every `\n` into `\r\n`;
/// undoing that gives back the patch as it was on disk (a CRLF file's `\r\r\n` becomes `\r\n`).
fn final_submission(steps: &[Step]) -> Option<String> {
    let submit = steps.iter().rev().find(|step| step.action.tool == "submit")?;
    let diff = &submit.observation[submit.observation.find(DIFF_START)?..];
    let diff = diff.find(DIFF_CLOSE).map_or(diff, |end| &diff[..end]);
    let diff = diff.replace("\r\n", "\n");
    // Blank lines before `</diff>` are layout; a patch ends with exactly one newline.
    Some(format!("{}\n", diff.trim_end_matches('\n')))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::{json, Value};

    use super::*;
    use crate::action::Action;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real/");
    const JSONL: &str = "swe-smith/tests/test_logs/ft_xml_example.jsonl";

    fn read(rel: &str) -> String {
        std::fs::read_to_string(Path::new(FIXTURES).join(rel)).unwrap()
    }

    fn records() -> Vec<Value> {
        read(JSONL).lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn record(instance_id: &str) -> Parsed {
        let record = records().into_iter().find(|r| r["instance_id"] == instance_id).unwrap();
        parse(&record).unwrap()
    }

    /// (instance_id, steps, skipped turns) per line of ft_xml_example.jsonl, counted with python3
    /// independently of this importer: `len([m for m in d['messages'] if m['role'] == 'assistant'])`
    /// gives 37 / 44 / 22 assistant messages, and `len(re.findall('<function=', m['content'])) == 1`
    /// holds for every one of them (each has exactly one `</function>` too), so none is skipped.
    /// The pandas and pydantic lines are the runs of the SWE-smith `.traj` files, whose histories
    /// hold 37 and 22 tool calls: the counts agree (see `same_runs_as_the_traj_files`).
    const EXPECTED: [(&str, usize, usize); 3] = [
        ("pandas-dev__pandas.95280573.pr_53652", 37, 0),
        ("getmoto__moto.694ce1f4.pr_7331", 44, 0),
        ("pydantic__pydantic.acb0f10f.pr_8316", 22, 0),
    ];

    #[test]
    fn fixture_step_counts() {
        let records = records();
        assert_eq!(records.len(), EXPECTED.len());
        for (record, (instance_id, steps, skipped)) in records.iter().zip(EXPECTED) {
            assert!(sniff(record), "{instance_id} not sniffed");
            let parsed = parse(record).unwrap();
            assert_eq!(parsed.instance_id.as_deref(), Some(instance_id));
            assert_eq!((parsed.steps.len(), parsed.skipped_turns), (steps, skipped), "{instance_id}");
            // Every run ends on a bare final `submit` with no observation after it, and the earlier
            // `submit` was answered by the review checklist: no final patch is recorded.
            let last = parsed.steps.last().unwrap();
            assert_eq!((last.action.clone(), last.observation.as_str()), (Action::new("submit"), ""));
            assert_eq!((parsed.submission, parsed.exit_status), (None, None), "{instance_id}");
        }
    }

    #[test]
    fn fixture_values() {
        let pandas = record("pandas-dev__pandas.95280573.pr_53652");
        assert!(pandas.problem_statement.starts_with("BUG: [pyarrow] AttributeError: 'Index' object has no attribute"));
        let first = &pandas.steps[0];
        assert_eq!(first.action.tool, "bash");
        assert!(first.action.get("command").unwrap().starts_with("find /testbed -type f -name \"*.py\""));
        assert!(first.thought.starts_with("I'll help you implement the necessary changes"));
        assert!(!first.thought.contains("<function="));
        let view = &pandas.steps[1].action;
        assert_eq!(
            (view.tool.as_str(), view.get("command"), view.get("path"), view.get("view_range")),
            ("str_replace_editor", Some("view"), Some("/testbed/pandas/core/indexes/base.py"), Some("[6035,6050]"))
        );
        assert!(pandas.steps.iter().all(|s| !s.observation.starts_with("OBSERVATION:")));

        // The one observation written with the other prefix.
        let moto = record("getmoto__moto.694ce1f4.pr_7331");
        let raw = records().into_iter().find(|r| r["instance_id"] == "getmoto__moto.694ce1f4.pr_7331").unwrap();
        let user_texts: Vec<String> =
            raw["messages"].as_array().unwrap().iter().map(|m| message_text(m).into_owned()).collect();
        let odd = user_texts.iter().find(|t| t.starts_with("Observation: ")).unwrap();
        assert!(moto.steps.iter().any(|s| s.observation == odd["Observation: ".len()..]));
        assert!(moto.steps.iter().all(|s| !s.observation.starts_with("Observation: ")));
    }

    /// The pandas and pydantic lines are the same runs as the SWE-smith `.traj` files (F2), read
    /// by the SWE-agent importer from their JSON tool calls: every step agrees, actions included
    /// (`[6035, 6050]` in the XML and `[6035,6050]` in the JSON both parse to the compact form),
    /// except that the export dropped the observation of the final `submit` (the `.traj` has the
    /// diff there).
    #[test]
    fn same_runs_as_the_traj_files() {
        for id in ["pandas-dev__pandas.95280573.pr_53652", "pydantic__pydantic.acb0f10f.pr_8316"] {
            let traj: Value =
                serde_json::from_str(&read(&format!("swe-smith/tests/test_logs/trajectories/{id}/{id}.traj"))).unwrap();
            let f2 = super::super::swe_agent::parse(&traj).unwrap();
            let f5 = record(id);
            assert_eq!(f5.steps.len(), f2.steps.len(), "{id}");
            assert_eq!(f5.problem_statement, f2.problem_statement, "{id}");
            let last = f5.steps.len() - 1;
            for (n, (a, b)) in f5.steps.iter().zip(&f2.steps).enumerate() {
                assert_eq!((&a.thought, &a.action.tool), (&b.thought, &b.action.tool), "{id} step {n}");
                assert_eq!(a.action.args.keys().collect::<Vec<_>>(), b.action.args.keys().collect::<Vec<_>>());
                for (key, value) in &a.action.args {
                    assert_eq!(*value, b.action.args[key], "{id} step {n} {key}");
                }
                if n < last {
                    assert_eq!(a.observation, b.observation, "{id} step {n}");
                }
            }
            assert!(f5.steps[last].observation.is_empty() && f2.steps[last].observation.starts_with(DIFF_START));
        }
    }

    /// Every file below `FIXTURES/dir` whose name ends with one of `suffixes`.
    fn files_under(dir: &Path, suffixes: &[&str], out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_under(&path, suffixes, out);
            } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
                out.push(path);
            }
        }
    }

    /// No record of another format in the fixtures (nor a list element, nor the SWE-agent
    /// `.traj` files of the same runs) is taken for SWE-smith's.
    #[test]
    fn other_formats_are_not_sniffed() {
        let mut files = Vec::new();
        for dir in ["mini-swe-agent", "mini-swe-agent-gemini3", "openhands", "openhands-eval-outputs", "swe-agent"] {
            files_under(&Path::new(FIXTURES).join(dir), &[".json", ".jsonl", ".traj"], &mut files);
        }
        files_under(&Path::new(FIXTURES).join("swe-smith"), &[".json", ".traj"], &mut files);
        assert!(files.len() > 30, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let values: Vec<Value> = if file.extension().is_some_and(|e| e == "jsonl") {
                text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
            } else {
                vec![serde_json::from_str(&text).unwrap()]
            };
            for value in &values {
                let elements = value.as_array().map(Vec::as_slice).unwrap_or_default();
                for v in std::iter::once(value).chain(elements) {
                    assert!(!sniff(v), "{} sniffed as SWE-smith", file.display());
                }
            }
        }
    }

    fn assistant(text: &str) -> Value {
        json!({"role": "assistant", "content": text})
    }

    fn user(text: &str) -> Value {
        json!({"role": "user", "content": text})
    }

    #[test]
    fn calls_become_steps_and_format_errors_are_skipped() {
        let record = json!({"instance_id": "o__r.1", "messages": [
            {"role": "system", "content": "---- BEGIN FUNCTION #1: bash ----"},
            {"role": "user", "content": [{"type": "text", "text": "<pr_description>\nFix x\n</pr_description>"}]},
            assistant("Look.\n\n<function=bash>\n<parameter=command>ls</parameter>\n</function>"),
            user("OBSERVATION:\na\r\nb"),
            assistant("<function=bash>\n<parameter=command>a</parameter>\n</function><function=submit>\n</function>"),
            user("You must call exactly one function."),
            assistant("I think I am done."),
            user("Please call a function."),
            assistant("<function=bash>\n<parameter=command>ls"),
            user("Your output was malformed."),
            assistant("Review.\n<function=submit>\n</function>"),
            user("OBSERVATION:\nThank you…\n<diff>\ndiff --git a/r.py b/r.py\r\n+x\r\n</diff>\nRun submit again."),
            assistant("<function=submit>\n</function>"),
            user("Observation: \r\ndiff --git a/x b/x\r\n--- a/x\r\n+++ b/x\r\n@@ -1 +1 @@\r\n-a\r\n+b\r\n"),
        ]});
        assert!(sniff(&record));
        let p = parse(&record).unwrap();
        assert_eq!((p.steps.len(), p.skipped_turns), (3, 3));
        assert_eq!(p.steps[0].action, Action::bash("ls"));
        assert_eq!((p.steps[0].thought.as_str(), p.steps[0].observation.as_str()), ("Look.", "a\r\nb"));
        assert_eq!((p.problem_statement.as_str(), p.instance_id.as_deref()), ("Fix x", Some("o__r.1")));
        assert_eq!(p.submission.as_deref(), Some("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"));
        assert_eq!(p.exit_status, None);
    }

    #[test]
    fn only_the_last_submit_gives_the_submission() {
        let review = "OBSERVATION:\nThank you…\n<diff>\ndiff --git a/r.py b/r.py\r\n+x\r\n\r\n</diff>\n";
        let mut messages = vec![user("task"), assistant("<function=submit>\n</function>"), user(review)];
        let record = json!({"messages": messages.clone()});
        assert_eq!(parse(&record).unwrap().submission.as_deref(), Some("diff --git a/r.py b/r.py\n+x\n"));
        messages.push(assistant("<function=submit>\n</function>"));
        assert_eq!(parse(&json!({"messages": messages})).unwrap().submission, None);
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        for bad in [
            json!(5),
            json!({"messages": 5}),
            json!({"instance_id": "x"}),
            json!({"messages": [3]}),
            json!({"messages": [assistant("<function=submit>\n</function>")]}),
            json!({"messages": [{"role": "user", "content": 5}]}),
        ] {
            assert!(parse(&bad).is_err(), "{bad}");
        }
        let odd = json!({"messages": [user("task"), {"role": "assistant", "content": 5}, {"role": "user"}]});
        let p = parse(&odd).unwrap();
        assert_eq!((p.steps.len(), p.skipped_turns), (0, 1));
    }

    #[test]
    fn sniff_needs_function_calls_from_the_assistant() {
        let fenced = assistant("THOUGHT: x\n\n```bash\nls\n```");
        let mini = json!({"messages": [user("<function=x> in the task"), fenced]});
        assert!(!sniff(&mini));
        let call = assistant("<function=bash>\n</function>");
        let late = json!({"messages": [user("t"), assistant("no call"), user("e"), call]});
        assert!(sniff(&late));
        let completion = json!({"messages": [assistant("<function=bash>\n</function>")], "response": {}});
        assert!(!sniff(&completion));
        assert!(!sniff(&json!([assistant("<function=bash>\n</function>")])));
    }
}
