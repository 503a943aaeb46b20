//! Shared helpers for the CLI tests: a temporary working directory, running the real `srl`
//! binary in it, and redaction of the parts of its output that change between runs.

#![allow(dead_code)]

pub mod browser;
pub mod hostile;
pub mod parquet_file;
pub mod second_engine;
pub mod tiny;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct TestContext {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TestContext {
    pub fn new() -> TestContext {
        TestContext { dir: tempfile::tempdir().expect("temporary directory") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("read output file")
    }

    /// Runs `srl ARGS` in the temporary directory.
    pub fn srl(&self, args: &[&str]) -> Run {
        self.srl_with_env(args, &[])
    }

    /// Runs `srl ARGS` in the temporary directory with `env` set.
    pub fn srl_with_env(&self, args: &[&str], env: &[(&str, &Path)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_srl"));
        command.args(args).current_dir(self.dir.path()).env_remove("SRL_LOG");
        for (key, value) in env {
            command.env(key, value);
        }
        let out = command.output().expect("run srl");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: self.redact(&String::from_utf8_lossy(&out.stdout)),
            stderr: self.redact(&String::from_utf8_lossy(&out.stderr)),
        }
    }

    fn redact(&self, text: &str) -> String {
        let text = text.replace(&self.dir.path().display().to_string(), "[TMP]");
        text.replace(&fixtures().display().to_string(), "[FIXTURES]")
    }
}

/// The real agent data shared beside the checkout (`../shared/fixtures/real`), or `SRL_FIXTURES`.
pub fn fixtures() -> PathBuf {
    let path = std::env::var_os("SRL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real"));
    assert!(
        path.is_dir(),
        "fixtures not found at {}: check out shared/ beside the repository or set SRL_FIXTURES",
        path.display()
    );
    path.canonicalize().expect("canonical fixture path")
}

/// The shipped tasks (`tasks/<name>/instance.json`, `repo/`, `trajectory.jsonl`).
pub fn tasks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks")
}

/// The sample trajectories shipped in `tasks/samples`.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/samples")
}
