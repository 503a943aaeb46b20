//! Task instances: the SWE-bench instance record (I1) and loading a set of them.
//!
//! An instance is a repository at a commit, the issue to solve, the gold and test patches, and
//! the tests that decide success: FAIL_TO_PASS must pass after the fix, PASS_TO_PASS must keep
//! passing. Those lists come as JSON lists (SWE-bench JSON dumps, SWE-smith) or as JSON-encoded
//! strings of lists (the SWE-bench datasets on Hugging Face); both are accepted. SWE-smith's
//! instances have no `test_patch` or `version` (the bug lives on a branch of a mirror repo), so
//! those default to empty; `image_name` (SWE-smith; R2E-Gym's `docker_image`) and `test_command` (`srl`'s own tasks) are
//! optional extensions.
//!
//! They load from the files SWE-bench ships in too: parquet (every column a string, the test
//! lists JSON-encoded), compressed JSONL, and folders of shards.
//!
//! Loading is all-or-nothing: a task set with a broken instance is a broken task set, so the
//! first bad record is an error naming the file, the record, the instance id and the field.
//! Only [`load_instances`] touches the disk; [`parse_instances`] takes the text.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::trajectory::dataset::{self, Compression, Layout};

/// One task instance. Field names are SWE-bench's, so the type reads and writes their files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct Instance {
    pub repo: String,
    pub instance_id: String,
    pub base_commit: String,
    /// The gold patch (non-test files); in SWE-smith, the patch that introduced the bug.
    pub patch: String,
    pub test_patch: String,
    pub problem_statement: String,
    pub hints_text: String,
    pub created_at: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_setup_commit: Option<String>,
    #[serde(rename = "FAIL_TO_PASS")]
    pub fail_to_pass: Vec<String>,
    #[serde(rename = "PASS_TO_PASS")]
    pub pass_to_pass: Vec<String>,
    /// Graded only when present (SWE-smith validation reports list them).
    #[serde(rename = "FAIL_TO_FAIL", skip_serializing_if = "Vec::is_empty")]
    pub fail_to_fail: Vec<String>,
    #[serde(rename = "PASS_TO_FAIL", skip_serializing_if = "Vec::is_empty")]
    pub pass_to_fail: Vec<String>,
    /// `srl` extension: the command that runs the instance's tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_command: Option<String>,
    /// The Docker image holding the repository (SWE-smith `image_name`, R2E-Gym `docker_image`);
    /// without it `task::images` derives the SWE-bench name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
}

impl TryFrom<Value> for Instance {
    type Error = String;

    fn try_from(value: Value) -> Result<Instance, String> {
        let record = value.as_object().ok_or_else(|| format!("expected a JSON object, found {}", kind(&value)))?;
        Ok(Instance {
            repo: required_str(record, "repo")?,
            instance_id: required_str(record, "instance_id")?,
            base_commit: required_str(record, "base_commit")?,
            patch: required_str(record, "patch")?,
            test_patch: optional_str(record, "test_patch")?.unwrap_or_default(),
            problem_statement: required_str(record, "problem_statement")?,
            hints_text: optional_str(record, "hints_text")?.unwrap_or_default(),
            created_at: optional_str(record, "created_at")?.unwrap_or_default(),
            version: optional_str(record, "version")?.unwrap_or_default(),
            environment_setup_commit: optional_str(record, "environment_setup_commit")?,
            fail_to_pass: required_ids(record, "FAIL_TO_PASS")?,
            pass_to_pass: required_ids(record, "PASS_TO_PASS")?,
            fail_to_fail: optional_ids(record, "FAIL_TO_FAIL")?.unwrap_or_default(),
            pass_to_fail: optional_ids(record, "PASS_TO_FAIL")?.unwrap_or_default(),
            test_command: optional_str(record, "test_command")?,
            // R2E-Gym names its image `docker_image`.
            image_name: match optional_str(record, "image_name")? {
                Some(name) => Some(name),
                None => optional_str(record, "docker_image")?,
            },
        })
    }
}

/// Reads the instances in `path`: JSONL, a JSON list, or a JSON object keyed by instance id;
/// a parquet file or compressed JSONL (`.jsonl.gz`, `.jsonl.zst`), as Hugging Face publishes
/// SWE-bench; or a folder of such shards (`data/test-*.parquet`), read in name order.
pub fn load_instances(path: &Path) -> Result<Vec<Instance>> {
    if path.is_dir() {
        let mut shards = Vec::new();
        shard_files(path, &mut shards)?;
        if shards.is_empty() {
            bail!("{} holds no parquet or JSONL files of instances", path.display());
        }
        shards.sort();
        let mut instances = Vec::new();
        for shard in shards {
            instances.extend(load_instances(&shard)?);
        }
        return Ok(instances);
    }
    match dataset::layout(path) {
        Some(layout @ (Layout::Parquet | Layout::Jsonl(Compression::Gzip | Compression::Zstd))) => {
            load_records(path, layout)
        }
        _ => {
            let text = std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))?;
            parse_instances(&text, &path.display().to_string()).map_err(anyhow::Error::msg)
        }
    }
}

/// Every file below `dir` that holds records (parquet, JSONL plain or compressed).
fn shard_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list directory {}", dir.display()))? {
        let path = entry.with_context(|| format!("cannot list directory {}", dir.display()))?.path();
        if path.is_dir() {
            shard_files(&path, out)?;
        } else if dataset::layout(&path).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

/// Instances streamed from a parquet file or compressed JSONL, one per row or line.
fn load_records(path: &Path, layout: Layout) -> Result<Vec<Instance>> {
    let file = path.display().to_string();
    let mut instances = Vec::new();
    dataset::for_each_record(path, layout, &mut |number, record| {
        let place = match number {
            Some(n) => format!("{file}: record {n}"),
            None => file.clone(),
        };
        let value = record.map_err(|e| anyhow!("{place}: {e}"))?;
        let id = value.get("instance_id").and_then(Value::as_str).unwrap_or("no instance_id").to_string();
        let instance = Instance::try_from(value).map_err(|e| anyhow!("{place} ({id}): {e}"))?;
        instances.push(instance);
        Ok(())
    })?;
    Ok(instances)
}

/// Parses the instances in `text`; `file` names it in errors
/// (`instances.jsonl: record 3 (astropy__astropy-1): missing field `FAIL_TO_PASS``). Records are
/// numbered from 1: list position, JSONL line, or position in a keyed object (which serde_json
/// iterates in key order, so instances from a keyed object come sorted by id).
pub fn parse_instances(text: &str, file: &str) -> Result<Vec<Instance>, String> {
    records(text)
        .map_err(|e| format!("{file}: {e}"))?
        .into_iter()
        .map(|(number, value)| {
            let id = value.get("instance_id").and_then(Value::as_str).unwrap_or("no instance_id").to_string();
            Instance::try_from(value).map_err(|e| format!("{file}: record {number} ({id}): {e}"))
        })
        .collect()
}

/// Splits the text into numbered JSON records, whatever the container.
fn records(text: &str) -> Result<Vec<(usize, Value)>, String> {
    let whole = serde_json::from_str::<Value>(text);
    match whole {
        Ok(Value::Array(items)) => Ok(items.into_iter().enumerate().map(|(i, v)| (i + 1, v)).collect()),
        Ok(Value::Object(map)) if map.contains_key("instance_id") => Ok(vec![(1, Value::Object(map))]),
        Ok(Value::Object(map)) => Ok(keyed_records(map)),
        Ok(other) => Err(format!(
            "expected instances as JSONL, a JSON list or a JSON object keyed by instance id, found {}",
            kind(&other)
        )),
        Err(e) if text.trim_start().starts_with('[') => Err(format!("invalid JSON: {e}")),
        Err(whole_error) => jsonl_records(text, &whole_error),
    }
}

/// `{"id": {…instance…}, …}`: an instance without its own `instance_id` takes the key.
fn keyed_records(map: Map<String, Value>) -> Vec<(usize, Value)> {
    map.into_iter()
        .enumerate()
        .map(|(i, (key, mut value))| {
            if let Some(record) = value.as_object_mut() {
                record.entry("instance_id").or_insert(Value::String(key));
            }
            (i + 1, value)
        })
        .collect()
}

/// One JSON value per non-blank line, numbered by line. When even the first line is not JSON,
/// the text was more likely one pretty-printed document, so that document's error is reported.
fn jsonl_records(text: &str, whole_error: &serde_json::Error) -> Result<Vec<(usize, Value)>, String> {
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        match serde_json::from_str::<Value>(line) {
            Ok(value) => out.push((idx + 1, value)),
            Err(_) if out.is_empty() => return Err(format!("invalid JSON: {whole_error}")),
            Err(e) => return Err(format!("record {}: invalid JSON: {e}", idx + 1)),
        }
    }
    Ok(out)
}

/// A string field; a number is taken as its text (`"version": 3.0` in some dumps), null as absent.
fn optional_str(record: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match record.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("field `{key}`: expected a string, found {}", kind(other))),
    }
}

fn required_str(record: &Map<String, Value>, key: &str) -> Result<String, String> {
    optional_str(record, key)?.ok_or_else(|| format!("missing field `{key}`"))
}

/// A list of test ids, given as a JSON list or as a string holding a JSON-encoded list.
fn optional_ids(record: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, String> {
    let decoded;
    let list = match record.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(Value::String(text)) => {
            decoded = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("field `{key}`: the string is not a JSON-encoded list of test ids ({e})"))?;
            decoded
                .as_array()
                .ok_or_else(|| format!("field `{key}`: the string holds {}, not a list of test ids", kind(&decoded)))?
        }
        Some(other) => return Err(format!("field `{key}`: expected a list of test ids, found {}", kind(other))),
    };
    let ids = list.iter().enumerate().map(|(idx, item)| match item {
        Value::String(id) => Ok(id.clone()),
        other => Err(format!("field `{key}`: item {} is {}, not a test id", idx + 1, kind(other))),
    });
    ids.collect::<Result<Vec<_>, _>>().map(Some)
}

fn required_ids(record: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    optional_ids(record, key)?.ok_or_else(|| format!("missing field `{key}`"))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#""repo": "o/r", "instance_id": "o__r-1", "base_commit": "abc", "patch": "p",
        "problem_statement": "bug""#;

    fn check(text: &str, expect: &str) {
        let got = match parse_instances(text, "instances.jsonl") {
            Ok(instances) => {
                let ids =
                    instances.iter().map(|i| format!("{}:{:?}:{:?}", i.instance_id, i.fail_to_pass, i.pass_to_pass));
                format!("ok {}", ids.collect::<Vec<_>>().join(" "))
            }
            Err(e) => format!("err {e}"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn lists_and_encoded_lists() {
        check(
            &format!("{{{BASE}, \"FAIL_TO_PASS\": [\"a\"], \"PASS_TO_PASS\": \"[\\\"b\\\", \\\"c\\\"]\"}}"),
            r#"ok o__r-1:["a"]:["b", "c"]"#,
        );
    }

    #[test]
    fn jsonl_with_an_error_names_file_record_id_and_field() {
        let good = format!("{{{BASE}, \"FAIL_TO_PASS\": [], \"PASS_TO_PASS\": []}}").replace('\n', " ");
        let bad = format!("{{{BASE}, \"PASS_TO_PASS\": []}}").replace('\n', " ").replace("o__r-1", "o__r-3");
        check(&format!("{good}\n\n{bad}\n"), "err instances.jsonl: record 3 (o__r-3): missing field `FAIL_TO_PASS`");
    }

    #[test]
    fn wrong_types_name_the_field() {
        let text = format!("[{{{BASE}, \"FAIL_TO_PASS\": [1], \"PASS_TO_PASS\": []}}]");
        check(&text, "err instances.jsonl: record 1 (o__r-1): field `FAIL_TO_PASS`: item 1 is a number, not a test id");
        let text = format!("[{{{BASE}, \"FAIL_TO_PASS\": \"a\", \"PASS_TO_PASS\": []}}]");
        check(
            &text,
            "err instances.jsonl: record 1 (o__r-1): field `FAIL_TO_PASS`: the string is not a JSON-encoded list of \
             test ids (expected value at line 1 column 1)",
        );
        let text = format!("[{{{BASE}, \"FAIL_TO_PASS\": [], \"PASS_TO_PASS\": [], \"version\": []}}]");
        check(&text, "err instances.jsonl: record 1 (o__r-1): field `version`: expected a string, found a list");
    }

    #[test]
    fn keyed_object_fills_missing_ids() {
        let record = format!("{{{BASE}, \"FAIL_TO_PASS\": [], \"PASS_TO_PASS\": []}}")
            .replace("\"instance_id\": \"o__r-1\",", "");
        check(&format!("{{\"o__r-9\": {record}}}"), "ok o__r-9:[]:[]");
    }

    #[test]
    fn not_instances_at_all() {
        check("42", "err instances.jsonl: expected instances as JSONL, a JSON list or a JSON object keyed by instance id, found a number");
        check("[{", "err instances.jsonl: invalid JSON: EOF while parsing an object at line 1 column 2");
        check("{\n  \"a\": \n", "err instances.jsonl: invalid JSON: EOF while parsing a value at line 3 column 0");
    }
}
