//! mini-swe-agent trajectories: the `mini-swe-agent-1` `.traj.json` object (F3) and the bare
//! message list of its test fixtures (F4).
//!
//! mini-swe-agent has one tool, bash, and parses it out of the model's text: an assistant turn
//! is a step when it holds exactly one ```` ```bash ```` (1.x) or ```` ```mswea_bash_command ````
//! (2.x text mode) block, the same rule mini-swe-agent itself applies. Any other fence
//! (```` ```python ````, a bare ```` ``` ```` quoting a traceback) is part of the thought, not an
//! action. Turns with zero or several blocks are skipped turns, and the "Please always provide
//! EXACTLY ONE action" reply they provoked is consumed with them.
//!
//! Observations lose their `<returncode>`/`<output>` wrapper; for outputs mini-swe-agent
//! truncated, the observation is the kept head, a `[N characters elided]` line and the kept
//! tail, without the advice-to-the-model `<warning>`. Messages that carry no wrapper (the final
//! diff, timeout notices, format errors) are kept verbatim.
//!
//! Not handled here: mini-swe-agent's tool-calling mode (2.x `tool_calls` messages), and the
//! companion files (`preds.json`, `results.json`, exit-status YAML), which are not trajectories.

use serde_json::Value;

use super::problem::{content_text, extract_problem_statement, nonempty_string, str_field};
use super::{Parsed, Step};
use crate::action::{parse_fenced_blocks, Action, Fenced};

/// Fence languages mini-swe-agent executes (its `action_regex` in 1.x and 2.x text mode).
const ACTION_LANGS: [&str; 2] = ["bash", "mswea_bash_command"];
/// The echo that ends a mini-swe-agent run; the output of that command is the submission.
const SUBMIT_SENTINEL: &str = "COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT";
/// mini-swe-agent's instance template puts this line inside `<pr_description>`, before the issue.
const PR_PREAMBLE: &str = "Consider the following PR description:";

/// One decoded chat message.
struct Message {
    role: String,
    text: String,
}

pub fn sniff(record: &Value) -> bool {
    if let Some(format) = str_field(record, "trajectory_format") {
        return format.starts_with("mini-swe-agent");
    }
    match record {
        Value::Array(items) => looks_like_mini_messages(items),
        Value::Object(map) => {
            // `history`/`trajectory` belong to SWE-agent and OpenHands, `response` to an
            // OpenHands completion log; those may hold fenced bash too.
            if ["history", "trajectory", "response"].iter().any(|k| map.contains_key(*k)) {
                return false;
            }
            map.get("messages").and_then(Value::as_array).is_some_and(|m| looks_like_mini_messages(m))
        }
        _ => false,
    }
}

/// Chat messages whose assistant turns act through fenced bash rather than `<function=…>`
/// calls (SWE-smith) or `tool_calls`. Every assistant turn is looked at, so one stray fence in a
/// SWE-smith thought, or one `<function=` quoted in a mini-swe-agent heredoc, does not decide.
fn looks_like_mini_messages(items: &[Value]) -> bool {
    let (mut fenced, mut xml) = (0usize, 0usize);
    for item in items {
        let Some(role) = str_field(item, "role") else { return false };
        if item.get("tool_calls").is_some_and(|c| !c.is_null()) {
            return false;
        }
        if role != "assistant" {
            continue;
        }
        let text = content_text(item.get("content").unwrap_or(&Value::Null));
        if text.contains("<function=") {
            xml += 1;
        }
        if !action_blocks(&text).is_empty() {
            fenced += 1;
        }
    }
    fenced > xml
}

pub fn parse(record: &Value) -> Result<Parsed, String> {
    let raw = match record {
        Value::Array(items) => items,
        Value::Object(_) => match record.get("messages") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err("messages is not a list".to_string()),
            None => return Err("messages is missing".to_string()),
        },
        _ => return Err("record is neither a mini-swe-agent object nor a message list".to_string()),
    };
    let messages = decode_messages(raw)?;
    let task = messages.iter().position(|m| m.role == "user");
    let mut parsed = Parsed {
        problem_statement: task.map(|i| problem_statement(&messages[i].text)).unwrap_or_default(),
        ..Parsed::default()
    };
    let mut i = 0;
    while i < messages.len() {
        if messages[i].role != "assistant" {
            i += 1;
            continue;
        }
        // The user message right after a turn is its observation (or its format-error reply).
        let reply = messages.get(i + 1).filter(|m| m.role == "user" && Some(i + 1) != task);
        match turn_step(&messages[i].text, reply.map(|m| m.text.as_str())) {
            Some(step) => parsed.steps.push(step),
            None => parsed.skipped_turns += 1,
        }
        i += if reply.is_some() { 2 } else { 1 };
    }
    if record.is_object() {
        parsed.instance_id = nonempty_string(record, "instance_id");
        let info = record.get("info").filter(|i| i.is_object());
        parsed.submission = info.and_then(|i| nonempty_string(i, "submission"));
        // Datasets of such runs keep the exit status as a column of its own.
        parsed.exit_status =
            info.and_then(|i| nonempty_string(i, "exit_status")).or_else(|| nonempty_string(record, "exit_status"));
    }
    if parsed.submission.is_none() {
        parsed.submission = submitted_output(&parsed.steps);
    }
    Ok(parsed)
}

fn decode_messages(raw: &[Value]) -> Result<Vec<Message>, String> {
    raw.iter()
        .enumerate()
        .map(|(idx, m)| {
            let role =
                str_field(m, "role").ok_or_else(|| format!("messages[{idx}].role is missing or not a string"))?;
            let text = content_text(m.get("content").unwrap_or(&Value::Null));
            Ok(Message { role: role.to_string(), text })
        })
        .collect()
}

/// The issue inside the task message, without mini-swe-agent's preamble line.
fn problem_statement(task: &str) -> String {
    let statement = extract_problem_statement(task);
    statement.strip_prefix(PR_PREAMBLE).map(|s| s.trim().to_string()).unwrap_or(statement)
}

/// Fenced blocks mini-swe-agent would execute.
fn action_blocks(text: &str) -> Vec<Fenced> {
    parse_fenced_blocks(text).into_iter().filter(|b| ACTION_LANGS.contains(&b.lang.as_str())).collect()
}

/// The step of one assistant turn, or `None` when it does not hold exactly one action.
fn turn_step(text: &str, reply: Option<&str>) -> Option<Step> {
    let blocks = action_blocks(text);
    let [block] = blocks.as_slice() else { return None };
    let before = text[..block.start].trim();
    let thought = before.strip_prefix("THOUGHT:").unwrap_or(before).trim();
    let (observation, exit_code) = reply.map(split_observation).unwrap_or_default();
    Some(Step::new(thought, Action::bash(block.body.clone()), observation, exit_code))
}

/// Output text and exit code of an observation message. Messages without a leading
/// `<returncode>` (the final diff, timeouts, format errors) are kept whole.
fn split_observation(text: &str) -> (String, Option<i64>) {
    let Some(rest) = text.trim_start().strip_prefix("<returncode>") else {
        return (text.to_string(), None);
    };
    let Some(end) = rest.find("</returncode>") else {
        return (text.to_string(), None);
    };
    let exit_code = rest[..end].trim().parse::<i64>().ok();
    (observation_body(&rest[end + "</returncode>".len()..]), exit_code)
}

fn observation_body(body: &str) -> String {
    if let Some(output) = outer(body, "<output>", "</output>") {
        // The template writes `<output>\n{{output}}</output>`: the output keeps its own newline.
        return output.strip_prefix('\n').unwrap_or(output).to_string();
    }
    if let (Some(head), Some(tail)) =
        (outer(body, "<output_head>", "</output_head>"), outer(body, "<output_tail>", "</output_tail>"))
    {
        let elided = outer(body, "<elided_chars>", "</elided_chars>").map(str::trim).unwrap_or("characters elided");
        return format!("{}\n[{elided}]\n{}", strip_newlines(head), strip_newlines(tail));
    }
    body.trim().to_string()
}

/// Text between the first `open` and the last `close`: the output itself may contain the
/// closing tag, the wrapper's own closing tag is the last one.
fn outer<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text.rfind(close)?;
    (end >= start).then(|| &text[start..end])
}

fn strip_newlines(text: &str) -> &str {
    let text = text.strip_prefix('\n').unwrap_or(text);
    text.strip_suffix('\n').unwrap_or(text)
}

/// A bare message list has no `info.submission`; the output of the final
/// `echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT …` command is what mini-swe-agent submits.
fn submitted_output(steps: &[Step]) -> Option<String> {
    let last = steps.last()?;
    let submits = last.action.get("command").is_some_and(|c| c.contains(SUBMIT_SENTINEL));
    (submits && !last.observation.trim().is_empty()).then(|| last.observation.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real");
    const GEMINI_TRAJS: &str = "mini-swe-agent-gemini3/swebench_results/20251118_gemini-3-pro-74pct";

    fn load(rel: &str) -> Value {
        let path = format!("{FIXTURES}/{rel}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn chat(turns: &[(&str, &str)]) -> Value {
        Value::Array(turns.iter().map(|(role, content)| json!({"role": role, "content": content})).collect())
    }

    #[test]
    fn one_block_is_a_step_with_thought_and_exit_code() {
        let record = chat(&[
            ("system", "sys"),
            ("user", "<pr_description>\nConsider the following PR description:\nBug here\n</pr_description>\nrules"),
            ("assistant", "THOUGHT: look first\n\n```bash\nls -la\n```"),
            ("user", "<returncode>2</returncode>\n<output>\nls: nope\n</output>"),
        ]);
        assert!(sniff(&record));
        let parsed = parse(&record).unwrap();
        assert_eq!(parsed.problem_statement, "Bug here");
        assert_eq!(parsed.steps.len(), 1);
        let step = &parsed.steps[0];
        assert_eq!((step.thought.as_str(), step.action.get("command")), ("look first", Some("ls -la")));
        assert_eq!((step.observation.as_str(), step.exit_code), ("ls: nope\n", Some(2)));
    }

    #[test]
    fn zero_or_two_blocks_are_skipped_with_their_format_error() {
        let record = chat(&[
            ("user", "Please solve this issue: x\n\nYou can execute bash commands"),
            ("assistant", "no action"),
            ("user", "Please always provide EXACTLY ONE action in triple backticks, found 0 actions."),
            ("assistant", "```bash\nls\n```\n```bash\npwd\n```"),
            ("user", "Please always provide EXACTLY ONE action in triple backticks, found 2 actions."),
            ("assistant", "A traceback:\n```\nError\n```\nnow:\n```mswea_bash_command\necho hi\n```"),
            ("user", "<returncode>0</returncode>\n<output>\nhi\n</output>"),
        ]);
        let parsed = parse(&record).unwrap();
        assert_eq!(parsed.problem_statement, "x");
        assert_eq!((parsed.steps.len(), parsed.skipped_turns), (1, 2));
        assert_eq!(parsed.steps[0].thought, "A traceback:\n```\nError\n```\nnow:");
        assert_eq!(parsed.steps[0].action.get("command"), Some("echo hi"));
    }

    #[test]
    fn long_output_keeps_head_and_tail() {
        let text = "<returncode>0</returncode>\n<warning>\ntoo long\n</warning><output_head>\nAAA\n</output_head>\n\
                    <elided_chars>\n123 characters elided\n</elided_chars>\n<output_tail>\nZZZ\n</output_tail>";
        assert_eq!(split_observation(text), ("AAA\n[123 characters elided]\nZZZ".to_string(), Some(0)));
        let timeout = "The last command <command>sleep 99</command> timed out";
        assert_eq!(split_observation(timeout), (timeout.to_string(), None));
    }

    #[test]
    fn bare_list_submission_comes_from_the_sentinel_output() {
        let record = chat(&[
            ("user", "task"),
            ("assistant", "```bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git diff\n```"),
            ("user", "diff --git a/x b/x\n"),
        ]);
        let parsed = parse(&record).unwrap();
        assert_eq!(parsed.submission.as_deref(), Some("diff --git a/x b/x\n"));
        assert_eq!(parsed.steps[0].exit_code, None);
    }

    #[test]
    fn wrong_types_are_errors_or_skips_not_panics() {
        assert!(parse(&json!({"messages": 5})).is_err());
        assert!(parse(&json!({"info": {}})).is_err());
        assert!(parse(&json!("text")).is_err());
        assert!(parse(&json!([{"role": 3, "content": "x"}])).is_err());
        let odd = parse(&json!([{"role": "user", "content": "t"}, {"role": "assistant", "content": 7}])).unwrap();
        assert_eq!((odd.steps.len(), odd.skipped_turns), (0, 1));
        let odd = parse(&json!({"messages": [], "info": "x", "instance_id": 4})).unwrap();
        assert_eq!((odd.instance_id, odd.submission), (None, None));
    }

    #[test]
    fn sniff_rejects_other_shapes() {
        let swe_smith = json!({"messages": [
            {"role": "user", "content": "task"},
            {"role": "assistant", "content": "run\n```bash\nls\n```\n<function=bash>\n<parameter=command>ls</parameter>\n</function>"},
            {"role": "assistant", "content": "<function=submit>\n</function>"},
        ], "instance_id": "x"});
        assert!(!sniff(&swe_smith));
        let events = json!([{"id": 0, "source": "user", "action": "message", "args": {"content": "```bash\nls\n```"}}]);
        assert!(!sniff(&events));
        let tool_calls = json!([{"role": "assistant", "content": "```bash\nls\n```", "tool_calls": []}]);
        assert!(!sniff(&tool_calls));
        assert!(!sniff(&json!([])));
        assert!(!sniff(&json!({"trajectory_format": "other", "messages": []})));
        assert!(sniff(&json!({"trajectory_format": "mini-swe-agent-1", "messages": []})));
    }

    /// Expected counts were established with python3, independently of this parser, by applying
    /// mini-swe-agent's own action regex to every assistant message:
    /// `len(re.findall(r"```(?:bash|mswea_bash_command)\s*\n(.*?)\n```", content, re.DOTALL)) == 1`
    /// → step, otherwise skipped. Cross-check: the number of following user messages that start
    /// with `<returncode>` plus the final unwrapped submit output equals the step count, and no
    /// user message starts with "Please always provide EXACTLY ONE" (no format errors here).
    #[test]
    fn fixture_counts() {
        let cases: [(&str, usize, usize); 5] = [
            ("mini-swe-agent/tests/test_data/github_issue.traj.json", 10, 0), // 10 assistant msgs, 9 <returncode> + 1 diff
            ("mini-swe-agent/tests/test_data/local.traj.json", 2, 0), // 2 assistant msgs, 1 <returncode> + 1 empty
            ("trajs/astropy__astropy-7336/astropy__astropy-7336.traj.json", 18, 0), // 17 <returncode> + 1 diff
            ("trajs/django__django-11149/django__django-11149.traj.json", 36, 0), // 35 <returncode> + 1 diff
            ("trajs/pallets__flask-5014/pallets__flask-5014.traj.json", 20, 0), // 19 <returncode> + 1 diff
        ];
        for (rel, steps, skipped) in cases {
            let rel = if rel.starts_with("trajs/") { format!("{GEMINI_TRAJS}/{rel}") } else { rel.to_string() };
            let record = load(&rel);
            assert!(sniff(&record), "{rel} should sniff as mini-swe-agent");
            let parsed = parse(&record).unwrap();
            assert_eq!((parsed.steps.len(), parsed.skipped_turns), (steps, skipped), "{rel}");
        }
    }

    #[test]
    fn fixture_field_values() {
        let record = load(&format!("{GEMINI_TRAJS}/trajs/pallets__flask-5014/pallets__flask-5014.traj.json"));
        let parsed = parse(&record).unwrap();
        assert_eq!(parsed.instance_id.as_deref(), Some("pallets__flask-5014"));
        assert_eq!(parsed.exit_status.as_deref(), Some("Submitted"));
        assert!(parsed.problem_statement.starts_with("Require a non-empty name for Blueprints"));
        assert!(parsed.submission.as_deref().is_some_and(|s| s.starts_with("diff --git a/src/flask/blueprints.py")));
        let first = &parsed.steps[0];
        assert_eq!((first.action.tool.as_str(), first.action.get("command")), ("bash", Some("ls -R")));
        assert!(first.thought.starts_with("I need to explore the codebase"));
        assert_eq!(first.exit_code, Some(0));
        assert!(first.observation.starts_with(".:\nCHANGES.rst\n"));
        // The final observation is the raw diff, equal to info.submission.
        assert_eq!(parsed.steps.last().map(|s| s.observation.as_str()), parsed.submission.as_deref());

        let bare = parse(&load("mini-swe-agent/tests/test_data/github_issue.traj.json")).unwrap();
        assert_eq!(bare.instance_id, None);
        assert!(bare.problem_statement.starts_with("GitHub Issue: SyntaxError: invalid syntax"));
        assert_eq!(bare.steps[0].exit_code, Some(1));
        assert!(bare.submission.as_deref().is_some_and(|s| s.starts_with("diff --git a/tests/missing_colon.py")));
        // local.traj.json submits with an empty diff: no submission.
        assert_eq!(parse(&load("mini-swe-agent/tests/test_data/local.traj.json")).unwrap().submission, None);
    }

    #[test]
    fn fixture_non_trajectories_do_not_sniff() {
        let run =
            "openhands-eval-outputs/evaluation/evaluation_outputs/outputs/princeton-nlp__SWE-bench_Verified-test/\
                   CodeActAgent/claude-3-5-sonnet-20241022_maxiter_50_N_v0.15.0-no-hint-no-condensation-run_1";
        for rel in [
            "mini-swe-agent/tests/test_data/results.json".to_string(),
            format!("{GEMINI_TRAJS}/logs/pallets__flask-5014/report.json"),
            "openhands/evaluation/benchmarks/swe_bench/examples/example_model_output.json".to_string(),
            "openhands/tests/runtime/trajs/basic.json".to_string(),
            format!("{run}/metadata.json"),
        ] {
            assert!(!sniff(&load(&rel)), "{rel}");
        }
        for rel in [
            "swe-smith/tests/test_logs/ft_xml_example.jsonl",
            "openhands/evaluation/benchmarks/multi_swe_bench/examples/patch.jsonl",
        ] {
            let text = std::fs::read_to_string(format!("{FIXTURES}/{rel}")).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                assert!(
                    !sniff(&serde_json::from_str::<Value>(line).unwrap()),
                    "a line of {rel} sniffed as mini-swe-agent"
                );
            }
        }
    }
}
