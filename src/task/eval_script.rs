//! The SWE-bench eval script (`make_eval_script_list_py` of the harness, v4.1.0) for one
//! instance, and the test plan an evaluation runs: the script plus the parser that reads its log.
//!
//! The script, run as `/bin/bash eval.sh` after the model patch is applied (the harness applies
//! it first: `git apply --verbose`, then `--reject`, then `patch --batch --fuzz=5 -p1 -i`,
//! [`MODEL_PATCH_COMMANDS`]): `set -uxo pipefail`; activate the environment; `cd` to the
//! repository; the spec's `eval_commands`; `git status`, `git show`, `git diff <base>` for the
//! record; `install` again; the test files reset to the base commit; the test patch applied from a
//! heredoc; the test command with its directives between the two markers (`set -x` writes them
//! to the log as `+ : '>>>>> Start Test Output'`); the test files reset again.
//!
//! `srl` additions: the instance's own `test_command` replaces the spec's command and directives
//! (a whole command, as `srl`'s tasks write it), and an instance without a spec then still gets a
//! script; an empty test patch (SWE-smith) skips the resets and the `git apply`, which would fail
//! on an empty patch. Everything from the patch that reaches the shell is checked or quoted:
//! a directive or test file outside the repository (`diff --git a/../x b/../x`) is refused.

use super::instance::Instance;
use super::log_parsers::Parser;
use super::spec::{DirectiveRule, Spec, Specs};

/// The harness's markers around the test output.
pub const START_MARKER: &str = ">>>>> Start Test Output";
pub const END_MARKER: &str = ">>>>> End Test Output";
const HEREDOC: &str = "EOF_114329324912";

/// How the harness applies the model patch (saved at `/tmp/patch.diff`) before the eval script,
/// each tried when the one before fails; all failing is `>>>>> Patch Apply Failed`.
pub const MODEL_PATCH_COMMANDS: [&str; 3] = [
    "git apply --verbose /tmp/patch.diff",
    "git apply --verbose --reject /tmp/patch.diff",
    "patch --batch --fuzz=5 -p1 -i /tmp/patch.diff",
];

/// File endings the harness drops from the directives (`csv` without its dot, as it is there).
const NON_TEST_EXTS: [&str; 11] =
    [".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml"];

/// What an evaluation runs for an instance and how it reads the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPlan {
    /// The eval script (`eval.sh`).
    pub script: String,
    /// The test line between the markers (command and directives).
    pub test_command: String,
    /// The spec's parser; `None` (an instance with its own `test_command` and no spec) leaves
    /// the choice to `log_parsers::detect`.
    pub parser: Option<Parser>,
}

/// The plan for `instance` with the repository at `repo_dir` in the sandbox: its spec's script
/// and parser, or, for an instance with a `test_command` and no spec, a script around that
/// command.
pub fn test_plan(instance: &Instance, specs: &Specs, repo_dir: &str) -> Result<TestPlan, String> {
    let spec = match specs.find(&instance.repo, &instance.version) {
        Ok(spec) => Some(spec),
        Err(_) if instance.test_command.is_some() => None,
        Err(e) => return Err(format!("{}: {e}", instance.instance_id)),
    };
    let test_command = test_line(instance, spec)?;
    let script = script(instance, spec, repo_dir, &test_command)?;
    Ok(TestPlan { script, test_command, parser: spec.map(|s| Parser::Swebench(s.log_parser)) })
}

/// The eval script for `instance` under `spec`.
pub fn eval_script(instance: &Instance, spec: &Spec, repo_dir: &str) -> Result<String, String> {
    script(instance, Some(spec), repo_dir, &test_line(instance, Some(spec))?)
}

/// The instance's `test_command`, or the spec's command with the test directives.
fn test_line(instance: &Instance, spec: Option<&Spec>) -> Result<String, String> {
    match (&instance.test_command, spec) {
        (Some(command), _) => Ok(command.clone()),
        (None, Some(spec)) => {
            let directives = test_directives(instance, spec)?;
            let words = std::iter::once(spec.test_cmd.clone()).chain(directives.iter().map(|d| quote(d)));
            Ok(words.collect::<Vec<_>>().join(" "))
        }
        (None, None) => Err(format!("{}: no spec and no test_command", instance.instance_id)),
    }
}

fn script(instance: &Instance, spec: Option<&Spec>, repo_dir: &str, test_command: &str) -> Result<String, String> {
    let base = checked_commit(&instance.base_commit).map_err(|e| format!("{}: {e}", instance.instance_id))?;
    let repo = quote(repo_dir);
    let activate = spec
        .and_then(|s| s.conda_env.as_deref())
        .map(|env| vec!["source /opt/miniconda3/bin/activate".to_string(), format!("conda activate {}", quote(env))]);
    let mut lines = vec!["#!/bin/bash".to_string(), "set -uxo pipefail".to_string()];
    lines.extend(activate.clone().unwrap_or_default());
    lines.push(format!("cd {repo}"));
    lines.extend(spec.map(|s| s.eval_commands.clone()).unwrap_or_default());
    lines.extend([
        format!("git config --global --add safe.directory {repo}"),
        format!("cd {repo}"),
        "git status".to_string(),
        "git show".to_string(),
        format!("git -c core.fileMode=false diff {base}"),
    ]);
    lines.extend(activate.unwrap_or_default());
    lines.extend(spec.and_then(|s| s.install.clone()));
    let patch = &instance.test_patch;
    let reset = if patch.trim().is_empty() {
        None
    } else {
        let files = test_files(patch).map_err(|e| format!("{}: test patch: {e}", instance.instance_id))?;
        let files: Vec<String> = files.iter().map(|f| quote(f)).collect();
        Some(format!("git checkout {base} {}", files.join(" ")))
    };
    if let Some(reset) = &reset {
        if patch.split('\n').any(|line| line == HEREDOC) {
            return Err(format!("{}: the test patch holds the heredoc delimiter {HEREDOC}", instance.instance_id));
        }
        lines.push(reset.clone());
        lines.push(format!("git apply -v - <<'{HEREDOC}'\n{patch}\n{HEREDOC}"));
    }
    lines.push(format!(": '{START_MARKER}'"));
    lines.push(test_command.to_string());
    lines.push(format!(": '{END_MARKER}'"));
    lines.extend(reset);
    Ok(lines.join("\n") + "\n")
}

/// The harness's `get_test_directives`: every `diff --git a/… b/<path>` of the test patch, minus
/// non-test files; Django module labels under [`DirectiveRule::Django`]. A path that leaves the
/// repository is an error.
pub fn test_directives(instance: &Instance, spec: &Spec) -> Result<Vec<String>, String> {
    let mut directives = Vec::new();
    for line in instance.test_patch.split('\n') {
        let Some(start) = line.find("diff --git a/") else { continue };
        let rest = &line[start + "diff --git a/".len()..];
        // `a/.* b/(.*)`: the greedy `.*` makes the path start after the last ` b/`.
        let Some(b) = rest.rfind(" b/") else { continue };
        let path = &rest[b + " b/".len()..];
        if NON_TEST_EXTS.iter().any(|ext| path.ends_with(ext)) {
            continue;
        }
        inside_repository(path).map_err(|e| format!("{}: test patch: {e}", instance.instance_id))?;
        directives.push(match spec.directives {
            DirectiveRule::Paths => path.to_string(),
            DirectiveRule::Django => django_label(path),
        });
    }
    Ok(directives)
}

/// `tests/a/b.py` → `a.b`.
fn django_label(path: &str) -> String {
    let path = path.strip_suffix(".py").unwrap_or(path);
    let path = path.strip_prefix("tests/").unwrap_or(path);
    path.replace('/', ".")
}

/// The files a patch modifies or deletes, not the ones it creates (unidiff's source files with
/// `a/` removed): what `git checkout <base> <files>` resets. Hunk bodies are skipped by their
/// line counts, so a removed line that reads `--- x` is not taken for a file header.
pub fn test_files(patch: &str) -> Result<Vec<String>, String> {
    let lines: Vec<&str> = patch.lines().collect();
    let mut files = Vec::new();
    let mut idx = 0;
    while idx < lines.len() {
        let line = lines[idx];
        if let Some((mut old, mut new)) = hunk_counts(line) {
            idx += 1;
            while (old > 0 || new > 0) && idx < lines.len() {
                match lines[idx].chars().next() {
                    Some('-') => old = old.saturating_sub(1),
                    Some('+') => new = new.saturating_sub(1),
                    Some('\\') => {}
                    _ => (old, new) = (old.saturating_sub(1), new.saturating_sub(1)),
                }
                idx += 1;
            }
            continue;
        }
        if let (Some(source), Some(true)) =
            (line.strip_prefix("--- "), lines.get(idx + 1).map(|next| next.starts_with("+++ ")))
        {
            let source = source.split('\t').next().unwrap_or_default().trim_end();
            if let Some(path) = source.strip_prefix("a/") {
                inside_repository(path).map_err(|e| format!("line {}: {e}", idx + 1))?;
                files.push(path.to_string());
            } else if source.starts_with('"') {
                return Err(format!("line {}: quoted file names are not supported: {source}", idx + 1));
            }
            idx += 2;
            continue;
        }
        idx += 1;
    }
    Ok(files)
}

/// `@@ -12,3 +12,4 @@` → (3, 4); a count left out is 1.
fn hunk_counts(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let count = |range: &str| -> Option<usize> {
        match range.split_once(',') {
            Some((_, n)) => n.parse().ok(),
            None => range.parse::<usize>().ok().map(|_| 1),
        }
    };
    Some((count(old)?, count(new)?))
}

/// A relative path that stays in the repository: no `..` component, not absolute, not empty.
fn inside_repository(path: &str) -> Result<(), String> {
    let escapes = path.is_empty()
        || path.starts_with('/')
        || path.contains('\0')
        || path.split('/').any(|component| component == "..");
    if escapes {
        return Err(format!("the path `{path}` leaves the repository; refusing to run tests for it"));
    }
    Ok(())
}

/// A commit id is written into the script unquoted, so it may only hold what a ref can.
fn checked_commit(commit: &str) -> Result<&str, String> {
    let ok = !commit.is_empty()
        && !commit.starts_with('-')
        && commit.chars().all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if ok {
        Ok(commit)
    } else {
        Err(format!("base_commit `{commit}` is not a commit id"))
    }
}

/// `word` for bash: as it is when it only holds safe characters (every real test path), else
/// in single quotes.
pub(crate) fn quote(word: &str) -> String {
    let safe = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:=+,@%".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(repo: &str, test_patch: &str, test_command: Option<&str>) -> Instance {
        let value = serde_json::json!({
            "repo": repo, "instance_id": "o__r-1", "base_commit": "abc123", "patch": "p", "problem_statement": "s",
            "version": "1.0", "test_patch": test_patch, "FAIL_TO_PASS": [], "PASS_TO_PASS": [],
            "test_command": test_command,
        });
        Instance::try_from(value).expect("instance")
    }

    fn specs(directives: &str, conda_env: &str) -> Specs {
        let text = format!(
            "[[spec]]\nrepo = \"o/r\"\nversions = [\"1.0\"]\npython = \"3.9\"\ntest_cmd = \"pytest -rA\"\n\
             log_parser = \"pytest\"\nsource = \"memory\"\ndirectives = \"{directives}\"\nconda_env = \"{conda_env}\"\n\
             install = \"pip install -e .\"\neval_commands = [\"export LANG=C.UTF-8\"]\n"
        );
        Specs::parse(&text, "specs.toml").expect("specs")
    }

    fn diff(path: &str) -> String {
        format!("diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-x\n+y\n")
    }

    fn directives(repo_rule: &str, patch: &str) -> Result<Vec<String>, String> {
        let specs = specs(repo_rule, "");
        test_directives(&instance("o/r", patch, None), specs.find("o/r", "1.0").expect("spec"))
    }

    #[test]
    fn directives_drop_non_test_files_and_make_django_labels() {
        let patch = [diff("tests/a/test_b.py"), diff("tests/data.json"), diff("docs/x.md"), diff("t/c.csv")].concat();
        assert_eq!(directives("paths", &patch), Ok(vec!["tests/a/test_b.py".to_string()]));
        let patch = [diff("tests/sitemaps_tests/test_http.py"), diff("tests/sitemaps_tests/urls/http.py")].concat();
        assert_eq!(
            directives("django", &patch),
            Ok(vec!["sitemaps_tests.test_http".to_string(), "sitemaps_tests.urls.http".to_string()])
        );
    }

    #[test]
    fn directives_outside_the_repository_are_refused() {
        assert_eq!(
            directives("paths", &diff("../x")),
            Err("o__r-1: test patch: the path `../x` leaves the repository; refusing to run tests for it".to_string())
        );
        assert!(directives("paths", "diff --git a/x b//etc/passwd\n").is_err());
        assert!(directives("django", "diff --git a/t b/tests/../../x.py\n").is_err());
    }

    #[test]
    fn test_files_are_the_modified_ones_and_hunk_bodies_are_not_headers() {
        let created =
            "diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+x\n";
        let tricky = "--- a/q.sql\n+++ b/q.sql\n@@ -1,3 +1,2 @@\n a\n--- a/fake.sql\n+++ b/fake.sql\n";
        let patch = [diff("tests/t.py"), created.to_string(), tricky.to_string()].concat();
        assert_eq!(test_files(&patch), Ok(vec!["tests/t.py".to_string(), "q.sql".to_string()]));
        assert_eq!(
            test_files("--- a/../../etc/passwd\n+++ b/x\n"),
            Err("line 1: the path `../../etc/passwd` leaves the repository; refusing to run tests for it".to_string())
        );
    }

    #[test]
    fn script_follows_the_harness_order() {
        let specs = specs("paths", "testbed");
        let plan = test_plan(&instance("o/r", &diff("tests/test_x.py"), None), &specs, "/testbed").expect("plan");
        assert_eq!(plan.parser, Some(Parser::Swebench(crate::task::log_parsers::swebench::Harness::Pytest)));
        assert_eq!(plan.test_command, "pytest -rA tests/test_x.py");
        let expect = "#!/bin/bash\nset -uxo pipefail\nsource /opt/miniconda3/bin/activate\nconda activate testbed\n\
            cd /testbed\nexport LANG=C.UTF-8\ngit config --global --add safe.directory /testbed\ncd /testbed\n\
            git status\ngit show\ngit -c core.fileMode=false diff abc123\nsource /opt/miniconda3/bin/activate\n\
            conda activate testbed\npip install -e .\ngit checkout abc123 tests/test_x.py\n\
            git apply -v - <<'EOF_114329324912'\ndiff --git a/tests/test_x.py b/tests/test_x.py\n\
            --- a/tests/test_x.py\n+++ b/tests/test_x.py\n@@ -1 +1 @@\n-x\n+y\n\nEOF_114329324912\n\
            : '>>>>> Start Test Output'\npytest -rA tests/test_x.py\n: '>>>>> End Test Output'\n\
            git checkout abc123 tests/test_x.py\n";
        assert_eq!(plan.script, expect);
    }

    #[test]
    fn test_command_overrides_and_needs_no_spec() {
        let own = instance("me/tasks", "", Some("python3 -m pytest -rA tests/test_a.py"));
        let plan = test_plan(&own, &specs("paths", "testbed"), "/repo").expect("plan");
        assert_eq!((plan.parser, plan.test_command.as_str()), (None, "python3 -m pytest -rA tests/test_a.py"));
        assert!(!plan.script.contains("conda") && !plan.script.contains("git apply"), "{}", plan.script);
        let overridden = instance("o/r", &diff("tests/test_x.py"), Some("pytest -x tests"));
        assert_eq!(test_plan(&overridden, &specs("paths", ""), "/r").expect("plan").test_command, "pytest -x tests");
        let unknown = instance("x/y", "", None);
        assert!(test_plan(&unknown, &specs("paths", ""), "/r").unwrap_err().starts_with("o__r-1: no SWE-bench spec"));
    }

    #[test]
    fn odd_names_are_quoted_and_odd_commits_refused() {
        assert_eq!(quote("tests/a b.py"), "'tests/a b.py'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("tests/test_x.py"), "tests/test_x.py");
        let mut bad = instance("o/r", "", None);
        bad.base_commit = "abc; rm -rf /".to_string();
        let specs = specs("paths", "");
        assert_eq!(
            eval_script(&bad, specs.find("o/r", "1.0").expect("spec"), "/r"),
            Err("o__r-1: base_commit `abc; rm -rf /` is not a commit id".to_string())
        );
    }
}
