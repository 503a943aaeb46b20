//! The agent tool layer end to end: `run_action` over a work tree, checked against the texts
//! real scaffolds produced (SWE-agent 0.x `.traj` windows, SWE-smith `str_replace_editor`
//! observations) and against escape attempts. Host-side tools run over a sandbox that cannot
//! execute anything, so the fixture repositories can sit at their original mount paths;
//! `bash` runs through the local backend.

mod support;

use std::fs;
use std::time::Duration;

use serde_json::Value;
use srl::action::Action;
use srl::sandbox::local::LocalSandbox;
use srl::sandbox::tools::{run_action, ToolBox, ToolOutput, NO_OUTPUT};
use srl::sandbox::{ApplyOutcome, ExecLimits, Observation, Probe, RepoPath, Sandbox, Skip, Snapshot, WorkTree};

/// A sandbox for the file tools only, over a host work tree: any command is an error.
struct HostOnly(WorkTree);

impl Sandbox for HostOnly {
    fn repo_dir(&self) -> &str {
        self.0.mount_path()
    }

    fn base_commit(&self) -> &str {
        "unused"
    }

    async fn exec(&mut self, command: &str, _limits: &ExecLimits) -> anyhow::Result<Observation> {
        anyhow::bail!("the host-only test sandbox cannot run {command:?}")
    }

    async fn probe(&mut self, path: &str) -> anyhow::Result<Probe> {
        self.0.probe(path)
    }

    async fn read(&mut self, path: &str) -> anyhow::Result<Result<Vec<u8>, String>> {
        Ok(self.0.read_bytes(path))
    }

    async fn write(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<Result<(), String>> {
        self.0.write_bytes(path, bytes)
    }

    async fn list(&mut self, dir: &str) -> anyhow::Result<Vec<(String, bool)>> {
        Ok(self.0.list(dir))
    }

    async fn walk(&mut self, dir: &str, skip: Skip) -> anyhow::Result<Vec<(RepoPath, u64)>> {
        Ok(self.0.walk(dir, skip))
    }

    async fn read_files(&mut self, paths: &[RepoPath]) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
        Ok(self.0.read_files(paths))
    }

    async fn diff(&mut self) -> anyhow::Result<String> {
        self.0.diff()
    }

    async fn apply_patch(&mut self, patch: &str) -> anyhow::Result<ApplyOutcome> {
        self.0.apply_patch(patch)
    }

    async fn snapshot(&mut self) -> anyhow::Result<Snapshot> {
        self.0.snapshot()
    }

    async fn restore(&mut self, snapshot: &Snapshot) -> anyhow::Result<()> {
        self.0.restore(snapshot)
    }

    async fn close(self) -> anyhow::Result<()> {
        Ok(())
    }
}

fn work_tree(mount: &str, files: &[(&str, &str)]) -> WorkTree {
    let source = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = source.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    WorkTree::from_files(source.path(), mount).unwrap()
}

fn host_only(files: &[(&str, &str)]) -> HostOnly {
    HostOnly(work_tree("/testbed", files))
}

fn limits() -> ExecLimits {
    ExecLimits::new(Duration::from_secs(20), 100_000)
}

async fn run<S: Sandbox>(sandbox: &mut S, tools: &mut ToolBox, action: Action) -> ToolOutput {
    run_action(sandbox, tools, &action, &limits()).await.unwrap()
}

fn editor(command: &str, path: &str) -> Action {
    Action::new("str_replace_editor").arg("command", command).arg("path", path)
}

/// Runs one editor call and returns its observation.
async fn edit(sandbox: &mut HostOnly, tools: &mut ToolBox, action: Action) -> String {
    run(sandbox, tools, action).await.observation
}

const SAMPLE: &str = "import os\n\ndef f(x):\n\treturn x + 1\n\nprint(f(1))\n";

#[tokio::test]
async fn view_shows_cat_n_of_files_ranges_and_directories() {
    let mut sb =
        host_only(&[("a.py", SAMPLE), ("pkg/b.py", "b\n"), ("pkg/sub/c.py", "c"), (".hidden/x", ""), ("pkg/.env", "")]);
    let mut tools = ToolBox::default();
    let out = run(&mut sb, &mut tools, editor("view", "/testbed/a.py")).await;
    // Tabs are expanded in what is shown; the trailing newline gives an empty last line, trimmed.
    let expect = "Here's the result of running `cat -n` on /testbed/a.py:\n     1\timport os\n     2\t\n     3\tdef f(x):\n     4\t        return x + 1\n     5\t\n     6\tprint(f(1))\n     7";
    assert_eq!(out.observation, expect);
    assert_eq!(out.exit_code, Some(0));
    let ranged = edit(&mut sb, &mut tools, editor("view", "/testbed/a.py").arg("view_range", "[3,4]")).await;
    assert_eq!(
        ranged,
        "Here's the result of running `cat -n` on /testbed/a.py:\n     3\tdef f(x):\n     4\t        return x + 1"
    );
    let to_end = edit(&mut sb, &mut tools, editor("view", "/testbed/a.py").arg("view_range", "[6, -1]")).await;
    assert_eq!(to_end, "Here's the result of running `cat -n` on /testbed/a.py:\n     6\tprint(f(1))\n     7");
    for (range, message) in [
        ("[0, 2]", "Invalid `view_range`: [0, 2]. Its first element `0` should be within the range of lines of the file: [1, 7]"),
        ("[1, 9]", "Invalid `view_range`: [1, 9]. Its second element `9` should be smaller than the number of lines in the file: `7`"),
        ("[4, 2]", "Invalid `view_range`: [4, 2]. Its second element `2` should be larger or equal than its first `4`"),
        ("[1]", "Invalid `view_range`. It should be a list of two integers."),
    ] {
        let out = run(&mut sb, &mut tools, editor("view", "/testbed/a.py").arg("view_range", range)).await;
        assert_eq!((out.observation.as_str(), out.exit_code), (message, Some(1)));
    }
    let dir = edit(&mut sb, &mut tools, editor("view", "/testbed/")).await;
    let expect = "Here's the files and directories up to 2 levels deep in /testbed, excluding hidden items:\n/testbed\n/testbed/a.py\n/testbed/pkg\n/testbed/pkg/b.py\n/testbed/pkg/sub";
    assert_eq!(dir, expect);
    let missing = edit(&mut sb, &mut tools, editor("view", "/testbed/nope.py")).await;
    assert_eq!(missing, "The path /testbed/nope.py does not exist. Please provide a valid path.");
    let relative = edit(&mut sb, &mut tools, editor("view", "a.py")).await;
    assert_eq!(
        relative,
        "The path a.py is not an absolute path, it should start with `/`. Maybe you meant /testbed/a.py?"
    );
}

#[tokio::test]
async fn create_refuses_to_overwrite_and_needs_a_parent() {
    let mut sb = host_only(&[("a.py", SAMPLE)]);
    let mut tools = ToolBox::default();
    let created = edit(&mut sb, &mut tools, editor("create", "/testbed/new.py").arg("file_text", "x = 1\n")).await;
    assert_eq!(created, "File created successfully at: /testbed/new.py");
    assert_eq!(sb.0.read_file("new.py").unwrap(), "x = 1\n");
    let again = run(&mut sb, &mut tools, editor("create", "/testbed/a.py").arg("file_text", "gone")).await;
    assert_eq!(
        again.observation,
        "File already exists at: /testbed/a.py. Cannot overwrite files using command `create`."
    );
    assert_eq!(again.exit_code, Some(1));
    assert_eq!(sb.0.read_file("a.py").unwrap(), SAMPLE);
    let orphan = edit(&mut sb, &mut tools, editor("create", "/testbed/no/dir/x.py").arg("file_text", "")).await;
    assert_eq!(orphan, "The parent directory /testbed/no/dir does not exist. Please create it first.");
    let missing = edit(&mut sb, &mut tools, editor("create", "/testbed/y.py")).await;
    assert_eq!(missing, "Parameter `file_text` is required for command: create");
}

#[tokio::test]
async fn str_replace_insert_and_undo() {
    let text: String = (1..=12).map(|i| format!("line {i}\n")).collect::<String>() + "dup\ndup\n";
    let mut sb = host_only(&[("f.txt", &text)]);
    let mut tools = ToolBox::default();
    let replaced = edit(
        &mut sb,
        &mut tools,
        editor("str_replace", "/testbed/f.txt").arg("old_str", "line 8\n").arg("new_str", "eight\nacht\n"),
    )
    .await;
    let snippet = "     3\tline 3\n     4\tline 4\n     5\tline 5\n     6\tline 6\n     7\tline 7\n     8\teight\n     9\tacht\n    10\tline 9\n    11\tline 10\n    12\tline 11\n    13\tline 12\n";
    let expect = format!("The file /testbed/f.txt has been edited. Here's the result of running `cat -n` on a snippet of /testbed/f.txt:\n{snippet}Review the changes and make sure they are as expected. Edit the file again if necessary.");
    assert_eq!(replaced, expect);
    let not_found = edit(
        &mut sb,
        &mut tools,
        editor("str_replace", "/testbed/f.txt").arg("old_str", "line 99").arg("new_str", "x"),
    )
    .await;
    assert_eq!(not_found, "No replacement was performed, old_str `line 99` did not appear verbatim in /testbed/f.txt.");
    let multiple =
        edit(&mut sb, &mut tools, editor("str_replace", "/testbed/f.txt").arg("old_str", "dup").arg("new_str", "x"))
            .await;
    assert_eq!(multiple, "No replacement was performed. Multiple occurrences of old_str `dup` in lines [14, 15]. Please ensure it is unique");
    let inserted = edit(
        &mut sb,
        &mut tools,
        editor("insert", "/testbed/f.txt").arg("insert_line", "2").arg("new_str", "new a\nnew b"),
    )
    .await;
    let expect = "The file /testbed/f.txt has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n     1\tline 1\n     2\tline 2\n     3\tnew a\n     4\tnew b\n     5\tline 3\n     6\tline 4\n     7\tline 5\n     8\tline 6\nReview the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.";
    assert_eq!(inserted, expect);
    let bad_line =
        edit(&mut sb, &mut tools, editor("insert", "/testbed/f.txt").arg("insert_line", "99").arg("new_str", "x"))
            .await;
    assert_eq!(
        bad_line,
        "Invalid `insert_line` parameter: 99. It should be within the range of lines of the file: [0, 18]"
    );

    let undo = editor("undo_edit", "/testbed/f.txt");
    let first = edit(&mut sb, &mut tools, undo.clone()).await;
    assert!(first.starts_with("Last edit to /testbed/f.txt undone successfully. Here's the result of running `cat -n` on /testbed/f.txt:\n     1\tline 1\n     2\tline 2\n     3\tline 3\n"), "{first}");
    assert!(sb.0.read_file("f.txt").unwrap().contains("eight\nacht\n"));
    edit(&mut sb, &mut tools, undo.clone()).await;
    assert_eq!(sb.0.read_file("f.txt").unwrap(), text);
    let none_left = run(&mut sb, &mut tools, undo).await;
    assert_eq!(
        (none_left.observation.as_str(), none_left.exit_code),
        ("No edit history found for /testbed/f.txt.", Some(1))
    );
}

#[tokio::test]
async fn paths_outside_the_repository_are_refused() {
    let mut sb = host_only(&[("a.py", SAMPLE)]);
    let repo = sb.0.host_dir();
    std::os::unix::fs::symlink("/etc", repo.join("etc")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted");
    std::os::unix::fs::symlink(&target, repo.join("dangling")).unwrap();
    let mut tools = ToolBox::new(true);
    for path in ["/etc/passwd", "/testbed/../../x", "/testbed/etc/passwd", "/testbed/etc", "/testbedx/a.py"] {
        let out = edit(&mut sb, &mut tools, editor("view", path)).await;
        assert_eq!(out, format!("The path {path} is outside the repository /testbed."));
    }
    let planted = edit(&mut sb, &mut tools, editor("create", "/testbed/dangling").arg("file_text", "x")).await;
    assert_eq!(planted, "The path /testbed/dangling is outside the repository /testbed.");
    assert!(!target.exists(), "a write followed a link out of the work tree");
    let escaped = edit(&mut sb, &mut tools, editor("create", "/testbed/etc/srl-test").arg("file_text", "x")).await;
    assert!(escaped.contains("outside the repository"), "{escaped}");
    for command in
        ["open ../../etc/passwd", "open etc/passwd", "find_file passwd /etc", "search_dir root etc", "create dangling"]
    {
        let out = run(&mut sb, &mut tools, Action::bash(command)).await.observation;
        assert!(out.contains("is outside the repository /testbed."), "{command}: {out}");
    }
    assert!(!target.exists());
}

/// The steps of a SWE-agent `.traj` fixture.
fn trajectory(relative: &str) -> Vec<Value> {
    let text = fs::read_to_string(support::fixtures().join(relative)).unwrap();
    let parsed: Value = serde_json::from_str(&text).unwrap();
    parsed["trajectory"].as_array().unwrap().clone()
}

/// `N:content` lines of a 0.x window observation.
fn window_lines(observation: &str) -> Vec<(usize, String)> {
    observation
        .lines()
        .filter_map(|line| {
            let (number, content) = line.split_once(':')?;
            Some((number.parse().ok()?, content.to_string()))
        })
        .collect()
}

/// A file of `total` lines holding the lines the fixture windows showed, filler elsewhere.
fn file_from_windows(total: usize, windows: &[&str]) -> String {
    let mut lines: Vec<String> = (1..=total).map(|i| format!("    # filler {i}")).collect();
    for window in windows {
        for (number, content) in window_lines(window) {
            lines[number - 1] = content;
        }
    }
    lines.join("\n") + "\n"
}

/// A diff without the parts that depend on file contents the fixtures do not show.
fn diff_shape(diff: &str) -> String {
    let lines = diff.trim_start().lines().filter(|l| !l.starts_with("index "));
    lines
        .map(|l| if l.starts_with("@@") { l.rsplit_once("@@").map_or(l, |(head, _)| head) } else { l })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn swe_agent_0x_pydicom_windows_match_the_fixture() {
    let steps = trajectory("swe-agent/tests/test_data/trajectories/gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__c-3.00__install-1/pydicom__pydicom-1458.traj");
    let obs = |i: usize| steps[i]["observation"].as_str().unwrap().to_string();
    // Lines 237..272 from the final edit's window, then 273..372 as `open` showed them before any edit.
    let handler = file_from_windows(372, &[&obs(8), &obs(4)]);
    let files = [
        ("pydicom/pixel_data_handlers/numpy_handler.py", handler.as_str()),
        ("pydicom/overlays/numpy_handler.py", ""),
        ("pydicom/waveforms/numpy_handler.py", ""),
    ];
    let mut sb = HostOnly(work_tree("/pydicom__pydicom", &files));
    let mut tools = ToolBox::new(true);
    // Steps 5–7 were edits flake8 rejected; without linting they would apply, so they are skipped.
    for i in [0, 1, 3, 4, 8] {
        let action = steps[i]["action"].as_str().unwrap();
        let out = run(&mut sb, &mut tools, Action::bash(action)).await;
        assert_eq!(out.observation, obs(i), "step {i}: {action}");
    }
    assert_eq!(tools.open_file(), Some("/pydicom__pydicom/pydicom/pixel_data_handlers/numpy_handler.py"));
    fs::remove_file(sb.0.host_dir().join("reproduce_bug.py")).unwrap();
    let submitted = run(&mut sb, &mut tools, Action::bash("submit\n")).await;
    assert_eq!(diff_shape(submitted.submitted.as_deref().unwrap()), diff_shape(&obs(11)));
}

#[tokio::test]
async fn swe_agent_0x_marshmallow_windows_match_the_fixture() {
    let steps = trajectory("swe-agent/trajectories/demonstrations/replay__marshmallow-code__marshmallow-1867__default_sys-env_window100__t-0.20__p-0.95__c-2.00__install-1/marshmallow-code__marshmallow-1867.traj");
    let obs = |i: usize| steps[i]["observation"].as_str().unwrap().to_string();
    // The edit's window (1425..1524, after the edit) first, then the `open` window (1459..1558,
    // before it), so line 1475 holds its original text.
    let original = file_from_windows(1997, &[&obs(7), &obs(5)]);
    let mut sb = HostOnly(work_tree("/marshmallow-code__marshmallow", &[("src/marshmallow/fields.py", &original)]));
    let mut tools = ToolBox::new(true);
    // Step 6 was an edit flake8 rejected (bad indentation): skipped.
    for i in [0, 1, 4, 5, 7] {
        let action = steps[i]["action"].as_str().unwrap();
        let out = run(&mut sb, &mut tools, Action::bash(action)).await;
        assert_eq!(out.observation, obs(i), "step {i}: {action}");
    }
    fs::remove_file(sb.0.host_dir().join("reproduce.py")).unwrap();
    let submitted = run(&mut sb, &mut tools, Action::bash("submit")).await;
    assert_eq!(diff_shape(&submitted.observation), diff_shape(&obs(10)));
}

/// SWE-smith's pydantic run (SWE-agent 1.x tools): every `str_replace_editor` call replayed
/// from the real arguments gives the real observation, and the final diff is the submission.
#[tokio::test]
async fn swe_smith_str_replace_editor_run_matches_the_fixture() {
    let path = "swe-smith/tests/test_logs/trajectories/pydantic__pydantic.acb0f10f.pr_8316/pydantic__pydantic.acb0f10f.pr_8316.traj";
    let traj: Value = serde_json::from_str(&fs::read_to_string(support::fixtures().join(path)).unwrap()).unwrap();
    let history = traj["history"].as_array().unwrap();
    let observation = |i: usize| {
        let text = history[i]["content"][0]["text"].as_str().unwrap();
        text.strip_prefix("OBSERVATION:\n").unwrap().replace("\r\n", "\n")
    };
    // The module as the agent's first full `view` showed it.
    let view = observation(5);
    let module: Vec<&str> = view.lines().skip(1).map(|l| l.split_once('\t').map_or("", |(_, text)| text)).collect();
    // Its last numbered line is the empty piece after the final newline.
    let module = module.join("\n");
    let mut sb = HostOnly(work_tree("/testbed", &[("pydantic/alias_generators.py", &module)]));
    let mut tools = ToolBox::default();
    let mut replayed = 0;
    for (i, message) in history.iter().enumerate() {
        let Some(call) = message["tool_calls"].get(0) else { continue };
        if call["function"]["name"] != "str_replace_editor" {
            continue;
        }
        let args: serde_json::Map<String, Value> =
            serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
        let mut action = Action::new("str_replace_editor");
        for (key, value) in args {
            action = action.arg(key, value.as_str().map_or_else(|| value.to_string(), str::to_string));
        }
        assert_eq!(edit(&mut sb, &mut tools, action).await, observation(i + 1), "call at history[{i}]");
        replayed += 1;
    }
    assert_eq!(replayed, 9);
    for file in ["reproduce_error.py", "test_edge_cases.py"] {
        fs::remove_file(sb.0.host_dir().join(file)).unwrap();
    }
    let submitted = run(&mut sb, &mut tools, Action::new("submit")).await;
    assert_eq!(submitted.submitted.as_deref(), traj["info"]["submission"].as_str());
}

#[tokio::test]
async fn legacy_search_commands_use_swe_agent_texts() {
    let files = [
        ("src/a.py", "class Validator:\n    pass\nvalidator = Validator()\n"),
        ("src/sub/b.py", "from a import Validator\n"),
        ("src/.hidden.py", "Validator\n"),
        ("src/img.bin", "Validator\0\n"),
        ("README.md", "nothing here\n"),
    ];
    let mut sb = host_only(&files);
    let mut tools = ToolBox::new(true);
    macro_rules! bash {
        ($command:expr) => {
            run(&mut sb, &mut tools, Action::bash($command)).await.observation
        };
    }
    assert_eq!(
        bash!(r#"search_dir "Validator""#),
        "Found 3 matches for \"Validator\" in /testbed:\n/testbed/src/a.py (2 matches)\n/testbed/src/sub/b.py (1 matches)\nEnd of matches for \"Validator\" in /testbed\n"
    );
    assert_eq!(bash!("search_dir 'import V' src/sub"), "Found 1 matches for \"import V\" in /testbed/src/sub:\n/testbed/src/sub/b.py (1 matches)\nEnd of matches for \"import V\" in /testbed/src/sub\n");
    assert_eq!(bash!("search_dir zebra"), "No matches found for \"zebra\" in /testbed\n");
    assert_eq!(bash!("search_dir x nowhere"), "Directory nowhere not found\n");
    assert_eq!(bash!("search_dir"), "Usage: search_dir <search_term> [<dir>]\n");
    assert_eq!(bash!("search_file Validator"), "No file open. Use the open command first.\n");
    assert_eq!(
        bash!("search_file Validator src/a.py"),
        "Found 2 matches for \"Validator\" in /testbed/src/a.py:\nLine 1:class Validator:\nLine 3:validator = Validator()\nEnd of matches for \"Validator\" in /testbed/src/a.py\n"
    );
    assert_eq!(bash!("search_file x nope.py"), "Usage: search_file <search_term> [<file>]\nError: File name nope.py not found. Please provide a valid file name.\n");
    assert_eq!(bash!("find_file '*.py'"), "Found 3 matches for \"*.py\" in /testbed:\n/testbed/src/.hidden.py\n/testbed/src/a.py\n/testbed/src/sub/b.py\n");
    assert_eq!(
        bash!("find_file b.py src/sub"),
        "Found 1 matches for \"b.py\" in /testbed/src/sub:\n/testbed/src/sub/b.py\n"
    );
    assert_eq!(bash!("find_file nothing"), "No matches found for \"nothing\" in /testbed\n");
    assert!(bash!("find_file x.py | head").starts_with("The special command `find_file` must be run on its own"));
}

#[tokio::test]
async fn legacy_viewer_scrolls_goto_and_edit() {
    let text: String = (1..=250).map(|i| format!("l{i}\n")).collect();
    let mut sb = host_only(&[("big.txt", &text), ("d/x.txt", "x\n")]);
    let mut tools = ToolBox::new(true);
    macro_rules! bash {
        ($command:expr) => {
            run(&mut sb, &mut tools, Action::bash($command)).await.observation
        };
    }
    assert_eq!(bash!("goto 3"), "No file open. Use the open command first.\n");
    let first = bash!("open big.txt");
    assert!(
        first.starts_with("[File: /testbed/big.txt (250 lines total)]\n1:l1\n")
            && first.ends_with("100:l100\n(150 more lines below)\n")
    );
    let down = bash!("scroll_down");
    assert!(down.starts_with("[File: /testbed/big.txt (250 lines total)]\n(98 more lines above)\n99:l99\n"), "{down}");
    assert!(down.ends_with("198:l198\n(52 more lines below)\n"));
    assert!(bash!("scroll_down").contains("(150 more lines above)\n151:l151\n"));
    assert!(bash!("scroll_up").contains("(52 more lines above)\n53:l53\n"));
    assert!(bash!("goto 200").contains("(150 more lines above)\n151:l151\n"));
    assert_eq!(bash!("goto 300"), "Error: <line> must be less than or equal to 250\n");
    assert_eq!(bash!("goto x"), "Usage: goto <line>\nError: <line> must be a number\n");
    assert!(bash!("open big.txt 999").starts_with("Warning: <line_number> (999) is greater than the number of lines in the file (250)\nWarning: Setting <line_number> to 250\n[File:"));
    assert_eq!(
        bash!("open d"),
        "Error: d is a directory. You can only open files. Use cd or ls to navigate directories.\n"
    );
    assert_eq!(bash!("open nope.txt"), "File nope.txt not found\n");
    assert!(bash!("create big.txt")
        .starts_with("Error: File 'big.txt' already exists.\n[File: /testbed/big.txt (250 lines total)]\n"));
    bash!("open d/x.txt");
    assert_eq!(bash!("edit 1:1\nX\n  Y\nend_of_edit"), "[File: /testbed/d/x.txt (2 lines total)]\n1:X\n2:  Y\nFile updated. Please review the changes and make sure they are correct (correct indentation, no duplicate lines, etc). Edit the file again if necessary.\n");
    assert_eq!(bash!("edit 2:2\nend_of_edit").lines().next(), Some("[File: /testbed/d/x.txt (1 lines total)]"));
    assert_eq!(
        bash!("edit x:2\nend_of_edit"),
        "Usage: edit <start_line>:<end_line>\nError: start_line must be a number\n"
    );
    assert_eq!(bash!("edit 2\nend_of_edit"), "Usage: edit <start_line>:<end_line>\n");
    assert_eq!(sb.0.read_file("d/x.txt").unwrap(), "X\n");
}

#[tokio::test]
async fn other_tools_submit_think_and_unknown() {
    let mut sb = host_only(&[("a.py", SAMPLE)]);
    let mut tools = ToolBox::default();
    edit(
        &mut sb,
        &mut tools,
        editor("str_replace", "/testbed/a.py").arg("old_str", "import os").arg("new_str", "import sys"),
    )
    .await;
    let submitted = run(&mut sb, &mut tools, Action::new("submit")).await;
    let diff = submitted.submitted.clone().unwrap();
    assert!(diff.contains("-import os\n+import sys\n") && diff.starts_with("diff --git a/a.py b/a.py\n"), "{diff}");
    assert_eq!(submitted.observation, diff);
    assert_eq!(run(&mut sb, &mut tools, Action::new("finish")).await.submitted, Some(diff));
    assert_eq!(
        run(&mut sb, &mut tools, Action::new("think").arg("thought", "hm")).await.observation,
        "Your thought has been logged."
    );
    let unknown = run(&mut sb, &mut tools, Action::new("ipython").arg("code", "1")).await;
    assert_eq!(unknown.observation, "Tool `ipython` is not available in this environment. Available tools: bash, str_replace_editor, submit, finish, think.");
    assert_eq!(unknown.submitted, None);
    let no_command = edit(&mut sb, &mut tools, Action::new("str_replace_editor").arg("path", "/testbed/a.py")).await;
    assert_eq!(no_command, "Parameter `command` is required for the str_replace_editor tool.");
    let bad = edit(&mut sb, &mut tools, editor("delete", "/testbed/a.py")).await;
    assert!(bad.starts_with("Unrecognized command delete. The allowed commands for the str_replace_editor tool are:"));
}

fn local(files: &[(&str, &str)]) -> LocalSandbox {
    LocalSandbox::start(work_tree("/testbed", files)).unwrap()
}

/// SWE-agent and OpenHands keep one shell, so a `cd` holds for the next command; mini-swe-agent
/// runs each command in a fresh shell in the repository.
#[tokio::test]
async fn the_working_directory_persists_for_swe_agent_and_not_for_mini_swe_agent() {
    let mut sb = local(&[("a.py", SAMPLE), ("pkg/inside.txt", "x\n")]);
    for (format, where_after_cd) in
        [("swe-agent", "/testbed/pkg\n"), ("openhands", "/testbed/pkg\n"), ("mini-swe-agent", "/testbed\n")]
    {
        let mut tools = ToolBox::for_format(format);
        let moved = run(&mut sb, &mut tools, Action::bash("cd pkg")).await;
        assert_eq!((moved.observation.as_str(), moved.exit_code), (NO_OUTPUT, Some(0)), "{format}");
        let here = run(&mut sb, &mut tools, Action::bash("pwd; exit 4")).await;
        assert_eq!((here.observation.as_str(), here.exit_code), (where_after_cd, Some(4)), "{format}");
        // A failed `cd` leaves the shell where it was.
        let failed = run(&mut sb, &mut tools, Action::bash("cd nowhere 2>/dev/null; pwd")).await;
        assert_eq!(failed.observation, where_after_cd, "{format}");
    }
    sb.close().await.unwrap();
}

#[tokio::test]
async fn bash_runs_in_the_local_sandbox() {
    let mut sb = local(&[("a.py", SAMPLE)]);
    let mut tools = ToolBox::default();
    let out = run(&mut sb, &mut tools, Action::bash("cat a.py | head -1; exit 3")).await;
    assert_eq!((out.observation.as_str(), out.exit_code), ("import os\n", Some(3)));
    assert_eq!(out.exec.as_ref().map(|e| e.output.as_str()), Some("import os\n"));
    let quiet = run(&mut sb, &mut tools, Action::bash("touch made.txt")).await;
    assert_eq!((quiet.observation.as_str(), quiet.exit_code), (NO_OUTPUT, Some(0)));
    // Without the legacy flag, a 0.x command is just a shell command.
    let plain = run(&mut sb, &mut tools, Action::bash("goto 3")).await;
    assert_eq!(plain.exit_code, Some(127));
    assert_eq!(
        run(&mut sb, &mut tools, Action::new("execute_bash").arg("command", "echo hi")).await.observation,
        "hi\n"
    );
    let edited = run(
        &mut sb,
        &mut tools,
        editor("str_replace", "/testbed/a.py").arg("old_str", "import os").arg("new_str", "import re"),
    )
    .await;
    assert_eq!(edited.exit_code, Some(0));
    let seen = run(&mut sb, &mut tools, Action::bash("head -1 a.py && ls made.txt")).await;
    assert_eq!(seen.observation, "import re\nmade.txt\n");
    let diff = run(&mut sb, &mut tools, Action::new("submit")).await.submitted.unwrap();
    assert!(diff.contains("+import re\n") && diff.contains("made.txt"), "{diff}");
    sb.close().await.unwrap();
}
