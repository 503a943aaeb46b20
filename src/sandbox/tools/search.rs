//! SWE-agent 0.x's search commands, `search_dir`, `search_file` and `find_file`, done on the
//! host by walking the work tree instead of running `find | grep` in the sandbox.
//!
//! Output texts are those of SWE-agent 0.x's `search.sh` (checked against the real
//! observations in the 0.x `.traj` fixtures). Differences, all deliberate: paths outside the
//! repository are refused (the host-side walk must never leave the work tree), symbolic links
//! are neither followed nor listed (as `find -type f` does), `find_file` skips `.git`, and
//! results come in byte order of their paths where `find` would use directory order, and
//! `search_dir` skips files over 64 MiB (grep would read them; the harness must not hold them).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::pattern::{glob_match, Bre};
use super::{agent_path, file_lines, resolve, Resolved};
use crate::sandbox::WorkTree;

/// The most files (`search_dir`) or lines (`search_file`) listed before asking to narrow down.
const MAX_LISTED: usize = 100;
/// Larger files are not searched by `search_dir`.
const MAX_SEARCHED_BYTES: u64 = 64 << 20;

/// `search_dir <search_term> [<dir>]`: matching lines counted per file.
pub(super) fn search_dir(tree: &WorkTree, args: &[String]) -> Result<String> {
    let (term, dir) = match args {
        [term] => (term, "."),
        [term, dir] => (term, dir.as_str()),
        _ => return Ok("Usage: search_dir <search_term> [<dir>]\n".into()),
    };
    let host = match resolve(tree, dir)? {
        Resolved::Inside(host) if host.is_dir() => host,
        Resolved::Inside(_) => return Ok(format!("Directory {dir} not found\n")),
        Resolved::Refused(message) => return Ok(message + "\n"),
    };
    let shown = agent_path(tree, &host);
    let pattern = Bre::parse(term);
    let mut matches = Vec::new();
    for file in walk(&host, &mut |name| name.starts_with('.')) {
        if fs::metadata(&file).map_or(true, |m| m.len() > MAX_SEARCHED_BYTES) {
            continue;
        }
        // `grep -I` skips binary files; a NUL byte is how grep recognises them.
        let Ok(bytes) = fs::read(&file) else { continue };
        if bytes.contains(&0) {
            continue;
        }
        let count = file_lines(&String::from_utf8_lossy(&bytes)).iter().filter(|line| pattern.is_match(line)).count();
        if count > 0 {
            matches.push((agent_path(tree, &file), count));
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

/// `search_file <search_term> [<file>]`: matching lines of one file, the open one by default.
pub(super) fn search_file(tree: &WorkTree, open_file: Option<&str>, args: &[String]) -> Result<String> {
    const USAGE: &str = "Usage: search_file <search_term> [<file>]\n";
    let Some(term) = args.first().filter(|t| !t.is_empty()) else { return Ok(USAGE.into()) };
    let file = match (args.get(1).filter(|f| !f.is_empty()), open_file) {
        (Some(file), _) => file.as_str(),
        (None, Some(open)) => open,
        (None, None) => return Ok("No file open. Use the open command first.\n".into()),
    };
    let host = match resolve(tree, file)? {
        Resolved::Inside(host) if host.is_file() => host,
        Resolved::Inside(_) => {
            return Ok(format!("{USAGE}Error: File name {file} not found. Please provide a valid file name.\n"))
        }
        Resolved::Refused(message) => return Ok(message + "\n"),
    };
    let shown = agent_path(tree, &host);
    let text = match fs::read(&host) {
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
pub(super) fn find_file(tree: &WorkTree, args: &[String]) -> Result<String> {
    let (name, dir) = match args {
        [name] => (name, "."),
        [name, dir] => (name, dir.as_str()),
        _ => return Ok("Usage: find_file <file_name> [<dir>]\n".into()),
    };
    let host = match resolve(tree, dir)? {
        Resolved::Inside(host) if host.is_dir() => host,
        Resolved::Inside(_) => return Ok(format!("Directory {dir} not found\n")),
        Resolved::Refused(message) => return Ok(message + "\n"),
    };
    let shown = agent_path(tree, &host);
    let mut found: Vec<String> = walk(&host, &mut |name| name == ".git")
        .iter()
        .filter(|file| file.file_name().is_some_and(|n| glob_match(name, &n.to_string_lossy())))
        .map(|file| agent_path(tree, file))
        .collect();
    if found.is_empty() {
        return Ok(format!("No matches found for \"{name}\" in {shown}\n"));
    }
    found.sort();
    let mut out = format!("Found {} matches for \"{name}\" in {shown}:\n", found.len());
    for path in found {
        out.push_str(&path);
        out.push('\n');
    }
    Ok(out)
}

/// Regular files under `dir`, not following symbolic links, skipping entries named as `skip`
/// says (and everything below them).
fn walk(dir: &Path, skip: &mut dyn FnMut(&str) -> bool) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        // An unreadable directory is skipped, as `find` does after printing a warning.
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            if skip(&entry.file_name().to_string_lossy()) {
                continue;
            }
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files
}
