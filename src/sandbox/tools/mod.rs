//! The agent tool layer: runs one [`Action`] in a sandbox and answers with the observation
//! text the agent's own scaffold would have shown.
//!
//! Tools: `bash` (a command in the sandbox), `str_replace_editor` (`editor.rs`, on the host),
//! `submit` / `finish` (the work tree's diff), `think` (OpenHands: nothing happens), and, when
//! [`ToolBox::legacy_commands`] is set, SWE-agent 0.x's special commands arriving as `bash`
//! commands (`windowed.rs`, `search.rs`). File tools work on the host through the
//! [`WorkTree`], never outside it: a path that leaves the repository, directly or through a
//! symbolic link, is answered with an observation and nothing is touched.
//!
//! Mistakes of the agent (unknown tool, missing parameter, bad path, `old_str` not found) are
//! observations, as they were for the expert; `Err` means the harness itself failed. Not done
//! here: prompt templates around observations (`OBSERVATION:`, 0.x's `(Open file: …)` suffix),
//! SWE-smith's review-on-submit checklist, and OpenHands' `[Command finished with exit code N]`
//! footer — those belong to whoever renders the conversation.

mod editor;
mod pattern;
mod search;
mod windowed;
mod words;

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use windowed::WindowState;

use crate::action::{canonical_tool_name, Action};
use crate::sandbox::{ExecLimits, Observation, Sandbox, WorkTree};

/// SWE-agent's text for a command that printed nothing.
pub const NO_OUTPUT: &str = "Your command ran successfully and did not produce any output.";

/// The tools [`run_action`] knows (0.x special commands come through `bash`).
pub const TOOLS: [&str; 5] = ["bash", "str_replace_editor", "submit", "finish", "think"];

/// Per-sandbox tool state.
#[derive(Debug, Default, Clone)]
pub struct ToolBox {
    /// Treat `bash` commands starting with a SWE-agent 0.x special command (`open`, `edit`,
    /// `search_dir`, …) as that command.
    pub legacy_commands: bool,
    history: editor::History,
    window: WindowState,
}

impl ToolBox {
    pub fn new(legacy_commands: bool) -> ToolBox {
        ToolBox { legacy_commands, ..ToolBox::default() }
    }

    /// The file open in the 0.x viewer, for the `(Open file: …)` prompt suffix.
    pub fn open_file(&self) -> Option<&str> {
        self.window.file.as_deref()
    }

    /// The 0.x viewer state, e.g. to set it to an expert's state before a rollout.
    pub fn window(&self) -> &WindowState {
        &self.window
    }

    pub fn window_mut(&mut self) -> &mut WindowState {
        &mut self.window
    }

    /// Drops the editor's undo history (after the work tree was restored to a snapshot).
    pub fn forget_edits(&mut self) {
        self.history.clear();
    }
}

/// What one action produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The text shown to the agent.
    pub observation: String,
    /// The command's exit status; host-side tools give 0, or 1 when they refused the request;
    /// `None` when a command was killed or no tool ran.
    pub exit_code: Option<i64>,
    /// The work tree's diff, set by `submit` and `finish`.
    pub submitted: Option<String>,
    /// The raw result when a command ran in the sandbox.
    pub exec: Option<Observation>,
}

impl ToolOutput {
    fn text(observation: impl Into<String>, exit_code: Option<i64>) -> ToolOutput {
        ToolOutput { observation: observation.into(), exit_code, submitted: None, exec: None }
    }
}

/// Runs `action` with the tools and returns what the agent sees.
pub async fn run_action<S: Sandbox>(
    sandbox: &mut S,
    tools: &mut ToolBox,
    action: &Action,
    limits: &ExecLimits,
) -> Result<ToolOutput> {
    match canonical_tool_name(&action.tool) {
        "bash" => bash(sandbox, tools, action, limits).await,
        "str_replace_editor" => {
            let reply = editor::run(sandbox.work_tree(), &mut tools.history, action)?;
            Ok(ToolOutput::text(reply.text.trim_end(), Some(if reply.ok { 0 } else { 1 })))
        }
        "submit" | "finish" => submit(sandbox.work_tree()),
        "think" => Ok(ToolOutput::text("Your thought has been logged.", Some(0))),
        other => Ok(ToolOutput::text(
            format!("Tool `{other}` is not available in this environment. Available tools: {}.", TOOLS.join(", ")),
            None,
        )),
    }
}

async fn bash<S: Sandbox>(
    sandbox: &mut S,
    tools: &mut ToolBox,
    action: &Action,
    limits: &ExecLimits,
) -> Result<ToolOutput> {
    let Some(command) = action.get("command") else {
        return Ok(ToolOutput::text("Parameter `command` is required for the bash tool.", Some(1)));
    };
    if tools.legacy_commands && windowed::command_name(command).is_some() {
        return match windowed::run(sandbox.work_tree(), &mut tools.window, command)? {
            windowed::Legacy::Text(text) => Ok(ToolOutput::text(text, Some(0))),
            windowed::Legacy::Submit => submit(sandbox.work_tree()),
        };
    }
    let exec = sandbox.exec(command, limits).await?;
    let mut observation = exec.agent_text();
    if observation.trim().is_empty() {
        observation = NO_OUTPUT.to_string();
    }
    Ok(ToolOutput { observation, exit_code: exec.exit_code, submitted: None, exec: Some(exec) })
}

fn submit(tree: &WorkTree) -> Result<ToolOutput> {
    let diff = tree.diff().context("cannot compute the work tree's diff for the submission")?;
    Ok(ToolOutput { observation: diff.clone(), exit_code: Some(0), submitted: Some(diff), exec: None })
}

/// Where an agent's path leads.
enum Resolved {
    /// Inside the work tree: its host path (which may not exist yet).
    Inside(PathBuf),
    /// Outside (or through a broken link): the observation saying so.
    Refused(String),
}

/// Maps an agent path (absolute under the mount path, or relative to the repository root)
/// to the host, refusing escapes. Beyond `WorkTree::host_path`, a broken symbolic link on the
/// way is refused too: a write through it could create a file anywhere on the host.
fn resolve(tree: &WorkTree, path: &str) -> Result<Resolved> {
    let root = tree.host_dir().canonicalize().context("the work tree's directory is gone")?;
    let refused = || Resolved::Refused(format!("The path {path} is outside the repository {}.", tree.mount_path()));
    let Ok(host) = tree.host_path(path) else { return Ok(refused()) };
    let mut prefix = root.clone();
    for component in host.strip_prefix(&root).unwrap_or(Path::new("")).components() {
        prefix.push(component);
        if fs::symlink_metadata(&prefix).is_ok_and(|m| m.file_type().is_symlink())
            && !fs::canonicalize(&prefix).is_ok_and(|target| target.starts_with(&root))
        {
            return Ok(refused());
        }
    }
    Ok(Resolved::Inside(host))
}

/// The agent-visible path of a host path inside the work tree (`/testbed/src/x.py`).
fn agent_path(tree: &WorkTree, host: &Path) -> String {
    let roots = [tree.host_dir().canonicalize().ok(), Some(tree.host_dir())];
    for root in roots.iter().flatten() {
        if let Ok(rel) = host.strip_prefix(root) {
            let rel = rel.to_string_lossy();
            return if rel.is_empty() { tree.mount_path().to_string() } else { format!("{}/{rel}", tree.mount_path()) };
        }
    }
    tree.sandbox_path(host)
}

/// Lines as `grep -n`, `awk` and bash's `mapfile` see them: the last line need not end with a
/// newline, and an empty file has none.
fn file_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    text.strip_suffix('\n').unwrap_or(text).split('\n').collect()
}

/// A file's text and how to write it back in the same encoding.
struct FileText {
    text: String,
    bytes: Vec<u8>,
    /// Not UTF-8: read as Latin-1 (one char per byte), like SWE-agent's editor fallback, so
    /// writing back leaves every untouched byte as it was.
    latin1: bool,
}

impl FileText {
    fn encode(&self, text: &str) -> Option<Vec<u8>> {
        if !self.latin1 {
            return Some(text.as_bytes().to_vec());
        }
        text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
    }
}

/// Reads a file for a tool; the agent-facing message when it cannot be read.
fn read_text(tree: &WorkTree, host: &Path) -> Result<FileText, String> {
    let bytes = fs::read(host).map_err(|e| format!("Ran into {e} while trying to read {}", agent_path(tree, host)))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(FileText { bytes: text.as_bytes().to_vec(), text, latin1: false }),
        Err(e) => {
            let bytes = e.into_bytes();
            Ok(FileText { text: bytes.iter().map(|&b| char::from(b)).collect(), bytes, latin1: true })
        }
    }
}

/// Writes a file for a tool (`arg` is the agent's path, already resolved to `host`); the
/// agent-facing message when it cannot be written.
fn write_text(tree: &WorkTree, arg: &str, host: &Path, bytes: &[u8]) -> Result<Result<(), String>> {
    let failed = |e: &dyn std::fmt::Display| Ok(Err(format!("Ran into {e} while trying to write to {arg}")));
    match std::str::from_utf8(bytes) {
        // The work tree's own writer keeps file ownership right for the sandbox user.
        Ok(text) => match tree.write_file(arg, text) {
            Ok(()) => Ok(Ok(())),
            Err(e) => failed(&format!("{e:#}")),
        },
        Err(_) => {
            // Not following a final link closes the gap between `resolve` and the write.
            let file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(host);
            match file.and_then(|mut f| f.write_all(bytes)) {
                Ok(()) => tree.fix_ownership().map(Ok),
                Err(e) => failed(&e),
            }
        }
    }
}
