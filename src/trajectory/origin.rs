//! Where a trajectory's instance id comes from when its record does not name one.
//!
//! SWE-agent 0.x `.traj` files carry no instance id: the scaffold names the file
//! `<instance_id>.traj`. mini-swe-agent writes `trajs/<id>/<id>.traj.json` and OpenHands
//! `llm_completions/<id>/<model>-<time>.json`. Without the id, `srl replay` cannot match a real
//! run to its instance, so [`id_from_names`] takes it from the file name, else from the folder
//! name, and says which ([`IdSource`]).
//!
//! Only names shaped like an instance id count: SWE-bench's `<owner>__<repo>-<number>` (SWE-agent: `-i<number>` for a GitHub issue) and
//! SWE-smith's `<owner>__<repo>.<commit8>.<suffix>`. Run folders such as
//! `gpt4__swe-bench-dev-easy_first_only__default__t-0.00…` and demonstration files such as
//! `function_calling_simple.traj` therefore name nothing.
//!
//! Pure: the caller (`read`) passes the names in as data. The trajectory's `id` is not derived
//! from what is found here (ids stay as content-derived as they were).

use serde::{Deserialize, Serialize};

/// Where `instance_id` came from (`instance_id_source` in `srl.trajectory/1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdSource {
    /// The record itself names the instance.
    #[serde(rename = "record")]
    Record,
    /// The file is named `<instance_id>.traj` (or `.traj.json`, `.json`, …).
    #[serde(rename = "file name")]
    FileName,
    /// The file sits in a folder named after the instance (`trajs/<instance_id>/…`).
    #[serde(rename = "folder name")]
    FolderName,
}

/// The instance id named by a file's stem (its name without the trajectory extensions) or, when
/// the stem names none, by the folder holding it.
pub fn id_from_names(file_stem: &str, folder: Option<&str>) -> Option<(String, IdSource)> {
    if is_instance_id(file_stem) {
        return Some((file_stem.to_string(), IdSource::FileName));
    }
    let folder = folder.filter(|name| is_instance_id(name))?;
    Some((folder.to_string(), IdSource::FolderName))
}

/// `owner__repo-123` (SWE-bench) or `owner__repo.1a2b3c4d.suffix` (SWE-smith). The repository
/// part never holds `__`, which is what tells an id from a SWE-agent run folder.
pub fn is_instance_id(name: &str) -> bool {
    let Some((owner, rest)) = name.split_once("__") else {
        return false;
    };
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !word(owner) || !word(rest) {
        return false;
    }
    is_swe_bench_rest(rest) || is_swe_smith_rest(rest)
}

/// `repo-123`, or `repo-i123` (SWE-agent's id for a GitHub issue it was pointed at).
fn is_swe_bench_rest(rest: &str) -> bool {
    let Some((repo, number)) = rest.rsplit_once('-') else {
        return false;
    };
    let number = number.strip_prefix('i').unwrap_or(number);
    !repo.is_empty() && !repo.contains("__") && !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())
}

/// `repo.1a2b3c4d.suffix`.
fn is_swe_smith_rest(rest: &str) -> bool {
    let mut parts = rest.splitn(3, '.');
    let (Some(repo), Some(commit), Some(suffix)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !repo.is_empty()
        && !repo.contains("__")
        && commit.len() == 8
        && commit.chars().all(|c| c.is_ascii_hexdigit())
        && !suffix.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(file_stem: &str, folder: Option<&str>, expect: Option<(&str, IdSource)>) {
        let got = id_from_names(file_stem, folder);
        assert_eq!(got, expect.map(|(id, source)| (id.to_string(), source)), "{file_stem} in {folder:?}");
    }

    #[test]
    fn swe_agent_names_the_file_after_the_instance() {
        check("swe-agent__test-repo-i1", None, Some(("swe-agent__test-repo-i1", IdSource::FileName)));
        let run = "gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__c-3.00__install-1";
        check("pydicom__pydicom-1458", Some(run), Some(("pydicom__pydicom-1458", IdSource::FileName)));
        check(
            "pandas-dev__pandas.95280573.pr_53652",
            None,
            Some(("pandas-dev__pandas.95280573.pr_53652", IdSource::FileName)),
        );
    }

    #[test]
    fn a_folder_named_after_the_instance() {
        check(
            "litellm_proxy__claude-3-5-sonnet-20241022-1733344751.6975832",
            Some("django__django-11206"),
            Some(("django__django-11206", IdSource::FolderName)),
        );
        check(
            "0",
            Some("django-money__django-money.835c1ab8.combine_file__7znr0kum"),
            Some(("django-money__django-money.835c1ab8.combine_file__7znr0kum", IdSource::FolderName)),
        );
    }

    #[test]
    fn names_that_are_not_instance_ids() {
        let run = "replay__marshmallow-code__marshmallow-1867__default__t-0.20__p-0.95__c-2.00__install-1";
        check("function_calling_simple", Some("demonstrations"), None);
        check("humanevalfix-python-0", Some(run), None);
        check("basic", Some("trajs"), None);
        check("6e44b9__sweagenttestrepo-1c2844", None, None);
        check("__repo-1", None, None);
        check("owner__-1", None, None);
        check("owner__repo-", None, None);
        check("owner__repo-i", None, None);
        check("owner__repo 1-2", None, None);
        check("owner__repo.abc.x", None, None);
    }
}
