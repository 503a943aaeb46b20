//! SWE-agent 0.x's search commands, `search_dir`, `search_file` and `find_file`, done in the
//! harness over the sandbox's repository (a walk, then the files' contents) instead of running
//! `find | grep` as the agent.
//!
//! Output texts are those of SWE-agent 0.x's `search.sh` (checked against the real
//! observations in the 0.x `.traj` fixtures). Differences, all deliberate: paths outside the
//! repository are refused (the host-side walk must never leave the work tree), symbolic links
//! are neither followed nor listed (as `find -type f` does), `find_file` skips `.git`, and
//! results come in byte order of their paths where `find` would use directory order, and
//! `search_dir` skips files over 64 MiB (grep would read them; the harness must not hold them).

use anyhow::Result;

use super::pattern::{glob_match, Bre};
use super::{agent_path, file_lines, resolve, Resolved};
use crate::sandbox::files::{Skip, MAX_SEARCHED_BYTES};
use crate::sandbox::Sandbox;

/// The most files (`search_dir`) or lines (`search_file`) listed before asking to narrow down.
const MAX_LISTED: usize = 100;

/// `search_dir <search_term> [<dir>]`: matching lines counted per file.
pub(super) async fn search_dir<S: Sandbox>(sandbox: &mut S, args: &[String]) -> Result<String> {
    let (term, dir) = match args {
        [term] => (term, "."),
        [term, dir] => (term, dir.as_str()),
        _ => return Ok("Usage: search_dir <search_term> [<dir>]\n".into()),
    };
    let found = match resolve(sandbox, dir).await? {
        Resolved::Inside(found) if found.is_dir() => found,
        Resolved::Inside(_) => return Ok(format!("Directory {dir} not found\n")),
        Resolved::Refused(message) => return Ok(message + "\n"),
    };
    let shown = agent_path(sandbox, &found.path);
    let pattern = Bre::parse(term);
    let files: Vec<String> = sandbox
        .walk(found.data_path(), Skip::Hidden)
        .await?
        .into_iter()
        .filter(|(_, len)| *len <= MAX_SEARCHED_BYTES)
        .map(|(path, _)| path)
        .collect();
    let contents = sandbox.read_files(&files).await?;
    let mut matches = Vec::new();
    for (file, bytes) in files.iter().zip(contents) {
        // `grep -I` skips binary files; a NUL byte is how grep recognises them.
        let Some(bytes) = bytes.filter(|b| !b.contains(&0)) else { continue };
        let count = file_lines(&String::from_utf8_lossy(&bytes)).iter().filter(|line| pattern.is_match(line)).count();
        if count > 0 {
            matches.push((agent_path(sandbox, &shown_path(&found, file)), count));
        }
    }
    if shown.contains("/.") {
        // `find ! -path '*/.*'` drops everything below a hidden starting directory.
        matches.clear();
    }
    if matches.is_empty() {
        return Ok(format!("No matches found for \"{term}\" in {shown}\n"));
    }
    if matches.len() > MAX_LISTED {
        let n = matches.len();
        return Ok(format!("More than {n} files matched for \"{term}\" in {shown}. Please narrow your search.\n"));
    }
    matches.sort();
    let total: usize = matches.iter().map(|(_, count)| count).sum();
    let mut out = format!("Found {total} matches for \"{term}\" in {shown}:\n");
    for (path, count) in &matches {
        out.push_str(&format!("{path} ({count} matches)\n"));
    }
    out.push_str(&format!("End of matches for \"{term}\" in {shown}\n"));
    Ok(out)
}

/// A file found below a directory reached through a link, named below the link as the agent
/// wrote it (as `find LINK/` prints it).
fn shown_path(dir: &super::Found, file: &str) -> String {
    let rest = file.strip_prefix(dir.data_path()).map(|r| r.trim_start_matches('/'));
    match rest {
        Some(rest) if dir.data_path() != dir.path => super::files::join(&dir.path, rest),
        _ => file.to_string(),
    }
}

/// `search_file <search_term> [<file>]`: matching lines of one file, the open one by default.
pub(super) async fn search_file<S: Sandbox>(
    sandbox: &mut S,
    open_file: Option<&str>,
    args: &[String],
) -> Result<String> {
    const USAGE: &str = "Usage: search_file <search_term> [<file>]\n";
    let Some(term) = args.first().filter(|t| !t.is_empty()) else { return Ok(USAGE.into()) };
    let file = match (args.get(1).filter(|f| !f.is_empty()), open_file) {
        (Some(file), _) => file.as_str(),
        (None, Some(open)) => open,
        (None, None) => return Ok("No file open. Use the open command first.\n".into()),
    };
    let found = match resolve(sandbox, file).await? {
        Resolved::Inside(found) if found.is_file() => found,
        Resolved::Inside(_) => {
            return Ok(format!("{USAGE}Error: File name {file} not found. Please provide a valid file name.\n"))
        }
        Resolved::Refused(message) => return Ok(message + "\n"),
    };
    let shown = agent_path(sandbox, &found.path);
    let text = match sandbox.read(found.data_path()).await? {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return Ok(format!("grep: {shown}: {e}\n")),
    };
    let pattern = Bre::parse(term);
    let lines: Vec<(usize, &str)> =
        file_lines(&text).into_iter().enumerate().filter(|(_, l)| pattern.is_match(l)).collect();
    if lines.is_empty() {
        return Ok(format!("No matches found for \"{term}\" in {shown}\n"));
    }
    if lines.len() > MAX_LISTED {
        let n = lines.len();
        return Ok(format!("More than {n} lines matched for \"{term}\" in {shown}. Please narrow your search.\n"));
    }
    let mut out = format!("Found {} matches for \"{term}\" in {shown}:\n", lines.len());
    for (index, line) in lines {
        out.push_str(&format!("Line {}:{line}\n", index + 1));
    }
    out.push_str(&format!("End of matches for \"{term}\" in {shown}\n"));
    Ok(out)
}

/// `find_file <file_name> [<dir>]`: files whose name matches a `find -name` glob.
pub(super) async fn find_file<S: Sandbox>(sandbox: &mut S, args: &[String]) -> Result<String> {
    let (name, dir) = match args {
        [name] => (name, "."),
        [name, dir] => (name, dir.as_str()),
        _ => return Ok("Usage: find_file <file_name> [<dir>]\n".into()),
    };
    let found = match resolve(sandbox, dir).await? {
        Resolved::Inside(found) if found.is_dir() => found,
        Resolved::Inside(_) => return Ok(format!("Directory {dir} not found\n")),
        Resolved::Refused(message) => return Ok(message + "\n"),
    };
    let shown = agent_path(sandbox, &found.path);
    let mut matched: Vec<String> = sandbox
        .walk(found.data_path(), Skip::GitDir)
        .await?
        .into_iter()
        .filter(|(file, _)| glob_match(name, file.rsplit('/').next().unwrap_or(file)))
        .map(|(file, _)| agent_path(sandbox, &shown_path(&found, &file)))
        .collect();
    if matched.is_empty() {
        return Ok(format!("No matches found for \"{name}\" in {shown}\n"));
    }
    matched.sort();
    let mut out = format!("Found {} matches for \"{name}\" in {shown}:\n", matched.len());
    for path in matched {
        out.push_str(&path);
        out.push('\n');
    }
    Ok(out)
}
