//! Models named by their Hugging Face Hub id (`HuggingFaceTB/SmolLM2-135M-Instruct`), found
//! offline in the local Hub cache, the layout `huggingface_hub` writes:
//! `<cache>/models--<org>--<name>/refs/<revision>` holds a commit hash, and
//! `<cache>/models--<org>--<name>/snapshots/<hash>/` the files. The cache is `HF_HUB_CACHE`,
//! else `HF_HOME/hub`, else `~/.cache/huggingface/hub` (`XDG_CACHE_HOME` respected).
//! Nothing is downloaded: a model missing from the cache is an error listing where we looked.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// The model `spec` names: the path itself when it exists, else the snapshot of the Hub id
/// `spec` at `revision` (default `main`; a commit hash works too) in the local cache.
pub fn resolve(spec: &Path, revision: Option<&str>) -> Result<PathBuf> {
    resolve_with(spec, revision, &|key| std::env::var_os(key).map(PathBuf::from))
}

/// [`resolve`] with the environment given, for tests.
pub fn resolve_with(spec: &Path, revision: Option<&str>, env: &dyn Fn(&str) -> Option<PathBuf>) -> Result<PathBuf> {
    if spec.exists() {
        return Ok(spec.to_path_buf());
    }
    let text = spec.to_string_lossy();
    let Some((org, name)) = hub_id(&text) else {
        bail!("no such file or directory (expected a .gguf file, a Hugging Face model directory or a Hub id Org/Name)");
    };
    let revision = revision.unwrap_or("main");
    let caches = cache_dirs(env);
    let mut looked = Vec::new();
    for cache in &caches {
        let repo = cache.join(format!("models--{org}--{name}"));
        let hash = match std::fs::read_to_string(repo.join("refs").join(revision)) {
            Ok(hash) => hash.trim().to_string(),
            Err(_) => revision.to_string(),
        };
        let snapshot = repo.join("snapshots").join(&hash);
        if snapshot.is_dir() && !hash.contains('/') {
            return Ok(snapshot);
        }
        looked.push(format!("{} (revision {revision})", snapshot.display()));
    }
    bail!(
        "no such file or directory, and not in the local Hugging Face cache: looked in {} (srl never \
         downloads: fetch it with `huggingface-cli download {text}` where a network is, or pass a path)",
        looked.join(", ")
    )
}

/// `Org/Name` when `text` has that shape and nothing path-like about it.
fn hub_id(text: &str) -> Option<(&str, &str)> {
    if text.ends_with(".gguf") {
        return None;
    }
    let (org, name) = text.split_once('/')?;
    let part = |s: &str| {
        !s.is_empty() && s != "." && s != ".." && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    (part(org) && part(name)).then_some((org, name))
}

/// Where the Hub cache may be, in the order `huggingface_hub` looks.
fn cache_dirs(env: &dyn Fn(&str) -> Option<PathBuf>) -> Vec<PathBuf> {
    if let Some(dir) = env("HF_HUB_CACHE").or_else(|| env("HUGGINGFACE_HUB_CACHE")) {
        return vec![dir];
    }
    if let Some(home) = env("HF_HOME") {
        return vec![home.join("hub")];
    }
    let cache = env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|h| h.join(".cache")));
    cache.map(|c| vec![c.join("huggingface").join("hub")]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_id_resolves_to_its_snapshot_in_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("hub/models--Org--Tiny-1");
        std::fs::create_dir_all(repo.join("snapshots/abc123")).unwrap();
        std::fs::create_dir_all(repo.join("snapshots/def456")).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "abc123\n").unwrap();
        let home = dir.path().to_path_buf();
        let env = move |key: &str| (key == "HF_HOME").then(|| home.clone());
        let spec = Path::new("Org/Tiny-1");
        assert_eq!(resolve_with(spec, None, &env).unwrap(), repo.join("snapshots/abc123"));
        assert_eq!(resolve_with(spec, Some("def456"), &env).unwrap(), repo.join("snapshots/def456"));
        let missing = format!("{:#}", resolve_with(Path::new("Org/Other"), None, &env).unwrap_err());
        assert!(missing.contains("not in the local Hugging Face cache: looked in"), "{missing}");
        assert!(missing.contains("hub/models--Org--Other/snapshots/main"), "{missing}");
        let not_an_id = format!("{:#}", resolve_with(Path::new("models/x.gguf"), None, &env).unwrap_err());
        assert!(not_an_id.contains("no such file or directory"), "{not_an_id}");
        assert_eq!(resolve_with(dir.path(), None, &env).unwrap(), dir.path(), "an existing path is itself");
    }
}
