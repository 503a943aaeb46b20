//! Mirrors stored without their `refs/` folder. A bare repository whose refs all live in
//! `packed-refs` has an empty `refs/`, and copies that drop empty folders (the fixtures'
//! shallow mirrors are stored so) leave a folder that neither git nor libgit2 takes for a
//! repository. Such a mirror is copied to a temporary folder with `refs/` put back; the
//! original is never written (it may be read-only).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::super::instance::Instance;

/// A folder of repositories to use instead of `repos` for `instance`, when its mirror there
/// lacks `refs/`: a temporary copy (removed when dropped) and the original mirror's path.
pub fn repaired(instance: &Instance, repos: &Path) -> Result<Option<(tempfile::TempDir, PathBuf)>> {
    let name = instance.repo.replace('/', "__");
    for candidate in [repos.join(format!("{name}.git")), repos.join(&name)] {
        let bare = candidate.join("HEAD").is_file() && candidate.join("objects").is_dir();
        if !bare || candidate.join("refs").exists() {
            continue;
        }
        let temp = tempfile::tempdir().context("cannot create a temporary folder")?;
        let copy = temp.path().join(candidate.file_name().unwrap_or_default());
        copy_dir(&candidate, &copy).with_context(|| format!("failed to copy {}", candidate.display()))?;
        fs::create_dir_all(copy.join("refs/heads")).with_context(|| format!("cannot write {}", copy.display()))?;
        fs::create_dir_all(copy.join("refs/tags")).with_context(|| format!("cannot write {}", copy.display()))?;
        return Ok(Some((temp, candidate)));
    }
    Ok(None)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_without_refs_is_copied_with_refs_and_a_whole_one_is_left_alone() {
        let repos = tempfile::tempdir().expect("temp dir");
        let mirror = repos.path().join("o__r.git");
        fs::create_dir_all(mirror.join("objects/pack")).expect("mkdir");
        fs::write(mirror.join("HEAD"), "ref: refs/heads/base\n").expect("write");
        let record = serde_json::json!({
            "repo": "o/r", "instance_id": "o__r-1", "base_commit": "0".repeat(40), "patch": "",
            "problem_statement": "", "FAIL_TO_PASS": [], "PASS_TO_PASS": [],
        });
        let instance = Instance::try_from(record).expect("instance");
        let (temp, original) = repaired(&instance, repos.path()).expect("copy").expect("repaired");
        assert_eq!(original, mirror);
        assert!(temp.path().join("o__r.git/refs/heads").is_dir() && temp.path().join("o__r.git/HEAD").is_file());
        assert!(!mirror.join("refs").exists(), "the original is not written");
        fs::create_dir_all(mirror.join("refs")).expect("mkdir");
        assert!(repaired(&instance, repos.path()).expect("check").is_none());
    }
}
