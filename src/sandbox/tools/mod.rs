//! The agent tool layer: runs one [`Action`] in a sandbox and answers with the observation
//! text the agent's own scaffold would have shown.
//!
//! Tools: `bash` (a command in the sandbox), `str_replace_editor` (`editor.rs`), `submit` /
//! `finish` (the repository's diff), `think` (OpenHands: nothing happens), and, when
//! [`ToolBox::legacy_commands`] is set, SWE-agent 0.x's special commands arriving as `bash`
//! commands (`windowed.rs`, `search.rs`). The tools' logic runs here, in the harness; they
//! reach the sandbox's repository only through the [`Sandbox`] trait's file operations, so one
//! implementation serves every backend. A path that leaves the repository, directly or through
//! a symbolic link, is answered with an observation and nothing is touched.
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

use anyhow::{Context, Result};

pub use windowed::WindowState;

use crate::action::{canonical_tool_name, Action};
use crate::sandbox::files::{self, Kind, Probe, RepoPath};
use crate::sandbox::{ExecLimits, Observation, Sandbox};

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
            let reply = editor::run(sandbox, &mut tools.history, action).await?;
            Ok(ToolOutput::text(reply.text.trim_end(), Some(if reply.ok { 0 } else { 1 })))
        }
        "submit" | "finish" => submit(sandbox).await,
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
        return match windowed::run(sandbox, &mut tools.window, command).await? {
            windowed::Legacy::Text(text) => Ok(ToolOutput::text(text, Some(0))),
            windowed::Legacy::Submit => submit(sandbox).await,
        };
    }
    let exec = sandbox.exec(command, limits).await?;
    let mut observation = exec.agent_text();
    if observation.trim().is_empty() {
        observation = NO_OUTPUT.to_string();
    }
    Ok(ToolOutput { observation, exit_code: exec.exit_code, submitted: None, exec: Some(exec) })
}

async fn submit<S: Sandbox>(sandbox: &mut S) -> Result<ToolOutput> {
    let diff = sandbox.diff().await.context("cannot compute the repository's diff for the submission")?;
    Ok(ToolOutput { observation: diff.clone(), exit_code: Some(0), submitted: Some(diff), exec: None })
}

/// Where an agent's path leads.
enum Resolved {
    /// Inside the repository (it may not exist yet).
    Inside(Found),
    /// Outside (or through a broken link): the observation saying so.
    Refused(String),
}

/// A path inside the repository and what is there.
struct Found {
    /// The repository path as the agent wrote it, normalised.
    path: RepoPath,
    kind: Kind,
    /// Where it leads once links are resolved, when it exists.
    canonical: Option<RepoPath>,
}

impl Found {
    fn exists(&self) -> bool {
        self.kind != Kind::Missing
    }

    fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    fn is_file(&self) -> bool {
        matches!(self.kind, Kind::File { .. })
    }

    /// The path whose bytes are read and written: the link's target for a link inside the
    /// repository, so a write replaces the file, not the link.
    fn data_path(&self) -> &str {
        self.canonical.as_deref().unwrap_or(&self.path)
    }

    /// The parent directory's repository path.
    fn parent(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(parent, _)| parent)
    }
}

/// Maps an agent path (absolute under the repository directory, or relative to its root) into
/// the repository, refusing escapes: a path that climbs out, or a symbolic link on the way that
/// leads out or dangles (a write through it could create a file anywhere).
async fn resolve<S: Sandbox>(sandbox: &mut S, path: &str) -> Result<Resolved> {
    let repo_dir = sandbox.repo_dir().to_string();
    let refused = || Resolved::Refused(format!("The path {path} is outside the repository {repo_dir}."));
    let Some(rel) = files::repo_path(&repo_dir, path) else { return Ok(refused()) };
    Ok(match sandbox.probe(&rel).await? {
        Probe::Escapes => refused(),
        Probe::Inside { kind, canonical } => Resolved::Inside(Found { path: rel, kind, canonical }),
    })
}

/// Whether the parent directory of `found` exists (and is a directory).
async fn parent_is_dir<S: Sandbox>(sandbox: &mut S, found: &Found) -> Result<bool> {
    let parent = found.parent().to_string();
    Ok(matches!(sandbox.probe(&parent).await?, Probe::Inside { kind: Kind::Dir, .. }))
}

/// The agent-visible path of a repository path (`/testbed/src/x.py`).
fn agent_path<S: Sandbox>(sandbox: &S, path: &str) -> String {
    files::agent_path(sandbox.repo_dir(), path)
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
async fn read_text<S: Sandbox>(sandbox: &mut S, found: &Found) -> Result<Result<FileText, String>> {
    let bytes = match sandbox.read(found.data_path()).await? {
        Ok(bytes) => bytes,
        Err(e) => return Ok(Err(format!("Ran into {e} while trying to read {}", agent_path(sandbox, &found.path)))),
    };
    Ok(Ok(match String::from_utf8(bytes) {
        Ok(text) => FileText { bytes: text.as_bytes().to_vec(), text, latin1: false },
        Err(e) => {
            let bytes = e.into_bytes();
            FileText { text: bytes.iter().map(|&b| char::from(b)).collect(), bytes, latin1: true }
        }
    }))
}

/// Writes a file for a tool (`arg` is the agent's path, already resolved to `found`); the
/// agent-facing message when it cannot be written.
async fn write_text<S: Sandbox>(sandbox: &mut S, arg: &str, found: &Found, bytes: &[u8]) -> Result<Result<(), String>> {
    Ok(sandbox
        .write(found.data_path(), bytes)
        .await?
        .map_err(|e| format!("Ran into {e} while trying to write to {arg}")))
}
