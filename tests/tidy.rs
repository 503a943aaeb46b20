//! House rules that a reviewer should not have to check by hand: every source file starts
//! with a module doc, no placeholders or ignored tests, files stay under the size cap, and
//! modules import only the stages below them (ARCHITECTURE.md lists the allowed edges).

use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 650;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples"] {
        if root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    files.sort();
    files.into_iter().map(|p| (p.strip_prefix(root).unwrap().to_path_buf(), fs::read_to_string(&p).unwrap())).collect()
}

#[test]
fn every_file_starts_with_a_module_doc() {
    let missing: Vec<String> = sources()
        .iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! module doc: {missing:?}");
}

#[test]
fn no_placeholders_or_ignored_tests() {
    let patterns = [
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("#[", "ignore"),
        concat!("should", "_panic"),
        concat!("Place", "holder"),
    ];
    let mut found = Vec::new();
    for (path, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            if patterns.iter().any(|p| line.contains(p)) {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn files_stay_small() {
    let big: Vec<String> = sources()
        .iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(p, text)| format!("{} ({} lines)", p.display(), text.lines().count()))
        .collect();
    assert!(big.is_empty(), "files over {MAX_LINES} lines, split them by concern: {big:?}");
}

/// `module → stages it may use`; `cli` may use everything and nothing may use `cli`.
const ALLOWED: [(&str, &[&str]); 11] = [
    ("action", &[]),
    ("trajectory", &["action", "jsonl"]),
    ("steps", &["trajectory", "action"]),
    ("reward", &["action"]),
    ("sandbox", &["action"]),
    ("task", &["sandbox", "trajectory", "action", "reward", "jsonl", "atomic"]),
    ("policy", &["steps", "atomic"]),
    ("train", &["policy", "reward", "steps", "sandbox", "action", "task", "atomic", "agent"]),
    ("agent", &["action", "trajectory", "steps", "reward", "sandbox", "task", "policy", "atomic", "jsonl"]),
    ("jsonl", &[]),
    ("view", &["trajectory", "action"]),
];

#[test]
fn modules_import_only_lower_stages() {
    let mut violations = Vec::new();
    for (path, text) in sources() {
        let parts: Vec<String> = path.iter().map(|c| c.to_string_lossy().into_owned()).collect();
        if parts[0] != "src" || parts.len() < 2 {
            continue;
        }
        let module = parts[1].trim_end_matches(".rs");
        let Some((_, allowed)) = ALLOWED.iter().find(|(m, _)| *m == module) else { continue };
        for (n, line) in text.lines().enumerate() {
            for used in line.split("crate::").skip(1) {
                let target: String = used.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if target != module && !allowed.contains(&target.as_str()) {
                    violations.push(format!("{}:{}: {module} uses {target}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
