//! Datasets as Hugging Face publishes them (issue #18): parquet files with the exact schemas of
//! the trajectory sets' cards, folders of shards, compressed JSONL, and SWE-bench instances in
//! parquet. The rows are made from the real trajectories in `shared/fixtures/real`, and every
//! parquet file must import exactly as the JSONL it was written from.

mod support;

use std::path::Path;

use parquet::basic::{Compression, ZstdLevel};
use serde_json::{json, Value};
use support::{fixtures, parquet_file, TestContext};

/// nebius/SWE-agent-trajectories, as its card declares the features.
const NEBIUS: &str = "message schema {
  optional binary instance_id (UTF8);
  optional binary model_name (UTF8);
  optional boolean target;
  optional group trajectory (LIST) {
    repeated group list {
      optional group element {
        optional binary cutoff_date (UTF8);
        optional boolean mask;
        optional binary role (UTF8);
        optional binary system_prompt (UTF8);
        optional binary text (UTF8);
      }
    }
  }
  optional binary exit_status (UTF8);
  optional binary generated_patch (UTF8);
  optional binary eval_logs (UTF8);
}";

/// SWE-bench/SWE-smith-trajectories: `messages` is a JSON string in the published set.
const SWE_SMITH: &str = "message schema {
  optional binary messages (UTF8);
  optional binary instance_id (UTF8);
  optional boolean resolved;
  optional binary model (UTF8);
  optional binary traj_id (UTF8);
  optional binary patch (UTF8);
}";

/// The same set with `messages` as list<struct<role, content>>, as other SFT sets store chats.
const SWE_SMITH_LIST: &str = "message schema {
  optional group messages (LIST) {
    repeated group list {
      optional group element {
        optional binary content (UTF8);
        optional binary role (UTF8);
      }
    }
  }
  optional binary instance_id (UTF8);
  optional boolean resolved;
  optional binary model (UTF8);
  optional binary traj_id (UTF8);
  optional binary patch (UTF8);
}";

/// nvidia/SWE-Zero-openhands-trajectories, as its card declares the features.
const SWE_ZERO: &str = "message schema {
  optional binary instance_id (UTF8);
  optional binary repo (UTF8);
  optional binary license (UTF8);
  optional binary trajectory_id (UTF8);
  optional group trajectory (LIST) {
    repeated group list {
      optional group element {
        optional binary content (UTF8);
        optional binary name (UTF8);
        optional binary role (UTF8);
        optional binary tool_call_id (UTF8);
        optional group tool_calls (LIST) {
          repeated group list {
            optional group element {
              optional group function {
                optional binary arguments (UTF8);
                optional binary name (UTF8);
              }
              optional binary id (UTF8);
              optional binary type (UTF8);
            }
          }
        }
      }
    }
  }
  optional binary model_patch (UTF8);
  optional binary dataset (UTF8);
}";

/// mini-swe-agent-style sets (`messages` of `{role, content}`, `trajectory_format`, `exit_status`).
const MINI: &str = "message schema {
  optional binary instance_id (UTF8);
  optional group messages (LIST) {
    repeated group list {
      optional group element {
        optional binary content (UTF8);
        optional binary role (UTF8);
      }
    }
  }
  optional binary trajectory_format (UTF8);
  optional binary exit_status (UTF8);
}";

/// SWE-bench (Lite, Verified, full): every column a string, the test lists JSON-encoded.
const SWE_BENCH: &str = "message schema {
  optional binary repo (UTF8);
  optional binary instance_id (UTF8);
  optional binary base_commit (UTF8);
  optional binary patch (UTF8);
  optional binary test_patch (UTF8);
  optional binary problem_statement (UTF8);
  optional binary hints_text (UTF8);
  optional binary created_at (UTF8);
  optional binary version (UTF8);
  optional binary FAIL_TO_PASS (UTF8);
  optional binary PASS_TO_PASS (UTF8);
  optional binary environment_setup_commit (UTF8);
}";

fn load(rel: &str) -> Value {
    let path = fixtures().join(rel);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn jsonl_records(rel: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures().join(rel)).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Keeps exactly the schema's top-level columns (absent ones as null, as a parquet row has them).
fn project(row: Value, schema: &str) -> Value {
    let columns = schema
        .lines()
        .filter(|l| l.starts_with("  optional"))
        .map(|l| l.split_whitespace().nth(2).expect("a column name").trim_end_matches(';').to_string());
    Value::Object(columns.map(|c| (c.clone(), row.get(&c).cloned().unwrap_or(Value::Null))).collect())
}

/// nebius rows from the SWE-agent 0.x runs (F1): the non-demo history with nebius' roles.
fn nebius_rows() -> Vec<Value> {
    let runs = [
        "swe-agent/tests/test_data/trajectories/gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__c-3.00__install-1/pydicom__pydicom-1458.traj",
        "swe-agent/tests/test_data/trajectories/gpt4__swe-agent__test-repo__default_from_url__t-0.00__p-0.95__c-3.00__install-1/swe-agent__test-repo-i1.traj",
    ];
    runs.iter()
        .enumerate()
        .map(|(n, rel)| {
            let traj = load(rel);
            let history = traj["history"].as_array().unwrap();
            let system = history[0]["content"].clone();
            let messages: Vec<Value> = history
                .iter()
                .filter(|m| m.get("is_demo").is_none())
                .map(|m| {
                    let role = if m["role"] == "assistant" { "ai" } else { m["role"].as_str().unwrap() };
                    json!({"cutoff_date": "2024-06-01", "mask": role == "ai", "role": role, "system_prompt": system,
                           "text": m["content"]})
                })
                .collect();
            let id = Path::new(rel).file_stem().unwrap().to_str().unwrap();
            project(
                json!({"instance_id": id, "model_name": "gpt4", "target": n == 0, "trajectory": messages,
                       "exit_status": traj["info"]["exit_status"], "generated_patch": traj["info"]["submission"],
                       "eval_logs": "Will execute following command for apply_patch"}),
                NEBIUS,
            )
        })
        .collect()
}

/// SWE-smith rows from the fine-tuning export (F5), `messages` encoded as the schema wants.
fn swe_smith_rows(schema: &str) -> Vec<Value> {
    jsonl_records("swe-smith/tests/test_logs/ft_xml_example.jsonl")
        .into_iter()
        .enumerate()
        .map(|(n, record)| {
            let messages = if schema == SWE_SMITH {
                Value::String(record["messages"].to_string())
            } else {
                record["messages"].clone()
            };
            project(
                json!({"messages": messages, "instance_id": record["instance_id"], "resolved": n != 1,
                       "model": "claude-3-7-sonnet", "traj_id": format!("{}.{n}", record["instance_id"].as_str().unwrap()),
                       "patch": "diff --git a/x b/x\n"}),
                schema,
            )
        })
        .collect()
}

/// SWE-Zero rows from the OpenHands completion logs (F8): their messages plus the response's.
fn swe_zero_rows() -> Vec<Value> {
    let run = fixtures().join(
        "openhands-eval-outputs/evaluation/evaluation_outputs/outputs/princeton-nlp__SWE-bench_Verified-test/\
         CodeActAgent/claude-3-5-sonnet-20241022_maxiter_50_N_v0.15.0-no-hint-no-condensation-run_1/llm_completions",
    );
    let mut dirs: Vec<_> = std::fs::read_dir(run).unwrap().map(|d| d.unwrap().path()).collect();
    dirs.sort();
    let mut rows = Vec::new();
    for dir in dirs {
        let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
        let log: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let mut messages = log["messages"].as_array().unwrap().clone();
        messages.push(log["response"]["choices"][0]["message"].clone());
        let trajectory: Vec<Value> = messages.iter().map(chat_message).collect();
        let id = dir.file_name().unwrap().to_str().unwrap().to_string();
        rows.push(project(
            json!({"instance_id": id, "repo": "o/r", "license": "MIT", "trajectory_id": format!("{id}-0"),
                   "trajectory": trajectory, "model_patch": "diff --git a/x b/x\n", "dataset": "SWE-Gym"}),
            SWE_ZERO,
        ));
    }
    rows
}

/// An OpenAI message with string content and the struct fields of SWE-Zero's card.
fn chat_message(m: &Value) -> Value {
    let content = match &m["content"] {
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n"),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let calls = m.get("tool_calls").and_then(Value::as_array).map(|calls| {
        calls
            .iter()
            .map(|c| {
                json!({"function": {"arguments": c["function"]["arguments"], "name": c["function"]["name"]},
                           "id": c["id"], "type": "function"})
            })
            .collect::<Vec<_>>()
    });
    json!({"content": content, "name": m.get("name"), "role": m["role"], "tool_call_id": m.get("tool_call_id"),
           "tool_calls": calls})
}

/// mini-swe-agent rows from the Gemini 3 run (F3): messages without the provider's `extra`.
fn mini_rows() -> Vec<Value> {
    let dir = fixtures().join("mini-swe-agent-gemini3");
    let mut files = Vec::new();
    find(&dir, ".traj.json", &mut files);
    files.sort();
    files
        .iter()
        .map(|file| {
            let traj: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
            let messages: Vec<Value> = traj["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| json!({"content": m["content"], "role": m["role"]}))
                .collect();
            project(
                json!({"instance_id": traj["instance_id"], "messages": messages,
                       "trajectory_format": traj["trajectory_format"], "exit_status": traj["info"]["exit_status"]}),
                MINI,
            )
        })
        .collect()
}

fn find(dir: &Path, suffix: &str, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            find(&path, suffix, out);
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
}

fn write_jsonl(cx: &TestContext, name: &str, rows: &[Value]) -> String {
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    cx.write(name, &text);
    text
}

/// The import of `name`, without `source` (the file name differs between the copies), and the
/// summary line.
fn import(cx: &TestContext, name: &str) -> (Vec<Value>, String) {
    let out = format!("{name}.out.jsonl");
    let run = cx.srl(&["import", name, "-o", &out]);
    assert_eq!(run.code, 0, "{name}: {}", run.stderr);
    let records = cx
        .read(&out)
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let source = v.as_object_mut().unwrap().remove("source").unwrap();
            assert!(source.as_str().unwrap().contains('#'), "{source}");
            v
        })
        .collect();
    (records, run.stdout.trim().to_string())
}

/// The JSONL, its parquet (snappy and zstd, two rows to a row group so rows cross groups) and
/// its gzip and zstd copies all import to the same trajectories.
fn check_same_as_jsonl(schema: &str, rows: &[Value], format: &str, steps: usize) -> Vec<Value> {
    let cx = TestContext::new();
    let text = write_jsonl(&cx, "rows.jsonl", rows);
    parquet_file::write(&cx.path("snappy.parquet"), schema, rows, Compression::SNAPPY, 2);
    parquet_file::write(&cx.path("zstd.parquet"), schema, rows, Compression::ZSTD(ZstdLevel::default()), 2);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    cx.write("rows.jsonl.gz", gz.finish().unwrap());
    cx.write("rows.jsonl.zst", zstd::encode_all(text.as_bytes(), 3).unwrap());

    let (expected, summary) = import(&cx, "rows.jsonl");
    assert_eq!(expected.len(), rows.len(), "{summary}");
    assert!(expected.iter().all(|t| t["source_format"] == format), "{summary}");
    let n_steps: usize = expected.iter().map(|t| t["steps"].as_array().unwrap().len()).sum();
    assert_eq!(n_steps, steps, "{summary}");
    for name in ["snappy.parquet", "zstd.parquet", "rows.jsonl.gz", "rows.jsonl.zst"] {
        let (got, got_summary) = import(&cx, name);
        assert_eq!(got_summary, summary, "{name}");
        assert!(got == expected, "{name} imports differently from the JSONL it was written from");
    }
    expected
}

#[test]
fn nebius_parquet_imports_like_its_jsonl() {
    // 12 + 5 steps: the .traj files' trajectory[] entries (the SWE-agent importer's counts).
    let trajectories = check_same_as_jsonl(NEBIUS, &nebius_rows(), "nebius-swe-agent", 17);
    let resolved: Vec<&Value> = trajectories.iter().map(|t| &t["resolved"]).collect();
    assert_eq!(resolved, [&json!(true), &json!(false)], "`target` is the outcome");
    assert_eq!(trajectories[0]["instance_id"], "pydicom__pydicom-1458");
}

#[test]
fn swe_smith_parquet_with_json_string_or_list_messages() {
    // 37 + 44 + 22 steps, as the F5 importer counts them (src/trajectory/swe_smith.rs).
    let as_string = check_same_as_jsonl(SWE_SMITH, &swe_smith_rows(SWE_SMITH), "swe-smith", 103);
    let as_list = check_same_as_jsonl(SWE_SMITH_LIST, &swe_smith_rows(SWE_SMITH_LIST), "swe-smith", 103);
    assert!(as_string == as_list, "a JSON-string column and a list<struct> column read alike");
    let resolved: Vec<&Value> = as_string.iter().map(|t| &t["resolved"]).collect();
    assert_eq!(resolved, [&json!(true), &json!(false), &json!(true)]);
}

#[test]
fn swe_zero_parquet_imports_like_its_jsonl() {
    // 124 steps: the completion logs' own count (tests/import.rs).
    let trajectories = check_same_as_jsonl(SWE_ZERO, &swe_zero_rows(), "openai-chat", 124);
    assert!(trajectories.iter().all(|t| t.get("resolved").is_none()), "SWE-Zero has no outcome column");
    assert!(trajectories.iter().all(|t| t["submission"] == "diff --git a/x b/x\n"));
}

#[test]
fn mini_swe_agent_parquet_imports_like_its_jsonl() {
    let rows = mini_rows();
    assert_eq!(rows.len(), 3);
    let trajectories = check_same_as_jsonl(MINI, &rows, "mini-swe-agent", 74);
    assert!(trajectories.iter().all(|t| t["exit_status"] == "Submitted"));
}

#[test]
fn a_folder_of_shards_imports_in_order_and_only_resolved_steps_are_kept() {
    let cx = TestContext::new();
    std::fs::create_dir_all(cx.path("ds/data")).unwrap();
    std::fs::create_dir_all(cx.path("ds/instances")).unwrap();
    let rows = nebius_rows();
    for (n, row) in rows.iter().enumerate() {
        let shard = cx.path(&format!("ds/data/train-0000{n}-of-00002.parquet"));
        parquet_file::write(&shard, NEBIUS, std::slice::from_ref(row), Compression::ZSTD(ZstdLevel::default()), 1);
    }
    cx.write("ds/README.md", "---\nconfigs: …\n---\n");
    // Instances met while walking are no trajectories: the file is skipped after its first row,
    // while its reader is still decoding batches ahead (200 rows are several batches).
    let instances: Vec<Value> = load("swe-agent/tests/test_data/data_sources/swe-bench-lite-test.json")
        .as_array()
        .unwrap()
        .iter()
        .cycle()
        .take(200)
        .map(|r| project(r.clone(), SWE_BENCH))
        .collect();
    parquet_file::write(&cx.path("ds/instances/test.parquet"), SWE_BENCH, &instances, Compression::SNAPPY, 10);
    let run = cx.srl(&["import", "ds", "-o", "t.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("imported 2 trajectories with 17 steps from 2 files (0 skipped turns without an action, 1 other files ignored, 0 errors)"),
        "{}",
        run.stdout
    );
    let sources: Vec<String> = cx
        .read("t.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["source"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sources, ["ds/data/train-00000-of-00002.parquet#1", "ds/data/train-00001-of-00002.parquet#1"]);

    let all = cx.srl(&["steps", "t.jsonl", "-o", "all.jsonl"]);
    assert!(all.stdout.starts_with("built 17 step instances from 2 trajectories"), "{}", all.stdout);
    let kept = cx.srl(&["steps", "t.jsonl", "-o", "kept.jsonl", "--only-resolved"]);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert!(kept.stdout.starts_with("built 12 step instances from 1 trajectories"), "{}", kept.stdout);
    assert!(kept.stdout.trim().ends_with(", 1 trajectories dropped as not resolved"), "{}", kept.stdout);
}

#[test]
fn broken_parquet_files_are_problems_not_panics() {
    let cx = TestContext::new();
    parquet_file::write(&cx.path("good.parquet"), NEBIUS, &nebius_rows(), Compression::SNAPPY, 1);
    let bytes = std::fs::read(cx.path("good.parquet")).unwrap();
    cx.write("truncated.parquet", &bytes[..bytes.len() / 2]);
    cx.write("text.parquet", "instance_id,trajectory\n");
    let mut corrupt = bytes.clone();
    for b in corrupt.iter_mut().skip(4).take(bytes.len() / 3) {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    cx.write("corrupt.parquet", corrupt);
    let run =
        cx.srl(&["import", "truncated.parquet", "text.parquet", "corrupt.parquet", "good.parquet", "-o", "t.jsonl"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 3, "{}", run.stderr);
    assert!(errors[0].starts_with("error: truncated.parquet: not a readable parquet file"), "{}", errors[0]);
    assert!(errors[1].starts_with("error: text.parquet: not a readable parquet file"), "{}", errors[1]);
    assert!(errors[2].starts_with("error: corrupt.parquet"), "{}", errors[2]);
    assert!(run.stdout.starts_with("imported 2 trajectories with 17 steps"), "{}", run.stdout);
}

#[test]
fn swe_bench_instances_load_from_parquet_like_from_json() {
    let cx = TestContext::new();
    let rel = "swe-agent/tests/test_data/data_sources/swe-bench-lite-test.json";
    let records = load(rel);
    // The Hugging Face set stores the test lists as JSON-encoded strings.
    let rows: Vec<Value> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut row = project(r.clone(), SWE_BENCH);
            for key in ["FAIL_TO_PASS", "PASS_TO_PASS"] {
                row[key] = Value::String(r[key].to_string());
            }
            row
        })
        .collect();
    std::fs::create_dir_all(cx.path("lite/data")).unwrap();
    parquet_file::write(&cx.path("lite/data/test-00000-of-00001.parquet"), SWE_BENCH, &rows, Compression::SNAPPY, 2);
    let expected = srl::task::instance::load_instances(&fixtures().join(rel)).unwrap();
    let file = srl::task::instance::load_instances(&cx.path("lite/data/test-00000-of-00001.parquet")).unwrap();
    let folder = srl::task::instance::load_instances(&cx.path("lite")).unwrap();
    assert_eq!(expected.len(), 5);
    assert_eq!(file, expected);
    assert_eq!(folder, expected);

    let mut bad = rows.clone();
    bad[3]["FAIL_TO_PASS"] = json!("not a list");
    parquet_file::write(&cx.path("bad.parquet"), SWE_BENCH, &bad, Compression::SNAPPY, 2);
    let err = srl::task::instance::load_instances(&cx.path("bad.parquet")).unwrap_err().to_string();
    assert!(err.contains("bad.parquet: record 4 ("), "{err}");
    assert!(err.contains("field `FAIL_TO_PASS`"), "{err}");
}

/// The parquet reader panics on some corrupt files (an `unwrap` in its footer decoding, found
/// by mutating files like this); every mutation must end as problems or trajectories.
#[test]
fn mutated_parquet_never_panics() {
    use srl::trajectory::read::{import_paths, ImportOptions};
    let cx = TestContext::new();
    let rows = swe_smith_rows(SWE_SMITH);
    parquet_file::write(&cx.path("good.parquet"), SWE_SMITH, &rows, Compression::ZSTD(ZstdLevel::default()), 1);
    let good = std::fs::read(cx.path("good.parquet")).unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let options = ImportOptions { format: None, strict: false };
    for round in 0..200 {
        let mut bytes = good.clone();
        for _ in 0..1 + next() % 16 {
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
        }
        let path = cx.write("mutated.parquet", &bytes);
        let result = std::panic::catch_unwind(|| import_paths(std::slice::from_ref(&path), &options, &mut |_| Ok(())));
        assert!(result.is_ok(), "round {round} panicked");
    }
}
