//! SWE-agent 0.x's special commands (the "ACI"): a file viewer with a 100-line window
//! (`open`, `goto`, `scroll_down`, `scroll_up`, `create`), the line-range `edit`, the search
//! commands (in `search.rs`) and `submit`. They arrive as `bash` commands, e.g. `open src/x.py
//! 40` or `edit 5:7\n<lines>\nend_of_edit`, and are run in the harness over the sandbox's repository.
//!
//! The window arithmetic and every text are ported from 0.x's `defaults.sh` and
//! `edit_linting.sh` (`_print`, `_constrain_line`, `open`, `goto`, …) and checked against the
//! real observations in the 0.x `.traj` fixtures. Deliberately left out:
//! - flake8 linting after `edit` (0.x rejected edits that introduced syntax errors): running a
//!   linter needs the task's Python environment, so every edit is applied and answered with
//!   the "File updated" window;
//! - the cursor variant (`set_cursors`, range-less `edit`) and the scroll warning of later
//!   0.x versions;
//! - shell syntax around a special command (`open x.py && ls`): in 0.x they were bash functions,
//!   here they are not, so such a line is refused with an explanation.

use anyhow::Result;

use super::words::{split, Split};
use super::{agent_path, file_lines, parent_is_dir, read_text, resolve, search, write_text, Resolved};
use crate::sandbox::Sandbox;

/// Lines shown at once (`WINDOW`) and kept when scrolling (`OVERLAP`), 0.x's defaults.
const WINDOW: i64 = 100;
const OVERLAP: i64 = 2;

/// The special commands, by the first word of a `bash` command.
pub(super) const COMMANDS: [&str; 10] =
    ["open", "goto", "scroll_down", "scroll_up", "create", "edit", "search_dir", "search_file", "find_file", "submit"];

const EDIT_DONE: &str = "File updated. Please review the changes and make sure they are correct (correct indentation, \
                         no duplicate lines, etc). Edit the file again if necessary.\n";

/// The 0.x viewer's state: the open file and `CURRENT_LINE`, the line the window is centred
/// on (the first line shown is `current_line - 49` once the window is constrained).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowState {
    /// Absolute path of the open file as the agent sees it (`/testbed/src/x.py`).
    pub file: Option<String>,
    pub current_line: i64,
}

/// What a special command produced.
pub(super) enum Legacy {
    Text(String),
    /// `submit`: the caller answers with the diff.
    Submit,
}

/// The special command `command` starts with, if any.
pub(super) fn command_name(command: &str) -> Option<&'static str> {
    let first = command.split_whitespace().next()?;
    COMMANDS.iter().copied().find(|name| *name == first)
}

/// Runs one special command. Mistakes of the agent are answered in text, as 0.x did.
pub(super) async fn run<S: Sandbox>(sandbox: &mut S, state: &mut WindowState, command: &str) -> Result<Legacy> {
    let command = command.trim();
    let (first_line, body) = match command.split_once('\n') {
        Some((first, rest)) if command_name(first) == Some("edit") => (strip_heredoc(first), Some(rest)),
        _ => (command, None),
    };
    let words = match split(first_line) {
        Split::Words(words) => words,
        Split::Compound(_) => {
            let name = command_name(command).unwrap_or("command");
            return Ok(Legacy::Text(format!(
                "The special command `{name}` must be run on its own: it cannot be combined with other shell \
                 commands, pipes or redirections. Run it alone, then run the rest as a separate command.\n"
            )));
        }
        Split::Unterminated => {
            return Ok(Legacy::Text("bash: unexpected EOF while looking for matching quote\n".into()))
        }
    };
    let (name, args) = match words.split_first() {
        Some((name, args)) => (name.as_str(), args),
        None => return Ok(Legacy::Text(String::new())),
    };
    let text = match name {
        "open" => open(sandbox, state, args).await?,
        "goto" => goto(sandbox, state, args).await?,
        "scroll_down" => scroll(sandbox, state, WINDOW - OVERLAP).await?,
        "scroll_up" => scroll(sandbox, state, OVERLAP - WINDOW).await?,
        "create" => create(sandbox, state, args).await?,
        "edit" => edit(sandbox, state, args, body.unwrap_or("")).await?,
        "search_dir" => search::search_dir(sandbox, args).await?,
        "search_file" => search::search_file(sandbox, state.file.as_deref(), args).await?,
        "find_file" => search::find_file(sandbox, args).await?,
        _ => return Ok(Legacy::Submit),
    };
    Ok(Legacy::Text(text))
}

/// 0.x turned `edit 1:2` into a here-document (`edit 1:2 << 'end_of_edit'`); an action that
/// already carries the redirection means the same.
fn strip_heredoc(first_line: &str) -> &str {
    match first_line.find("<<") {
        Some(at) if first_line[at + 2..].trim().trim_matches(['\'', '"']) == "end_of_edit" => &first_line[..at],
        _ => first_line,
    }
}

/// The open file: its agent path, lines and the text to show instead when it cannot be read.
async fn load<S: Sandbox>(sandbox: &mut S, path: &str) -> Result<Result<(String, String), String>> {
    let found = match resolve(sandbox, path).await? {
        Resolved::Inside(found) if found.is_file() => found,
        Resolved::Inside(_) => return Ok(Err(format!("File {path} not found\n"))),
        Resolved::Refused(message) => return Ok(Err(message + "\n")),
    };
    // `realpath`: the header names the file with links resolved.
    let shown = agent_path(sandbox, found.data_path());
    Ok(read_text(sandbox, &found).await?.map(|file| (shown, file.text)).map_err(|message| message + "\n"))
}

/// `_constrain_line`: keeps the window inside the file (and at least half a window down).
fn constrain(current: i64, total: i64) -> i64 {
    current.min(total - WINDOW / 2).max(WINDOW / 2)
}

/// `_print`: the header, the window of numbered lines and the markers around it.
fn window(shown: &str, lines: &[&str], current: i64) -> String {
    let total = lines.len() as i64;
    let mut out = format!("[File: {shown} ({total} lines total)]\n");
    let above = (current - WINDOW / 2).max(0);
    let below = (total - current - WINDOW / 2).max(0);
    if above > 0 {
        out.push_str(&format!("({above} more lines above)\n"));
    }
    // `grep -n $ | head -n HEAD | tail -n WINDOW`.
    let head = (current + WINDOW / 2).max(WINDOW / 2).min(total);
    for index in (head - WINDOW).max(0)..head {
        out.push_str(&format!("{}:{}\n", index + 1, lines[index as usize]));
    }
    if below > 0 {
        out.push_str(&format!("({below} more lines below)\n"));
    }
    out
}

/// Shows the open file's window around `current` after constraining it, and remembers it.
async fn show<S: Sandbox>(sandbox: &mut S, state: &mut WindowState, path: &str, current: i64) -> Result<String> {
    Ok(match load(sandbox, path).await? {
        Ok((shown, text)) => {
            let lines = file_lines(&text);
            state.current_line = constrain(current, lines.len() as i64);
            let out = window(&shown, &lines, state.current_line);
            state.file = Some(shown);
            out
        }
        Err(message) => message,
    })
}

/// A line-number argument: `None` when it is not all digits (huge numbers saturate).
fn number(arg: &str) -> Option<i64> {
    (!arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit())).then(|| arg.parse().unwrap_or(i64::MAX))
}

async fn open<S: Sandbox>(sandbox: &mut S, state: &mut WindowState, args: &[String]) -> Result<String> {
    let Some(path) = args.first().filter(|p| !p.is_empty()) else { return Ok("Usage: open <file>\n".into()) };
    let requested = match args.get(1).filter(|l| !l.is_empty()) {
        None => None,
        Some(line) => match number(line) {
            Some(n) => Some(n),
            None => return Ok("Usage: open <file> [<line_number>]\nError: <line_number> must be a number\n".into()),
        },
    };
    match resolve(sandbox, path).await? {
        Resolved::Refused(message) => return Ok(message + "\n"),
        Resolved::Inside(host) if host.is_dir() => {
            return Ok(format!(
                "Error: {path} is a directory. You can only open files. Use cd or ls to navigate directories.\n"
            ))
        }
        Resolved::Inside(host) if !host.is_file() => return Ok(format!("File {path} not found\n")),
        Resolved::Inside(_) => {}
    }
    let total = match load(sandbox, path).await? {
        Ok((_, text)) => file_lines(&text).len() as i64,
        Err(message) => return Ok(message),
    };
    let mut out = String::new();
    let current = match requested {
        None => WINDOW / 2,
        Some(n) if n > total => {
            out.push_str(&format!(
                "Warning: <line_number> ({n}) is greater than the number of lines in the file ({total})\n\
                 Warning: Setting <line_number> to {total}\n"
            ));
            total
        }
        Some(0) => {
            out.push_str("Warning: <line_number> (0) is less than 1\nWarning: Setting <line_number> to 1\n");
            1
        }
        Some(n) => centre_on(n),
    };
    out.push_str(&show(sandbox, state, path, current).await?);
    Ok(out)
}

/// `CURRENT_LINE` that shows line `n` a sixth of a window from the top.
fn centre_on(n: i64) -> i64 {
    n.saturating_add(WINDOW / 2 - WINDOW / 6).max(1)
}

async fn goto<S: Sandbox>(sandbox: &mut S, state: &mut WindowState, args: &[String]) -> Result<String> {
    if args.len() > 1 {
        return Ok("goto allows only one line number at a time.\n".into());
    }
    let Some(file) = state.file.clone() else { return Ok("No file open. Use the open command first.\n".into()) };
    let Some(arg) = args.first().filter(|a| !a.is_empty()) else { return Ok("Usage: goto <line>\n".into()) };
    let Some(n) = number(arg) else { return Ok("Usage: goto <line>\nError: <line> must be a number\n".into()) };
    let total = match load(sandbox, &file).await? {
        Ok((_, text)) => file_lines(&text).len() as i64,
        Err(message) => return Ok(message),
    };
    if n > total {
        return Ok(format!("Error: <line> must be less than or equal to {total}\n"));
    }
    show(sandbox, state, &file, centre_on(n)).await
}

async fn scroll<S: Sandbox>(sandbox: &mut S, state: &mut WindowState, by: i64) -> Result<String> {
    let Some(file) = state.file.clone() else { return Ok("No file open. Use the open command first.\n".into()) };
    show(sandbox, state, &file, state.current_line.saturating_add(by)).await
}

async fn create<S: Sandbox>(sandbox: &mut S, state: &mut WindowState, args: &[String]) -> Result<String> {
    let Some(path) = args.first().filter(|p| !p.is_empty()) else { return Ok("Usage: create <filename>\n".into()) };
    let found = match resolve(sandbox, path).await? {
        Resolved::Inside(found) => found,
        Resolved::Refused(message) => return Ok(message + "\n"),
    };
    if found.exists() {
        let opened = open(sandbox, state, std::slice::from_ref(path)).await?;
        return Ok(format!("Error: File '{path}' already exists.\n{opened}"));
    }
    if !parent_is_dir(sandbox, &found).await? {
        return Ok(format!("bash: {path}: No such file or directory\nFile {path} not found\n"));
    }
    // 0.x created the file holding one empty line (`printf "\n"`).
    if let Err(message) = write_text(sandbox, path, &found, b"\n").await? {
        return Ok(message + "\n");
    }
    Box::pin(open(sandbox, state, std::slice::from_ref(path))).await
}

/// `edit <start>:<end>` replaces lines start..=end of the open file with `body` up to the
/// `end_of_edit` line, slicing exactly as 0.x's bash arrays did.
async fn edit<S: Sandbox>(sandbox: &mut S, state: &mut WindowState, args: &[String], body: &str) -> Result<String> {
    const USAGE: &str = "Usage: edit <start_line>:<end_line>\n";
    let Some(path) = state.file.clone() else { return Ok("No file open. Use the `open` command first.\n".into()) };
    // `echo $1: | cut -d: -f1` and `-f2`.
    let range = format!("{}:", args.first().map(String::as_str).unwrap_or(""));
    let mut fields = range.split(':');
    let (start, end) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
    if start.is_empty() || end.is_empty() {
        return Ok(USAGE.into());
    }
    let Some(start) = number(start) else { return Ok(format!("{USAGE}Error: start_line must be a number\n")) };
    let Some(end) = number(end) else { return Ok(format!("{USAGE}Error: end_line must be a number\n")) };
    let found = match resolve(sandbox, &path).await? {
        Resolved::Inside(found) => found,
        Resolved::Refused(message) => return Ok(message + "\n"),
    };
    let file = match read_text(sandbox, &found).await? {
        Ok(file) => file,
        Err(message) => return Ok(message + "\n"),
    };
    let lines = file_lines(&file.text);
    let keep_before = (start.saturating_sub(1).max(0) as usize).min(lines.len());
    let keep_after = (end as usize).min(lines.len());
    let replacement = body.split('\n').take_while(|line| line.trim_end() != "end_of_edit");
    let replacement: Vec<&str> = if body.is_empty() { Vec::new() } else { replacement.collect() };
    let new_lines: Vec<&str> =
        lines[..keep_before].iter().copied().chain(replacement).chain(lines[keep_after..].iter().copied()).collect();
    // `printf "%s\n" "${new_lines[@]}"` prints one newline even for no lines.
    let new_text = if new_lines.is_empty() { "\n".to_string() } else { new_lines.join("\n") + "\n" };
    let Some(bytes) = file.encode(&new_text) else {
        return Ok(format!("Ran into an encoding error while trying to write to {path}\n"));
    };
    if let Err(message) = write_text(sandbox, &path, &found, &bytes).await? {
        return Ok(message + "\n");
    }
    Ok(show(sandbox, state, &path, start - 1).await? + EDIT_DONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("line {i}")).collect()
    }

    fn render(n: usize, current: i64) -> String {
        let lines = numbered(n);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        window("/r/f.py", &refs, constrain(current, n as i64))
    }

    #[test]
    fn window_matches_0x_arithmetic() {
        // pydicom fixture: `open numpy_handler.py 293` on 372 lines shows 273..372.
        let out = render(372, centre_on(293));
        assert!(out.starts_with("[File: /r/f.py (372 lines total)]\n(272 more lines above)\n273:line 273\n"));
        assert!(out.ends_with("372:line 372\n"));
        // pydicom fixture: `edit 287:296` on 373 lines centres on 286: 237..336, 37 below.
        let out = render(373, 286);
        assert!(
            out.contains("(236 more lines above)\n237:line 237\n")
                && out.ends_with("336:line 336\n(37 more lines below)\n")
        );
        // marshmallow fixture: `open fields.py 1474` on 1997 lines: 1459..1558, 439 below.
        let out = render(1997, centre_on(1474));
        assert!(
            out.contains("(1458 more lines above)\n1459:") && out.ends_with("1558:line 1558\n(439 more lines below)\n")
        );
        assert_eq!(render(1, 0), "[File: /r/f.py (1 lines total)]\n1:line 1\n");
        assert_eq!(render(0, 0), "[File: /r/f.py (0 lines total)]\n");
    }

    #[test]
    fn edit_heredoc_redirection_is_accepted() {
        assert_eq!(strip_heredoc("edit 1:2 << 'end_of_edit'"), "edit 1:2 ");
        assert_eq!(strip_heredoc("edit 1:2"), "edit 1:2");
        assert_eq!(command_name("scroll_down\n"), Some("scroll_down"));
        assert_eq!(command_name("opener x"), None);
    }
}
