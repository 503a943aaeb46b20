//! What a checkpoint was trained to answer: its response prefix and chat template, saved
//! beside its weights (`output_contract.json`) so that `srl agent`, evaluation and a resumed or
//! continued training run prompt it as it was trained, unless told otherwise.
//!
//! The rules of the contract itself live in `reward::format`; this is only its record on disk.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// File name inside a Hugging Face model directory.
pub const FILE: &str = "output_contract.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedContract {
    /// Text prefilled after the prompt (e.g. `"<think>\n"`).
    pub response_prefix: String,
    /// The chat template prompts were rendered with (`chatml`, `qwen`); informational: the
    /// template itself is read from the tokenizer files beside it.
    pub chat_template: String,
}

/// The contract saved with the model at `model` (a directory), if any. A `.gguf` file or a
/// directory without the file has none; a file that exists but does not parse is an error.
pub fn read(model: &Path) -> Result<Option<SavedContract>> {
    let path = model.join(FILE);
    if !model.is_dir() || !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let contract = serde_json::from_str(&text).with_context(|| {
        format!("{}: expected {{\"response_prefix\": ..., \"chat_template\": ...}}", path.display())
    })?;
    Ok(Some(contract))
}

pub fn write(dir: &Path, contract: &SavedContract) -> Result<()> {
    crate::atomic::write_file(&dir.join(FILE), serde_json::to_string_pretty(contract)?.as_bytes())
}

/// Where a setting came from, for run summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Given on the command line or in the configuration.
    Given,
    /// Read from the model's `output_contract.json`.
    Checkpoint,
    /// Neither: the default (no prefix).
    Default,
}

/// The response prefix to use: `given` when set, else the model's saved one, else none.
pub fn resolve_prefix(given: Option<&str>, model: &Path) -> Result<(String, Origin)> {
    if let Some(prefix) = given {
        return Ok((prefix.to_string(), Origin::Given));
    }
    Ok(match read(model)? {
        Some(saved) => (saved.response_prefix, Origin::Checkpoint),
        None => (String::new(), Origin::Default),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_prefix_is_used_unless_one_is_given() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(resolve_prefix(None, dir.path()).unwrap(), (String::new(), Origin::Default));
        let saved = SavedContract { response_prefix: "<think>\n".into(), chat_template: "chatml".into() };
        write(dir.path(), &saved).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(saved));
        assert_eq!(resolve_prefix(None, dir.path()).unwrap(), ("<think>\n".to_string(), Origin::Checkpoint));
        assert_eq!(resolve_prefix(Some(""), dir.path()).unwrap(), (String::new(), Origin::Given));
        std::fs::write(dir.path().join(FILE), "{\"prefix\": 1}").unwrap();
        let error = format!("{:#}", read(dir.path()).unwrap_err());
        assert!(error.contains("output_contract.json: expected"), "{error}");
    }
}
