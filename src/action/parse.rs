//! Parsing actions out of model text and tool-call JSON.
//!
//! Three syntaxes are understood:
//! - SWE-agent XML function calls: `<function=NAME>` + `<parameter=KEY>VALUE</parameter>`… +
//!   `</function>`, values raw and possibly multi-line;
//! - fenced shell blocks (```` ```bash ````, ```` ```mswea_bash_command ````, or a bare fence),
//!   as mini-swe-agent and SWE-agent 0.x emit them;
//! - OpenAI tool calls: a function name plus a JSON-encoded argument object.

use std::fmt;

use super::{canonical_tool_name, Action};

const FUNCTION_OPEN: &str = "<function=";
const FUNCTION_CLOSE: &str = "</function>";
const PARAMETER_OPEN: &str = "<parameter=";
const PARAMETER_CLOSE: &str = "</parameter>";

/// Why a text did not yield exactly one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    NoAction,
    MultipleActions(usize),
    Malformed { offset: usize, reason: String },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NoAction => write!(f, "no action found (expected one <function=…> call)"),
            ParseError::MultipleActions(n) => write!(f, "found {n} actions, expected exactly one"),
            ParseError::Malformed { offset, reason } => write!(f, "malformed action at byte {offset}: {reason}"),
        }
    }
}

impl std::error::Error for ParseError {}

fn malformed(offset: usize, reason: impl Into<String>) -> ParseError {
    ParseError::Malformed { offset, reason: reason.into() }
}

/// An action found in a text, with the byte range it occupied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub action: Action,
    pub start: usize,
    pub end: usize,
}

/// Every XML function call in `text`, in order. A call that is opened but broken is an error:
/// a half-written call must not silently count as "no action".
pub fn parse_function_calls(text: &str) -> Result<Vec<Located>, ParseError> {
    let mut found = Vec::new();
    let mut pos = 0;
    while let Some(rel) = text[pos..].find(FUNCTION_OPEN) {
        let start = pos + rel;
        let (action, end) = parse_one_call(text, start)?;
        found.push(Located { action, start, end });
        pos = end;
    }
    Ok(found)
}

fn parse_one_call(text: &str, start: usize) -> Result<(Action, usize), ParseError> {
    let name_start = start + FUNCTION_OPEN.len();
    let name_len = text[name_start..].find('>').ok_or_else(|| malformed(start, "unterminated <function= tag"))?;
    let name = text[name_start..name_start + name_len].trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
        return Err(malformed(start, format!("invalid function name {name:?}")));
    }
    let mut action = Action::new(canonical_tool_name(name));
    let mut pos = name_start + name_len + 1;
    loop {
        pos = skip_whitespace(text, pos);
        let rest = &text[pos..];
        if rest.starts_with(FUNCTION_CLOSE) {
            return Ok((action, pos + FUNCTION_CLOSE.len()));
        }
        if !rest.starts_with(PARAMETER_OPEN) {
            let reason = if rest.is_empty() {
                "missing </function>".to_string()
            } else {
                format!("unexpected text {:?}", preview(rest))
            };
            return Err(malformed(pos, reason));
        }
        let key_start = pos + PARAMETER_OPEN.len();
        let key_len = text[key_start..].find('>').ok_or_else(|| malformed(pos, "unterminated <parameter= tag"))?;
        let key = text[key_start..key_start + key_len].trim();
        if key.is_empty() || key.contains(['<', '\n']) {
            return Err(malformed(pos, format!("invalid parameter name {key:?}")));
        }
        let value_start = key_start + key_len + 1;
        let value_end = find_value_end(text, value_start)
            .ok_or_else(|| malformed(pos, format!("parameter {key:?} is not closed")))?;
        let value = canonical_value(strip_one_newline(&text[value_start..value_end]));
        if action.args.insert(key.to_string(), value).is_some() {
            return Err(malformed(pos, format!("parameter {key:?} given twice")));
        }
        pos = value_end + PARAMETER_CLOSE.len();
    }
}

/// The `</parameter>` that ends a value is the first one followed (after whitespace) by
/// another parameter or by `</function>`; earlier occurrences belong to the value itself.
fn find_value_end(text: &str, from: usize) -> Option<usize> {
    let mut search = from;
    while let Some(rel) = text[search..].find(PARAMETER_CLOSE) {
        let end = search + rel;
        let after = skip_whitespace(text, end + PARAMETER_CLOSE.len());
        let rest = &text[after..];
        if rest.starts_with(PARAMETER_OPEN) || rest.starts_with(FUNCTION_CLOSE) {
            return Some(end);
        }
        search = end + PARAMETER_CLOSE.len();
    }
    None
}

/// A list of numbers written by hand (`[1, 50]`) gets the compact JSON text a tool call's
/// arguments give (`[1,50]`), so `view_range` reads the same whichever syntax an expert used.
fn canonical_value(value: &str) -> String {
    let trimmed = value.trim();
    if trimmed.starts_with('[') && trimmed.len() > 2 {
        if let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(trimmed) {
            // Non-empty only: `[ ]` is as likely to be text as a list, and must survive unchanged.
            if !items.is_empty() && items.iter().all(serde_json::Value::is_number) {
                return serde_json::Value::Array(items).to_string();
            }
        }
    }
    value.to_string()
}

fn strip_one_newline(value: &str) -> &str {
    let value = value.strip_prefix('\n').unwrap_or(value);
    value.strip_suffix('\n').unwrap_or(value)
}

fn skip_whitespace(text: &str, pos: usize) -> usize {
    pos + text[pos..].len() - text[pos..].trim_start().len()
}

fn preview(text: &str) -> String {
    text.chars().take(30).collect()
}

/// A fenced code block: the info word after the opening fence and the body between fences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fenced {
    pub lang: String,
    pub body: String,
    pub start: usize,
    pub end: usize,
}

/// Every fenced block in `text`. The body runs from the line after the opening fence to the
/// next line that starts with three backticks.
pub fn parse_fenced_blocks(text: &str) -> Vec<Fenced> {
    let mut blocks = Vec::new();
    let mut pos = 0;
    while let Some(rel) = text[pos..].find("```") {
        let start = pos + rel;
        let info_start = start + 3;
        let Some(line_len) = text[info_start..].find('\n') else { break };
        let lang = text[info_start..info_start + line_len].trim();
        if lang.contains(char::is_whitespace) || lang.contains('`') {
            pos = info_start;
            continue;
        }
        let body_start = info_start + line_len + 1;
        let close = if text[body_start..].starts_with("```") {
            Some(0)
        } else {
            text[body_start..].find("\n```").map(|i| i + 1)
        };
        let Some(close_rel) = close else { break };
        let body_end = body_start + close_rel;
        let body = text[body_start..body_end].strip_suffix('\n').unwrap_or(&text[body_start..body_end]);
        let end = body_end + 3;
        blocks.push(Fenced { lang: lang.to_string(), body: body.to_string(), start, end });
        pos = end;
    }
    blocks
}

/// Fenced blocks whose language marks them as shell commands, turned into `bash` actions.
pub fn parse_fenced_bash(text: &str) -> Vec<Located> {
    parse_fenced_blocks(text)
        .into_iter()
        // Bare fences are not actions: models quote tracebacks and file contents in them.
        .filter(|b| matches!(b.lang.as_str(), "bash" | "sh" | "shell" | "mswea_bash_command"))
        .map(|b| Located { action: Action::bash(b.body), start: b.start, end: b.end })
        .collect()
}

/// An OpenAI-style tool call: `name` plus its JSON-encoded `arguments` object.
pub fn parse_tool_call(name: &str, arguments: &str) -> Result<Action, ParseError> {
    let arguments = if arguments.trim().is_empty() { "{}" } else { arguments };
    let value: serde_json::Value =
        serde_json::from_str(arguments).map_err(|e| malformed(0, format!("tool call arguments are not JSON: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(malformed(0, "tool call arguments are not a JSON object"));
    };
    let mut action = Action::new(canonical_tool_name(name));
    for (key, value) in map {
        action.args.insert(key, json_argument_text(&value));
    }
    Ok(action)
}

/// Strings stay as they are; anything else keeps its compact JSON text (`[1,50]`, `12`, `true`).
pub fn json_argument_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The single action in a model completion (the text after `</think>`). Function calls are
/// the contract; a lone fenced shell block is accepted too, since mini-swe-agent experts act
/// that way. Fences inside a function call's parameters do not count as extra actions.
pub fn parse_completion_action(text: &str) -> Result<Action, ParseError> {
    let calls = parse_function_calls(text)?;
    let fences: Vec<Located> = parse_fenced_bash(text)
        .into_iter()
        .filter(|f| !calls.iter().any(|c| f.start < c.end && c.start < f.end))
        .collect();
    match (calls.len(), fences.len()) {
        (1, 0) => Ok(calls.into_iter().next().expect("length checked").action),
        (0, 1) => Ok(fences.into_iter().next().expect("length checked").action),
        (0, 0) => Err(ParseError::NoAction),
        (c, f) => Err(ParseError::MultipleActions(c + f)),
    }
}

/// Where the first complete action in `text` ends (a byte offset just past its `</function>`
/// or its closing fence), or `None` while no action is complete. A call that is already broken
/// for good (not merely unfinished) ends at its first `</function>`: more text cannot mend it.
/// Samplers stop a reply here, since the output contract allows exactly one action.
pub fn first_action_end(text: &str) -> Option<usize> {
    let call_end = text.find(FUNCTION_OPEN).and_then(|start| match parse_one_call(text, start) {
        Ok((_, end)) => Some(end),
        Err(ParseError::Malformed { offset, reason }) if !is_unfinished(&text[offset..], &reason) => {
            text[start..].find(FUNCTION_CLOSE).map(|rel| start + rel + FUNCTION_CLOSE.len())
        }
        Err(_) => None,
    });
    let fence_end = parse_fenced_bash(text).first().map(|f| f.end);
    match (call_end, fence_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a parse error only says the call has not been written to its end yet: `rest` is
/// the text from where the error was found.
fn is_unfinished(rest: &str, reason: &str) -> bool {
    if reason.starts_with("unexpected text ") {
        return PARAMETER_OPEN.starts_with(rest) || FUNCTION_CLOSE.starts_with(rest);
    }
    reason == "missing </function>" || reason.starts_with("unterminated ") || reason.ends_with(" is not closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action in `text`, as `tool {args}` lines, or the error.
    fn check(text: &str, expect: &str) {
        let got = match parse_function_calls(text) {
            Ok(calls) => {
                calls.iter().map(|c| format!("{} {:?}", c.action.tool, c.action.args)).collect::<Vec<_>>().join("\n")
            }
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn a_reply_ends_with_its_first_complete_action() {
        fn end(text: &str) -> Option<&str> {
            first_action_end(text).map(|e| &text[..e])
        }
        let call = "<function=bash>\n<parameter=command>ls</parameter>\n</function>";
        assert_eq!(end(&format!("{call}\n</function>\n</function>")), Some(call));
        assert_eq!(end(&format!("{call}<function=submit></function>")), Some(call));
        for unfinished in [
            "<function=ba",
            "<function=bash>\n<param",
            "<function=bash><parameter=command>ls</para",
            "<function=bash><parameter=command>ls</parameter>\n</func",
            "plain thought so far",
        ] {
            assert_eq!(end(unfinished), None, "{unfinished:?}");
        }
        let value_with_tag = "<function=bash><parameter=command>echo '</function>' x</parameter></function>";
        assert_eq!(end(&format!("{value_with_tag} tail")), Some(value_with_tag));
        // Broken for good: ends at the first closing tag instead of running to the token limit.
        assert_eq!(end("<function=bash>ls</function> and more"), Some("<function=bash>ls</function>"));
        assert_eq!(end("run it:\n```bash\nls -la\n```\nthen more"), Some("run it:\n```bash\nls -la\n```"));
        assert_eq!(end("```bash\nls -la\n"), None);
    }

    #[test]
    fn multi_line_parameter_bodies_lose_one_wrapping_newline() {
        check(
            "Let me fix it.\n<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/a.py</parameter>\n<parameter=old_str>\n  x = 1\n\n</parameter>\n<parameter=new_str>\n  x = 2\n</parameter>\n</function>",
            r#"str_replace_editor {"command": "str_replace", "new_str": "  x = 2", "old_str": "  x = 1\n", "path": "/a.py"}"#,
        );
    }

    #[test]
    fn closing_tag_inside_a_value_belongs_to_the_value() {
        check(
            "<function=bash><parameter=command>echo '</parameter>' ok</parameter></function>",
            r#"bash {"command": "echo '</parameter>' ok"}"#,
        );
    }

    #[test]
    fn number_lists_are_compact_whatever_the_spacing() {
        check(
            "<function=str_replace_editor><parameter=view_range>[10, -1]</parameter></function>",
            r#"str_replace_editor {"view_range": "[10,-1]"}"#,
        );
        check("<function=x><parameter=a>[not, json]</parameter></function>", r#"x {"a": "[not, json]"}"#);
        check("<function=x><parameter=a>[ ]</parameter></function>", r#"x {"a": "[ ]"}"#);
    }

    #[test]
    fn call_without_parameters() {
        check("done\n<function=submit>\n</function>", "submit {}");
    }

    #[test]
    fn openhands_tool_names_are_canonical() {
        check("<function=execute_bash><parameter=command>ls</parameter></function>", r#"bash {"command": "ls"}"#);
    }

    #[test]
    fn broken_calls_are_errors_not_silence() {
        check(
            "<function=bash><parameter=command>ls",
            "error: malformed action at byte 15: parameter \"command\" is not closed",
        );
        check("<function=bash>", "error: malformed action at byte 15: missing </function>");
        check(
            "<function=bash>oops</function>",
            "error: malformed action at byte 15: unexpected text \"oops</function>\"",
        );
        check("<function=>x", "error: malformed action at byte 0: invalid function name \"\"");
        check(
            "<function=bash><parameter=a>1</parameter><parameter=a>2</parameter></function>",
            "error: malformed action at byte 41: parameter \"a\" given twice",
        );
    }

    #[test]
    fn fenced_blocks() {
        let text = "THOUGHT: x\n\n```bash\ncd /testbed && ls\n```\nand\n```python\nprint(1)\n```\n```mswea_bash_command\necho hi\n```";
        let blocks: Vec<String> =
            parse_fenced_bash(text).into_iter().map(|b| b.action.args["command"].clone()).collect();
        assert_eq!(blocks, ["cd /testbed && ls", "echo hi"]);
        assert!(parse_fenced_bash("```bash\nunclosed").is_empty());
    }

    #[test]
    fn tool_call_arguments_keep_non_strings_as_json() {
        let action =
            parse_tool_call("str_replace_editor", r#"{"command":"view","path":"/a.py","view_range":[1, 40]}"#).unwrap();
        assert_eq!(action.args["view_range"], "[1,40]");
        assert!(parse_tool_call("bash", "{not json").is_err());
        assert!(parse_tool_call("bash", "[1]").is_err());
        assert_eq!(parse_tool_call("submit", "").unwrap(), Action::new("submit"));
    }

    #[test]
    fn completion_with_one_call_and_fences_inside_its_parameters() {
        let text = "<function=str_replace_editor><parameter=command>create</parameter><parameter=file_text>\n```bash\nls\n```\n</parameter></function>";
        assert_eq!(parse_completion_action(text).unwrap().tool, "str_replace_editor");
        assert_eq!(parse_completion_action("```bash\nls\n```\n```bash\npwd\n```"), Err(ParseError::MultipleActions(2)));
        assert_eq!(parse_completion_action("nothing here"), Err(ParseError::NoAction));
    }
}
