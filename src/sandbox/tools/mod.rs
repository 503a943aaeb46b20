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
    /// The shell's working directory carries over between `bash` commands (`cd` persists), as
    /// in SWE-agent's and OpenHands' long-lived shells; off, every command starts in the
    /// repository, as in mini-swe-agent (a fresh `bash -c` each time).
    persistent_dir: bool,
    /// Where the next command starts when `persistent_dir` is on (`None`: the repository).
    shell_dir: Option<String>,
}

/// Whether a trajectory format's scaffold keeps one shell for the whole episode, so that a
/// `cd` holds for the commands after it: SWE-agent (0.x and 1.x, hence SWE-smith's
/// trajectories) and OpenHands do; mini-swe-agent runs every command in a fresh subprocess.
/// Environment variables are not carried over in either case (each command is its own process;
/// `export` in one step is not seen by the next).
pub fn shell_dir_persists(source_format: &str) -> bool {
    matches!(source_format, "swe-agent" | "swe-smith" | "openhands")
}

/// Printed by the shell after a command when the directory persists: marker, then `$PWD`.
const DIR_MARKER: &str = "\u{1f}srl-shell-dir\u{1f}";

impl ToolBox {
    pub fn new(legacy_commands: bool) -> ToolBox {
        ToolBox { legacy_commands, ..ToolBox::default() }
    }

    /// The tools of a trajectory in `source_format`: its scaffold's special commands and
    /// whether its shell keeps the working directory.
    pub fn for_format(source_format: &str) -> ToolBox {
        ToolBox { persistent_dir: shell_dir_persists(source_format), ..ToolBox::new(source_format == "swe-agent") }
    }

    /// Where the next `bash` command starts, when the directory persists and a `cd` moved it.
    pub fn shell_dir(&self) -> Option<&str> {
        self.shell_dir.as_deref()
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
    let exec = if tools.persistent_dir {
        let start = tools.shell_dir.clone().unwrap_or_else(|| sandbox.repo_dir().to_string());
        let mut exec = sandbox.exec(&with_dir_report(&start, command), limits).await?;
        if let Some((output, dir)) = split_dir_report(&exec.output) {
            tools.shell_dir = Some(dir);
            exec.output = output;
        }
        exec
    } else {
        sandbox.exec(command, limits).await?
    };
    let mut observation = exec.agent_text();
    if observation.trim().is_empty() {
        observation = NO_OUTPUT.to_string();
    }
    Ok(ToolOutput { observation, exit_code: exec.exit_code, submitted: None, exec: Some(exec) })
}

/// `command` started in `dir`, reporting the shell's directory when it ends (the `EXIT` trap
/// fires after `exit` too). Everything goes on the command's first line, so the line numbers
/// in bash's error messages stay the command's own.
fn with_dir_report(dir: &str, command: &str) -> String {
    let quoted = format!("'{}'", dir.replace('\'', "'\\''"));
    format!("cd {quoted} 2>/dev/null; trap 'printf \"\\n%s%s\\n\" \"{DIR_MARKER}\" \"$PWD\"' EXIT; {command}")
}

/// The output without the directory report, and the directory; `None` when the report is
/// missing (the command was killed, or closed its output).
fn split_dir_report(output: &str) -> Option<(String, String)> {
    let at = output.rfind(DIR_MARKER)?;
    let dir = output[at + DIR_MARKER.len()..].strip_suffix('\n')?;
    if dir.contains('\n') {
        return None;
    }
    let before = &output[..at];
    // The report starts on a line of its own; the newline it added goes with it.
    let before = before.strip_suffix('\n').unwrap_or(before);
    Some((before.to_string(), dir.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_report_is_cut_from_the_output() {
        let report = |dir: &str| format!("\n{DIR_MARKER}{dir}\n");
        let cases = [
            (format!("out\n{}", report("/testbed/src")), "out\n"),
            (format!("no newline{}", report("/tmp")), "no newline"),
            (report("/testbed"), ""),
        ];
        for (output, kept) in cases {
            let (text, _) = split_dir_report(&output).unwrap();
            assert_eq!(text, kept);
        }
        assert_eq!(split_dir_report(&report("/a b")).unwrap().1, "/a b");
        assert!(split_dir_report("killed before the trap ran").is_none());
        assert!(split_dir_report(&format!("{DIR_MARKER}/x")).is_none(), "a report cut short is no report");
    }

    #[test]
    fn the_wrapped_command_runs_in_the_directory_and_reports_where_it_ended() {
        let dir = tempfile::tempdir().unwrap();
        let start = dir.path().join("it's here");
        std::fs::create_dir_all(start.join("sub")).unwrap();
        let command = with_dir_report(start.to_str().unwrap(), "ls; cd sub && echo moved; exit 3");
        let out = std::process::Command::new("bash").args(["-c", &command]).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "the command's own status");
        let (text, ended) = split_dir_report(&String::from_utf8_lossy(&out.stdout)).unwrap();
        assert_eq!(text, "sub\nmoved\n");
        assert_eq!(ended, start.join("sub").to_str().unwrap());
        let error = std::process::Command::new("bash").args(["-c", &with_dir_report("/", "nosuchcommand")]).output();
        let stderr = String::from_utf8_lossy(&error.unwrap().stderr).into_owned();
        assert!(stderr.contains("line 1: nosuchcommand"), "line numbers stay the command's: {stderr}");
        assert!(
            shell_dir_persists("swe-agent") && shell_dir_persists("openhands") && !shell_dir_persists("mini-swe-agent")
        );
    }
}
