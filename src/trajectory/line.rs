//! One [`Trajectory`] as its `srl.trajectory/1` JSON line, written by hand: byte for byte what
//! `serde_json::to_writer` writes for it (the tests check that on every fixture), in about a
//! third of the time. `srl import` of a large dataset spent a quarter of its time in
//! `serde_json`'s string escaping, which looks at one byte at a time; observations are most of
//! the bytes and need escaping only at line ends, so [`write_str`] skips eight bytes at a time.
//!
//! Only the fields that hold the text of a trajectory are written here; the small ones (`usage`,
//! rejected replies, numbers) still go through `serde_json`. The serde derives on [`Trajectory`]
//! and [`Step`] stay the definition of the format: the destructuring below names every field,
//! so a new one is a compile error here until it is written.

use serde::Serialize;

use super::{Step, Trajectory};

/// Appends `trajectory` as compact JSON, without a newline.
pub fn write_trajectory(out: &mut Vec<u8>, trajectory: &Trajectory) {
    let Trajectory {
        schema,
        id,
        instance_id,
        instance_id_source,
        source_format,
        source,
        problem_statement,
        steps,
        submission,
        exit_status,
        resolved,
        usage,
        rejected_after_last_step,
    } = trajectory;
    key(out, "{", "schema");
    write_str(out, schema);
    key(out, ",", "id");
    write_str(out, id);
    key(out, ",", "instance_id");
    write_optional_str(out, instance_id.as_deref());
    if let Some(id_source) = instance_id_source {
        key(out, ",", "instance_id_source");
        write_serde(out, id_source);
    }
    key(out, ",", "source_format");
    write_str(out, source_format);
    key(out, ",", "source");
    write_str(out, source);
    key(out, ",", "problem_statement");
    write_str(out, problem_statement);
    key(out, ",", "steps");
    for (idx, step) in steps.iter().enumerate() {
        out.push(if idx == 0 { b'[' } else { b',' });
        write_step(out, step);
    }
    out.extend_from_slice(if steps.is_empty() { b"[]" } else { b"]" });
    key(out, ",", "submission");
    write_optional_str(out, submission.as_deref());
    key(out, ",", "exit_status");
    write_optional_str(out, exit_status.as_deref());
    if let Some(resolved) = resolved {
        key(out, ",", "resolved");
        write_serde(out, resolved);
    }
    if let Some(usage) = usage {
        key(out, ",", "usage");
        write_serde(out, usage);
    }
    if !rejected_after_last_step.is_empty() {
        key(out, ",", "rejected_after_last_step");
        write_serde(out, rejected_after_last_step);
    }
    out.push(b'}');
}

fn write_step(out: &mut Vec<u8>, step: &Step) {
    let Step { thought, action, action_text, observation, exit_code, usage, rejected_replies } = step;
    key(out, "{", "thought");
    write_str(out, thought);
    key(out, ",", "action");
    key(out, "{", "tool");
    write_str(out, &action.tool);
    key(out, ",", "args");
    for (idx, (name, value)) in action.args.iter().enumerate() {
        key(out, if idx == 0 { "{" } else { "," }, name);
        write_str(out, value);
    }
    out.extend_from_slice(if action.args.is_empty() { b"{}}" } else { b"}}" });
    key(out, ",", "action_text");
    write_str(out, action_text);
    key(out, ",", "observation");
    write_str(out, observation);
    key(out, ",", "exit_code");
    write_serde(out, exit_code);
    if let Some(usage) = usage {
        key(out, ",", "usage");
        write_serde(out, usage);
    }
    if !rejected_replies.is_empty() {
        key(out, ",", "rejected_replies");
        write_serde(out, rejected_replies);
    }
    out.push(b'}');
}

/// `before` (an opening brace or a comma), then `"name":`.
fn key(out: &mut Vec<u8>, before: &str, name: &str) {
    out.extend_from_slice(before.as_bytes());
    write_str(out, name);
    out.push(b':');
}

fn write_optional_str(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => write_str(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_serde(out: &mut Vec<u8>, value: &impl Serialize) {
    serde_json::to_writer(out, value).expect("these values have no map with non-string keys, and a Vec never fails")
}

/// Eight copies of a byte.
const fn splat(byte: u8) -> u64 {
    0x0101_0101_0101_0101 * byte as u64
}

/// The bytes of `word` (little-endian) that JSON escapes, a control character (below 0x20),
/// `"` or `\\`, as their high bits. The classic test for a byte below n, with `"` and `\\`
/// turned into zero bytes first; a borrow can mark a byte above a marked one, so only the
/// lowest mark is exact, and it is the only one used.
fn escapes(word: u64) -> u64 {
    const HIGH: u64 = splat(0x80);
    let below = |w: u64, n: u8| w.wrapping_sub(splat(n)) & !w & HIGH;
    below(word, 0x20) | below(word ^ splat(b'"'), 1) | below(word ^ splat(b'\\'), 1)
}

/// `text` as a JSON string, escaped as `serde_json` escapes it: `\"`, `\\`, the short forms
/// `\b \t \n \f \r`, `\u00xx` (lower-case hex) for the other control characters, every other
/// character (DEL and non-ASCII included) as it is.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes.get(idx..idx + 8) {
            Some(chunk) => {
                let marks = escapes(u64::from_le_bytes(chunk.try_into().expect("a slice of eight bytes")));
                if marks == 0 {
                    idx += 8;
                    continue;
                }
                idx += marks.trailing_zeros() as usize / 8;
            }
            None if !matches!(bytes[idx], 0..=0x1f | b'"' | b'\\') => {
                idx += 1;
                continue;
            }
            None => {}
        }
        out.extend_from_slice(&bytes[start..idx]);
        let byte = bytes[idx];
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]),
        }
        idx += 1;
        start = idx;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

const HEX: [u8; 16] = *b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::trajectory::{IdSource, RejectedReply, Usage, SCHEMA};

    /// Our line and serde_json's for the same trajectory.
    fn check(trajectory: &Trajectory) {
        let mut ours = Vec::new();
        write_trajectory(&mut ours, trajectory);
        let theirs = serde_json::to_vec(trajectory).unwrap();
        assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
    }

    /// Every byte below 0x80 at every offset of a chunk, DEL and multi-byte characters.
    fn awkward_text() -> String {
        let ascii: String = (0u8..0x80).map(char::from).collect();
        format!("{ascii}é ü 日本語 🦀 {ascii}x\"\\{ascii}\u{7f}")
    }

    fn step(text: &str, with_extras: bool) -> Step {
        let mut action = Action::new(text);
        action.args.insert("command".to_string(), text.to_string());
        action.args.insert("a\"key".to_string(), String::new());
        let mut step = Step::new(text, action, text, Some(-3));
        if with_extras {
            step.usage = Some(Usage { model_calls: 2, model_seconds: 0.1, ..Usage::default() });
            step.rejected_replies = vec![RejectedReply { text: text.to_string(), reason: "no action".to_string() }];
        }
        step
    }

    #[test]
    fn lines_match_serde_json() {
        let text = awkward_text();
        let mut trajectory = Trajectory {
            schema: SCHEMA.to_string(),
            id: "x.0123abcd".to_string(),
            instance_id: None,
            instance_id_source: None,
            source_format: "swe-smith".to_string(),
            source: "a\\b.parquet#3".to_string(),
            problem_statement: text.clone(),
            steps: Vec::new(),
            submission: None,
            exit_status: None,
            resolved: None,
            usage: None,
            rejected_after_last_step: Vec::new(),
        };
        check(&trajectory);
        for cut in 0..text.len() {
            if text.is_char_boundary(cut) {
                trajectory.problem_statement = text[cut..].to_string();
                check(&trajectory);
            }
        }
        trajectory.instance_id = Some("o__r-1".to_string());
        trajectory.instance_id_source = Some(IdSource::FolderName);
        trajectory.steps = vec![step(&text, false), step("", true), Step::new("", Action::new("submit"), "", None)];
        trajectory.submission = Some("diff\r\n".to_string());
        trajectory.exit_status = Some("submitted".to_string());
        trajectory.resolved = Some(false);
        trajectory.usage = Some(Usage { prompt_tokens: 7, exec_seconds: 1.5, ..Usage::default() });
        trajectory.rejected_after_last_step = vec![RejectedReply { text: "\u{1}".to_string(), reason: String::new() }];
        check(&trajectory);
    }

    #[test]
    fn fixture_lines_match_serde_json() {
        let fixtures = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/real"));
        let options = crate::trajectory::read::ImportOptions { format: None, strict: false };
        let summary = crate::trajectory::read::import_paths(&[fixtures], &options, &mut |trajectory| {
            check(&trajectory);
            Ok(())
        })
        .unwrap();
        assert!(summary.trajectories > 20, "{}", summary.line());
    }
}
