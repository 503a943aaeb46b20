//! The SWE-bench spec table: per repository and version, how the harness builds the environment
//! and how it runs and reads the tests (`sandboxes/swe-specs.toml`, embedded in the binary).
//!
//! Real SWE-bench instances carry no test command: the harness looks the instance's `repo` and
//! `version` up in its constants. This module is that lookup, as data: the embedded table covers
//! the 12 SWE-bench repositories and the dev-set repositories of the fixtures, and a user file
//! can add entries or replace entries for the same repository and version
//! ([`Specs::with_overrides`]). The file's header documents every field and how sure each entry
//! is (`source`).
//!
//! Pure except for [`Specs::load`], which reads the override file. Turning a spec into the eval
//! script is `task::eval_script`.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use super::log_parsers::swebench::Harness;

/// The table shipped with `srl`.
const BUILTIN: &str = include_str!("../../sandboxes/swe-specs.toml");
const BUILTIN_NAME: &str = "sandboxes/swe-specs.toml (built in)";

/// How the test directives are made from the test patch's file names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectiveRule {
    /// The test files themselves (`tests/test_x.py`).
    #[default]
    Paths,
    /// Django's runner takes module labels: `tests/a/b.py` becomes `a.b`.
    Django,
}

/// How sure an entry is: checked against the harness's documented values, or recalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    Doc,
    Memory,
}

/// What replaces the downloads a repository's tests make at run time (not part of SWE-bench).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offline {
    #[serde(default)]
    pub pip: Vec<String>,
    #[serde(default)]
    pub commands: Vec<String>,
}

/// One entry of the table: a repository at one or more versions. Field docs are in the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub repo: String,
    pub versions: Vec<String>,
    pub python: String,
    #[serde(default)]
    pub conda_packages: Vec<String>,
    #[serde(default)]
    pub requirements: Vec<String>,
    #[serde(default)]
    pub environment_yml: Vec<String>,
    #[serde(default)]
    pub no_use_env: bool,
    #[serde(default)]
    pub pip_packages: Vec<String>,
    #[serde(default)]
    pub pre_install: Vec<String>,
    pub install: Option<String>,
    #[serde(default)]
    pub eval_commands: Vec<String>,
    pub test_cmd: String,
    pub log_parser: Harness,
    #[serde(default)]
    pub directives: DirectiveRule,
    /// The conda environment the eval script activates; `None` activates nothing.
    pub conda_env: Option<String>,
    #[serde(default)]
    pub extra_pip: Vec<String>,
    #[serde(default)]
    pub offline: Offline,
    pub source: Certainty,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default)]
    harness: Defaults,
    #[serde(default)]
    spec: Vec<Spec>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    conda_env: Option<String>,
}

/// The whole table.
#[derive(Debug, Clone)]
pub struct Specs {
    entries: Vec<Spec>,
    /// `[harness] conda_env`, which an override file without its own inherits.
    default_env: Option<String>,
}

impl Specs {
    /// The embedded table.
    pub fn builtin() -> Specs {
        Specs::parse(BUILTIN, BUILTIN_NAME).expect("the embedded spec table is checked by the tests")
    }

    /// The embedded table, with the entries of `overrides` (a TOML file) on top.
    pub fn load(overrides: Option<&Path>) -> Result<Specs> {
        let Some(path) = overrides else {
            return Ok(Specs::builtin());
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))?;
        Specs::builtin().with_overrides(&text, &path.display().to_string()).map_err(anyhow::Error::msg)
    }

    /// Parses a table; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Specs, String> {
        let (mut entries, default_env) = parse_entries(text, file)?;
        resolve_envs(&mut entries, default_env.as_deref());
        Ok(Specs { entries, default_env })
    }

    /// This table with `text`'s entries added; an entry for a repository and version this table
    /// has replaces it for that version.
    /// An override file without a `[harness]` table keeps this table's default environment.
    pub fn with_overrides(mut self, text: &str, file: &str) -> Result<Specs, String> {
        let (mut overrides, default_env) = parse_entries(text, file)?;
        resolve_envs(&mut overrides, default_env.as_deref().or(self.default_env.as_deref()));
        for spec in &mut self.entries {
            spec.versions.retain(|v| !overrides.iter().any(|o| o.repo == spec.repo && o.versions.contains(v)));
        }
        self.entries.retain(|spec| !spec.versions.is_empty());
        self.entries.extend(overrides);
        Ok(self)
    }

    /// The entry for `repo` at `version`; the error lists what is known instead.
    pub fn find(&self, repo: &str, version: &str) -> Result<&Spec, String> {
        let of_repo: Vec<&Spec> = self.entries.iter().filter(|s| s.repo == repo).collect();
        if of_repo.is_empty() {
            let mut repos: Vec<&str> = self.entries.iter().map(|s| s.repo.as_str()).collect();
            repos.sort();
            repos.dedup();
            return Err(format!(
                "no SWE-bench spec for repository `{repo}` (known: {}); add one in a spec file, or give the \
                 instance a test_command",
                repos.join(", ")
            ));
        }
        of_repo.iter().find(|s| s.versions.iter().any(|v| v == version)).copied().ok_or_else(|| {
            let versions: Vec<&str> = of_repo.iter().flat_map(|s| s.versions.iter().map(String::as_str)).collect();
            format!("no SWE-bench spec for {repo} version `{version}` (known versions: {})", versions.join(", "))
        })
    }

    pub fn entries(&self) -> &[Spec] {
        &self.entries
    }
}

/// The entries of a spec file, checked, with `conda_env` as written, and the file's default.
fn parse_entries(text: &str, file: &str) -> Result<(Vec<Spec>, Option<String>), String> {
    let parsed: SpecFile = toml::from_str(text).map_err(|e| format!("{file}: {}", e.to_string().trim_end()))?;
    let entries = parsed.spec;
    for (idx, spec) in entries.iter().enumerate() {
        let place = || format!("{file}: line {}: [[spec]] for {}", entry_line(text, idx), spec.repo);
        if spec.versions.is_empty() {
            return Err(format!("{}: `versions` is empty", place()));
        }
        if spec.test_cmd.trim().is_empty() {
            return Err(format!("{}: `test_cmd` is empty", place()));
        }
        for version in &spec.versions {
            let earlier = entries[..idx].iter().position(|e| e.repo == spec.repo && e.versions.contains(version));
            if let Some(earlier) = earlier {
                return Err(format!(
                    "{file}: line {}: {} version {version} already has an entry (line {})",
                    entry_line(text, idx),
                    spec.repo,
                    entry_line(text, earlier)
                ));
            }
        }
    }
    Ok((entries, parsed.harness.conda_env))
}

/// An entry without `conda_env` takes the default; `conda_env = ""` means no environment.
fn resolve_envs(entries: &mut [Spec], default_env: Option<&str>) {
    for spec in entries {
        let env = spec.conda_env.take().or_else(|| default_env.map(str::to_string));
        spec.conda_env = env.filter(|e| !e.is_empty());
    }
}

/// The 1-based line of the `idx`-th `[[spec]]` header, for errors about a whole entry.
fn entry_line(text: &str, idx: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with("[[spec]]"))
        .nth(idx)
        .map_or(0, |(n, _)| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "[[spec]]\nrepo = \"o/r\"\nversions = [\"1.0\"]\npython = \"3.9\"\ntest_cmd = \"pytest -rA\"\n\
                         log_parser = \"pytest\"\nsource = \"memory\"\n";

    /// The error's first and last lines (toml's errors quote the line between them).
    fn check_error(text: &str, expect: &str) {
        let error = Specs::parse(text, "specs.toml").expect_err("a malformed file");
        let lines: Vec<&str> = error.lines().collect();
        let summary = match lines.as_slice() {
            [only] => only.to_string(),
            [first, .., last] => format!("{first} … {last}"),
            [] => String::new(),
        };
        assert_eq!(summary, expect);
    }

    #[test]
    fn builtin_table_covers_the_fixture_instances_and_swe_bench() {
        let specs = Specs::builtin();
        for (repo, version) in [
            ("pytest-dev/pytest", "8.0"),
            ("pydicom/pydicom", "2.2"),
            ("pydicom/pydicom", "2.0"),
            ("pylint-dev/astroid", "2.9"),
            ("sqlfluff/sqlfluff", "0.8"),
            ("marshmallow-code/marshmallow", "3.0"),
            ("django/django", "4.2"),
            ("sympy/sympy", "1.1"),
            ("scikit-learn/scikit-learn", "0.21"),
            ("pallets/flask", "2.3"),
            ("astropy/astropy", "1.3"),
            ("astropy/astropy", "4.3"),
            ("psf/requests", "2.0"),
            ("matplotlib/matplotlib", "3.5"),
            ("mwaskom/seaborn", "0.12"),
            ("sphinx-doc/sphinx", "4.4"),
            ("pylint-dev/pylint", "2.15"),
            ("pydata/xarray", "2022.06"),
            ("pvlib/pvlib-python", "0.9"),
            ("pyvista/pyvista", "0.38"),
        ] {
            let spec = specs.find(repo, version).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(spec.conda_env.as_deref(), Some("testbed"), "{repo} {version}");
        }
        let pydicom = specs.find("pydicom/pydicom", "2.2").expect("pydicom 2.2");
        assert_eq!((pydicom.log_parser, pydicom.source), (Harness::PytestOptions, Certainty::Doc));
        assert_eq!(
            (pydicom.offline.pip.as_slice(), pydicom.extra_pip.as_slice()),
            (&["pydicom-data".to_string()][..], &["numpy<2".to_string()][..])
        );
        assert_eq!(specs.find("django/django", "3.0").expect("django").directives, DirectiveRule::Django);
    }

    #[test]
    fn unknown_repository_and_version_say_what_is_known() {
        let specs = Specs::parse(ENTRY, "specs.toml").expect("parses");
        assert_eq!(
            specs.find("x/y", "1.0").unwrap_err(),
            "no SWE-bench spec for repository `x/y` (known: o/r); add one in a spec file, or give the instance a \
             test_command"
        );
        assert_eq!(
            specs.find("o/r", "2.0").unwrap_err(),
            "no SWE-bench spec for o/r version `2.0` (known versions: 1.0)"
        );
    }

    #[test]
    fn malformed_files_name_the_line() {
        check_error(
            &ENTRY.replace("log_parser = \"pytest\"", "log_parser = \"nose\""),
            "specs.toml: TOML parse error at line 6, column 14 … unknown variant `nose`, expected one of `pytest`, \
             `pytest_options`, `pytest_v2`, `django`, `sympy`, `seaborn`, `matplotlib`",
        );
        check_error(
            &ENTRY.replace("python", "pyhton"),
            "specs.toml: TOML parse error at line 4, column 1 … unknown field `pyhton`, expected one of `repo`, \
             `versions`, `python`, `conda_packages`, `requirements`, `environment_yml`, `no_use_env`, \
             `pip_packages`, `pre_install`, `install`, `eval_commands`, `test_cmd`, `log_parser`, `directives`, \
             `conda_env`, `extra_pip`, `offline`, `source`",
        );
        check_error(&format!("{ENTRY}\n{ENTRY}"), "specs.toml: line 9: o/r version 1.0 already has an entry (line 1)");
        check_error(&ENTRY.replace("[\"1.0\"]", "[]"), "specs.toml: line 1: [[spec]] for o/r: `versions` is empty");
    }

    #[test]
    fn overrides_replace_one_version_and_keep_the_others() {
        let two = ENTRY.replace("[\"1.0\"]", "[\"1.0\", \"1.1\"]");
        let specs = Specs::parse(&two, "builtin")
            .expect("parses")
            .with_overrides(&ENTRY.replace("pytest -rA", "pytest -x").replace("\"memory\"", "\"doc\""), "mine.toml")
            .expect("overrides");
        assert_eq!(specs.find("o/r", "1.0").expect("1.0").test_cmd, "pytest -x");
        assert_eq!(specs.find("o/r", "1.1").expect("1.1").test_cmd, "pytest -rA");
        assert_eq!(specs.find("o/r", "1.0").expect("1.0").conda_env, None);
        let builtin = Specs::builtin();
        let inherits = builtin.clone().with_overrides(ENTRY, "mine.toml").expect("overrides");
        assert_eq!(inherits.find("o/r", "1.0").expect("1.0").conda_env.as_deref(), Some("testbed"));
        let none = builtin.with_overrides(&format!("{ENTRY}conda_env = \"\"\n"), "mine.toml").expect("overrides");
        assert_eq!(none.find("o/r", "1.0").expect("1.0").conda_env, None);
    }
}
