//! The tasks this project ships, one directory each (format in `tasks/README.md`): reading a
//! task directory into its parts, with errors that name the task and the file.
//!
//! What a directory holds is written by hand; what is derived from running it (the instance
//! with FAIL_TO_PASS / PASS_TO_PASS, the recorded expert trajectory) is written next to it by
//! `srl tasks build` as `instance.json` and `trajectory.jsonl`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::action::{parse_completion_action, Action};

/// `task.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskMeta {
    pub instance_id: String,
    pub repo: String,
    pub version: String,
    pub created_at: String,
    pub test_command: String,
    pub kind: String,
}

/// One expert step as written in `expert.jsonl`.
#[derive(Debug, Clone)]
pub struct ExpertStep {
    pub thought: String,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub struct TaskDir {
    pub path: PathBuf,
    pub meta: TaskMeta,
    pub problem_statement: String,
    pub gold_patch: String,
    pub test_patch: String,
    pub expert: Vec<ExpertStep>,
}

impl TaskDir {
    pub fn name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    pub fn repo_dir(&self) -> PathBuf {
        self.path.join("repo")
    }

    pub fn instance_path(&self) -> PathBuf {
        self.path.join("instance.json")
    }

    pub fn trajectory_path(&self) -> PathBuf {
        self.path.join("trajectory.jsonl")
    }
}

/// Every task directory under `root` (those holding a `task.json`), sorted by name.
pub fn task_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in fs::read_dir(root).with_context(|| format!("cannot list the task directory {}", root.display()))? {
        let path = entry?.path();
        if path.join("task.json").is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn read(dir: &Path, name: &str) -> Result<String> {
    let path = dir.join(name);
    fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn load_task(dir: &Path) -> Result<TaskDir> {
    let meta: TaskMeta = serde_json::from_str(&read(dir, "task.json")?)
        .with_context(|| format!("{}: invalid task.json", dir.join("task.json").display()))?;
    if !dir.join("repo").is_dir() {
        bail!("{}: no repo/ directory", dir.display());
    }
    let expert_text = read(dir, "expert.jsonl")?;
    let mut expert = Vec::new();
    for (n, line) in expert_text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let where_ = || format!("{}: line {}", dir.join("expert.jsonl").display(), n + 1);
        let value: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}: invalid JSON", where_()))?;
        let thought = value.get("thought").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let Some(action_text) = value.get("action").and_then(|v| v.as_str()) else {
            bail!("{}: missing string field `action`", where_());
        };
        let action = parse_completion_action(action_text).map_err(|e| anyhow::anyhow!("{}: {e}", where_()))?;
        expert.push(ExpertStep { thought, action });
    }
    Ok(TaskDir {
        path: dir.to_path_buf(),
        meta,
        problem_statement: read(dir, "problem_statement.md")?.trim().to_string(),
        gold_patch: read(dir, "gold.patch")?,
        test_patch: read(dir, "test.patch")?,
        expert,
    })
}
