//! `str_replace_editor`, the file tool of SWE-agent 1.x, SWE-smith and OpenHands (Anthropic's
//! text-editor tool): `view`, `create`, `str_replace`, `insert`, `undo_edit`, done in the harness
//! on the sandbox's repository.
//!
//! Texts and line arithmetic are ported from SWE-agent's `tools/edit_anthropic` and checked
//! against real observations (SWE-smith `.traj` and `ft_xml_example.jsonl`, OpenHands
//! completions). Deliberate differences:
//! - tabs are expanded (`expandtabs()`) only in what is shown; SWE-agent also wrote the
//!   expanded text back, silently rewriting every tab of an edited file;
//! - the "multiple occurrences" message lists the line where each occurrence starts, so a
//!   multi-line `old_str` gets line numbers too (SWE-agent listed only lines containing it whole);
//! - paths outside the repository, or through a link leading out of it, are refused;
//! - no flake8 run after edits, no tree-sitter "filemap" of large Python files, no window
//!   expansion (those are off in SWE-agent's default configuration too).
//!
//! As in SWE-agent, `create` records the new text as its undo entry, so undoing a create
//! leaves the file as created.

use std::collections::HashMap;

use anyhow::Result;

use super::{parent_is_dir, read_text, resolve, write_text, Found, Resolved};
use crate::action::Action;
use crate::sandbox::files::{join, RepoPath};
use crate::sandbox::Sandbox;

/// Lines of context shown around an edit.
const SNIPPET_LINES: usize = 4;
/// Characters of file content shown before the rest is clipped.
const MAX_RESPONSE_LEN: usize = 16000;
const TRUNCATED_MESSAGE: &str = "<response clipped><NOTE>To save on context only part of this file has been shown to \
     you. You should retry this tool after you have searched inside the file with `grep -n` in order to find the line \
     numbers of what you are looking for.</NOTE>";

/// Previous contents per file, newest last, for `undo_edit`.
pub(super) type History = HashMap<RepoPath, Vec<Vec<u8>>>;

/// The editor's answer: its text and whether the command did what was asked.
pub(super) struct Reply {
    pub text: String,
    pub ok: bool,
}

fn ok(text: impl Into<String>) -> Result<Reply> {
    Ok(Reply { text: text.into(), ok: true })
}

fn fail(text: impl Into<String>) -> Result<Reply> {
    Ok(Reply { text: text.into(), ok: false })
}

/// The file an editor command works on, once its path has been checked.
struct Target<'a> {
    /// The path as the agent wrote it and as SWE-agent prints it.
    arg: &'a str,
    shown: String,
    found: Found,
}

/// Runs one `str_replace_editor` call.
pub(super) async fn run<S: Sandbox>(sandbox: &mut S, history: &mut History, action: &Action) -> Result<Reply> {
    let Some(command) = action.get("command") else {
        return fail("Parameter `command` is required for the str_replace_editor tool.");
    };
    let Some(arg) = action.get("path") else {
        return fail(format!("Parameter `path` is required for command: {command}"));
    };
    let shown = display_path(arg);
    if !arg.starts_with('/') {
        let suggested = display_path(&format!("{}/{arg}", sandbox.repo_dir()));
        return fail(format!(
            "The path {shown} is not an absolute path, it should start with `/`. Maybe you meant {suggested}?"
        ));
    }
    let found = match resolve(sandbox, arg).await? {
        Resolved::Inside(found) => found,
        Resolved::Refused(message) => return fail(message),
    };
    let exists = found.exists();
    if !exists && command != "create" {
        return fail(format!("The path {shown} does not exist. Please provide a valid path."));
    }
    if exists && command == "create" {
        return fail(format!("File already exists at: {shown}. Cannot overwrite files using command `create`."));
    }
    if found.is_dir() && command != "view" {
        return fail(format!("The path {shown} is a directory and only the `view` command can be used on directories"));
    }
    let target = Target { arg, shown, found };
    match command {
        "view" => view(sandbox, &target, action.get("view_range")).await,
        "create" => create(sandbox, &target, history, action.get("file_text")).await,
        "str_replace" => str_replace(sandbox, &target, history, action.get("old_str"), action.get("new_str")).await,
        "insert" => insert(sandbox, &target, history, action.get("insert_line"), action.get("new_str")).await,
        "undo_edit" => undo_edit(sandbox, &target, history).await,
        other => fail(format!(
            "Unrecognized command {other}. The allowed commands for the str_replace_editor tool are: \"view\", \
             \"create\", \"str_replace\", \"insert\", \"undo_edit\""
        )),
    }
}

/// How Python's `str(Path(p))` prints a path: repeated slashes and `.` parts dropped, no
/// trailing slash.
fn display_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    match (path.starts_with('/'), parts.is_empty()) {
        (true, _) => format!("/{}", parts.join("/")),
        (false, true) => ".".to_string(),
        (false, false) => parts.join("/"),
    }
}

async fn view<S: Sandbox>(sandbox: &mut S, target: &Target<'_>, view_range: Option<&str>) -> Result<Reply> {
    let range = match view_range.map(parse_view_range) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(range))) => Some(range),
        Some(Err(())) => return fail("Invalid `view_range`. It should be a list of two integers."),
    };
    if target.found.is_dir() {
        if range.is_some() {
            return fail("The `view_range` parameter is not allowed when `path` points to a directory.");
        }
        let listing = listing(sandbox, target).await?;
        return ok(format!(
            "Here's the files and directories up to 2 levels deep in {}, excluding hidden items:\n{listing}\n",
            target.shown
        ));
    }
    let text = match read_text(sandbox, &target.found).await? {
        Ok(file) => file.text,
        Err(message) => return fail(message),
    };
    let Some((first, last)) = range else { return ok(cat_n(&text, &target.shown, 1)) };
    let lines: Vec<&str> = text.split('\n').collect();
    let n = lines.len() as i64;
    let shown_range = format!("[{first}, {last}]");
    if first < 1 || first > n {
        return fail(format!(
            "Invalid `view_range`: {shown_range}. Its first element `{first}` should be within the range of lines \
             of the file: [1, {n}]"
        ));
    }
    if last > n {
        return fail(format!(
            "Invalid `view_range`: {shown_range}. Its second element `{last}` should be smaller than the number of \
             lines in the file: `{n}`"
        ));
    }
    if last != -1 && last < first {
        return fail(format!(
            "Invalid `view_range`: {shown_range}. Its second element `{last}` should be larger or equal than its \
             first `{first}`"
        ));
    }
    let last = if last == -1 { n } else { last };
    ok(cat_n(&lines[first as usize - 1..last as usize].join("\n"), &target.shown, first as usize))
}

/// `view_range` as the compact JSON text of a list (`[1,40]`, `[10, -1]`); `Ok(None)` for an
/// empty list, which SWE-agent treats as no range.
fn parse_view_range(text: &str) -> Result<Option<(i64, i64)>, ()> {
    let parsed = serde_json::from_str::<Vec<serde_json::Value>>(text)
        .or_else(|_| serde_json::from_str::<Vec<serde_json::Value>>(&format!("[{text}]")))
        .map_err(|_| ())?;
    let numbers: Option<Vec<i64>> = parsed.iter().map(serde_json::Value::as_i64).collect();
    match numbers.as_deref() {
        Some([]) => Ok(None),
        Some([first, last]) => Ok(Some((*first, *last))),
        _ => Err(()),
    }
}

/// `find PATH -maxdepth 2 -not -path '*/.*'`, entries sorted by name, links not followed.
async fn listing<S: Sandbox>(sandbox: &mut S, target: &Target<'_>) -> Result<String> {
    let dir = target.found.data_path().to_string();
    let mut paths = vec![target.shown.clone()];
    for (name, is_dir) in sandbox.list(&dir).await? {
        let child = format!("{}/{name}", target.shown);
        paths.push(child.clone());
        if is_dir {
            let grandchildren = sandbox.list(&join(&dir, &name)).await?;
            paths.extend(grandchildren.into_iter().map(|(inner, _)| format!("{child}/{inner}")));
        }
    }
    let kept: Vec<String> = paths.into_iter().filter(|p| !p.contains("/.")).collect();
    Ok(kept.iter().map(|p| format!("{p}\n")).collect())
}

async fn create<S: Sandbox>(
    sandbox: &mut S,
    target: &Target<'_>,
    history: &mut History,
    file_text: Option<&str>,
) -> Result<Reply> {
    let Some(file_text) = file_text else { return fail("Parameter `file_text` is required for command: create") };
    if !parent_is_dir(sandbox, &target.found).await? {
        let parent = target.shown.rsplit_once('/').map(|(p, _)| if p.is_empty() { "/" } else { p }).unwrap_or(".");
        return fail(format!("The parent directory {parent} does not exist. Please create it first."));
    }
    if let Err(message) = write_text(sandbox, target.arg, &target.found, file_text.as_bytes()).await? {
        return fail(message);
    }
    history.entry(target.found.path.clone()).or_default().push(file_text.as_bytes().to_vec());
    ok(format!("File created successfully at: {}", target.shown))
}

async fn str_replace<S: Sandbox>(
    sandbox: &mut S,
    target: &Target<'_>,
    history: &mut History,
    old: Option<&str>,
    new: Option<&str>,
) -> Result<Reply> {
    let Some(old) = old else { return fail("Parameter `old_str` is required for command: str_replace") };
    let new = new.unwrap_or("");
    let file = match read_text(sandbox, &target.found).await? {
        Ok(file) => file,
        Err(message) => return fail(message),
    };
    let text = &file.text;
    let starts: Vec<usize> =
        if old.is_empty() { Vec::new() } else { text.match_indices(old).map(|(i, _)| i).collect() };
    let shown = &target.shown;
    match starts.len() {
        0 => return fail(format!("No replacement was performed, old_str `{old}` did not appear verbatim in {shown}.")),
        1 => {}
        _ => {
            let mut lines: Vec<usize> = starts.iter().map(|&i| text[..i].matches('\n').count() + 1).collect();
            lines.dedup();
            return fail(format!(
                "No replacement was performed. Multiple occurrences of old_str `{old}` in lines {lines:?}. Please \
                 ensure it is unique"
            ));
        }
    }
    if new == old {
        return fail(format!("No replacement was performed, old_str `{old}` is the same as new_str `{new}`."));
    }
    let new_text = text.replacen(old, new, 1);
    if let Some(message) = save(sandbox, target, history, &file, &new_text).await? {
        return fail(message);
    }
    // SWE-agent's snippet: from 4 lines above the edited line's 0-based index (so 5 lines of
    // context above) to 4 lines below the replacement, numbered from 1.
    let replacement_line = text[..starts[0]].matches('\n').count();
    let first = replacement_line.saturating_sub(SNIPPET_LINES).max(1);
    let last = (replacement_line + SNIPPET_LINES + new.matches('\n').count()).min(count_splitlines(&new_text));
    let lines: Vec<&str> = new_text.split('\n').collect();
    let snippet = lines.get(first - 1..last.min(lines.len())).map(|s| s.join("\n")).unwrap_or_default();
    ok(format!(
        "The file {shown} has been edited. {}Review the changes and make sure they are as expected. Edit the file \
         again if necessary.",
        cat_n(&snippet, &format!("a snippet of {shown}"), first)
    ))
}

async fn insert<S: Sandbox>(
    sandbox: &mut S,
    target: &Target<'_>,
    history: &mut History,
    line: Option<&str>,
    new: Option<&str>,
) -> Result<Reply> {
    let Some(line) = line else { return fail("Parameter `insert_line` is required for command: insert") };
    let Ok(at) = line.trim().parse::<i64>() else {
        return fail(format!("Invalid `insert_line` parameter: {line}. It should be an integer."));
    };
    let Some(new) = new else { return fail("Parameter `new_str` is required for command: insert") };
    let file = match read_text(sandbox, &target.found).await? {
        Ok(file) => file,
        Err(message) => return fail(message),
    };
    let lines: Vec<&str> = file.text.split('\n').collect();
    let n = lines.len();
    if at < 0 || at as usize > n {
        return fail(format!(
            "Invalid `insert_line` parameter: {at}. It should be within the range of lines of the file: [0, {n}]"
        ));
    }
    let at = at as usize;
    let new_lines: Vec<&str> = new.split('\n').collect();
    let joined = |parts: [&[&str]; 3]| parts.concat().join("\n");
    let new_text = joined([&lines[..at], &new_lines, &lines[at..]]);
    let context_start = at.saturating_sub(SNIPPET_LINES);
    let snippet = joined([&lines[context_start..at], &new_lines, &lines[at..(at + SNIPPET_LINES).min(n)]]);
    if let Some(message) = save(sandbox, target, history, &file, &new_text).await? {
        return fail(message);
    }
    ok(format!(
        "The file {} has been edited. {}Review the changes and make sure they are as expected (correct indentation, \
         no duplicate lines, etc). Edit the file again if necessary.",
        target.shown,
        cat_n(&snippet, "a snippet of the edited file", context_start + 1)
    ))
}

async fn undo_edit<S: Sandbox>(sandbox: &mut S, target: &Target<'_>, history: &mut History) -> Result<Reply> {
    let Some(previous) = history.get_mut(&target.found.path).and_then(Vec::pop) else {
        return fail(format!("No edit history found for {}.", target.shown));
    };
    if let Err(message) = write_text(sandbox, target.arg, &target.found, &previous).await? {
        return fail(message);
    }
    let text = String::from_utf8(previous).unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect());
    ok(format!("Last edit to {} undone successfully. {}", target.shown, cat_n(&text, &target.shown, 1)))
}

/// Writes `new_text` in the file's own encoding and records the old contents for undo; the
/// agent-facing message when that is impossible.
async fn save<S: Sandbox>(
    sandbox: &mut S,
    target: &Target<'_>,
    history: &mut History,
    file: &super::FileText,
    new_text: &str,
) -> Result<Option<String>> {
    let Some(bytes) = file.encode(new_text) else {
        return Ok(Some(format!("Ran into an encoding error while trying to write to {}", target.shown)));
    };
    if let Err(message) = write_text(sandbox, target.arg, &target.found, &bytes).await? {
        return Ok(Some(message));
    }
    history.entry(target.found.path.clone()).or_default().push(file.bytes.clone());
    Ok(None)
}

/// Lines as Python's `str.splitlines()` counts them for `\n`, `\r\n` and `\r` endings.
fn count_splitlines(text: &str) -> usize {
    let breaks = text.replace("\r\n", "\n").matches(['\n', '\r']).count();
    let unterminated = !text.is_empty() && !text.ends_with(['\n', '\r']);
    breaks + usize::from(unterminated)
}

/// SWE-agent's `_make_output`: clipped, tabs expanded, numbered like `cat -n`.
fn cat_n(content: &str, descriptor: &str, first_line: usize) -> String {
    let content = match content.char_indices().nth(MAX_RESPONSE_LEN) {
        Some((cut, _)) => format!("{}{TRUNCATED_MESSAGE}", &content[..cut]),
        None => content.to_string(),
    };
    let numbered: Vec<String> = expand_tabs(&content)
        .split('\n')
        .enumerate()
        .map(|(i, line)| format!("{:6}\t{line}", i + first_line))
        .collect();
    format!("Here's the result of running `cat -n` on {descriptor}:\n{}\n", numbered.join("\n"))
}

/// Python's `str.expandtabs()` (tab stops every 8 columns, the column restarting at line ends).
pub(super) fn expand_tabs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut column = 0;
    for c in text.chars() {
        match c {
            '\t' => {
                let spaces = 8 - column % 8;
                out.push_str(&" ".repeat(spaces));
                column += spaces;
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_python_pathlib() {
        assert_eq!(display_path("/testbed//src/./x.py"), "/testbed/src/x.py");
        assert_eq!(display_path("/testbed/"), "/testbed");
        assert_eq!(display_path("/testbed/../x"), "/testbed/../x");
        assert_eq!(display_path("a/b/"), "a/b");
    }

    #[test]
    fn view_ranges_parse_from_their_json_text() {
        assert_eq!(parse_view_range("[1, 40]"), Ok(Some((1, 40))));
        assert_eq!(parse_view_range("[10,-1]"), Ok(Some((10, -1))));
        assert_eq!(parse_view_range("3, 4"), Ok(Some((3, 4))));
        assert_eq!(parse_view_range("[]"), Ok(None));
        assert_eq!(parse_view_range("[1.5, 2]"), Err(()));
        assert_eq!(parse_view_range("[1, 2, 3]"), Err(()));
        assert_eq!(parse_view_range("lines 1 to 4"), Err(()));
    }

    #[test]
    fn output_helpers_match_python() {
        assert_eq!(expand_tabs("a\tb\n\tc\r\td"), "a       b\n        c\r        d");
        assert_eq!(expand_tabs("12345678\tx"), "12345678        x");
        assert_eq!(count_splitlines("a\nb\n"), 2);
        assert_eq!(count_splitlines("a\r\nb"), 2);
        assert_eq!(count_splitlines(""), 0);
        let long = "x".repeat(MAX_RESPONSE_LEN + 10);
        let shown = cat_n(&long, "f", 1);
        assert!(shown.ends_with(&format!("{}{TRUNCATED_MESSAGE}\n", "x".repeat(10))));
        let kept = shown.split("<response clipped>").next().unwrap_or_default();
        assert_eq!(kept.matches('x').count(), MAX_RESPONSE_LEN);
    }
}
