//! Pulling the problem statement out of the task message a scaffold wrapped it in, plus small
//! helpers for reading chat messages that every importer needs.
//!
//! Scaffolds paste the issue into a templated user message: SWE-agent 0.x between `ISSUE:` and
//! `INSTRUCTIONS:`, SWE-agent 1.x, SWE-smith and OpenHands inside `<pr_description>`,
//! mini-swe-agent inside `<pr_description>` or after `Please solve this issue:`. When no marker
//! is found the whole message is the problem statement: losing text is worse than keeping
//! instructions.

use serde_json::Value;

/// The issue text inside a scaffold's task message.
pub fn extract_problem_statement(message: &str) -> String {
    if let Some(inner) = between(message, "<pr_description>", "</pr_description>") {
        return inner.trim().to_string();
    }
    if let Some(inner) = between(message, "<issue_description>", "</issue_description>") {
        return inner.trim().to_string();
    }
    if let Some(start) = message.find("ISSUE:\n") {
        let rest = &message[start + "ISSUE:\n".len()..];
        let end = rest.find("\nINSTRUCTIONS:").unwrap_or(rest.len());
        return rest[..end].trim().to_string();
    }
    if let Some(start) = message.find("Please solve this issue:") {
        let rest = &message[start + "Please solve this issue:".len()..];
        let end = rest.find("\n\nYou can execute bash commands").unwrap_or(rest.len());
        return rest[..end].trim().to_string();
    }
    message.trim().to_string()
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// The text of a chat message `content`: a plain string, or a list of parts whose `text`
/// fields are joined (OpenAI / Anthropic multi-part content). Anything else is empty.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| match p {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(_) => p.get("text").and_then(Value::as_str),
                    _ => None,
                })
                .collect();
            texts.join("\n")
        }
        _ => String::new(),
    }
}

/// `record[key]` as a string, if it is one.
pub fn str_field<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    record.get(key).and_then(Value::as_str)
}

/// `record[key]` as a non-empty owned string.
pub fn nonempty_string(record: &Value, key: &str) -> Option<String> {
    str_field(record, key).filter(|s| !s.trim().is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(message: &str, expect: &str) {
        assert_eq!(extract_problem_statement(message), expect);
    }

    #[test]
    fn pr_description_wins() {
        check(
            "<uploaded_files>\n/testbed\n</uploaded_files>\n<pr_description>\nBug: x\n</pr_description>\nDo it.",
            "Bug: x",
        );
    }

    #[test]
    fn swe_agent_issue_block() {
        check(
            "We're solving this.\nISSUE:\nTypeError in foo\n\nINSTRUCTIONS:\nNow, you're going to solve",
            "TypeError in foo",
        );
    }

    #[test]
    fn unmarked_message_is_kept_whole() {
        check("  fix the bug  ", "fix the bug");
    }

    #[test]
    fn multipart_content_is_joined() {
        let content =
            serde_json::json!([{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]);
        assert_eq!(content_text(&content), "a\nb");
    }
}
