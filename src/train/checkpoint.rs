//! Checkpoints of a training run, so `--resume RUN_DIR` continues exactly where it stopped.
//!
//! `RUN_DIR/checkpoint/` is a complete Hugging Face model directory (`model.safetensors` in
//! f32 with any LoRA adapters merged, `config.json`, tokenizer files, `output_contract.json`:
//! the response prefix and chat template it was trained with) plus, with LoRA,
//! `adapter.safetensors`, and `optimizer.safetensors` (AdamW moments) and
//! `trainer.json` (stage, step, data cursors, how many metric lines belong to it). A new
//! checkpoint is written to `.checkpoint.tmp` and swapped in with renames, so a crash at any
//! moment leaves either the old or the new checkpoint whole. Sampling seeds derive from the
//! configured seed and the step, so no generator state needs saving.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::optim::AdamW;
use super::student::Student;
use crate::policy::contract::SavedContract;
use crate::policy::tokenizer::TextTokenizer;

/// Where training stands; saved with every checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Index of the current stage in the mode's stage list.
    pub stage: usize,
    /// Optimisation steps done in the current stage.
    pub stage_step: usize,
    /// Optimisation steps done in the whole run.
    pub global_step: usize,
    pub sft_cursor: usize,
    pub srl_cursor: usize,
    #[serde(default)]
    pub rlvr_cursor: usize,
    /// AdamW steps taken by the current stage's optimizer.
    pub optimizer_steps: usize,
    /// Evaluations done (`before`, `after-sft`, `after`), one `eval.jsonl` line each; like the
    /// `global_step` lines of `metrics.jsonl`, they are what a resume keeps.
    pub evals_done: Vec<String>,
    pub finished: bool,
}

pub fn checkpoint_dir(run: &Path) -> PathBuf {
    run.join("checkpoint")
}

/// The checkpoint to resume from: the current one, or the previous one when a crash happened
/// between the two renames of a swap.
pub fn existing_checkpoint(run: &Path) -> Option<PathBuf> {
    [checkpoint_dir(run), run.join(".checkpoint.old")].into_iter().find(|d| d.join("trainer.json").is_file())
}

pub fn load_state(checkpoint: &Path) -> Result<TrainerState> {
    let path = checkpoint.join("trainer.json");
    let text = fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a trainer state", path.display()))
}

/// Writes the weights, tokenizer, optimizer moments and trainer state as the run's checkpoint.
pub fn save(
    run: &Path,
    student: &Student,
    tokenizer: &TextTokenizer,
    contract: &SavedContract,
    optimizer: Option<&AdamW>,
    state: &TrainerState,
) -> Result<()> {
    let temp = run.join(".checkpoint.tmp");
    if temp.exists() {
        fs::remove_dir_all(&temp).with_context(|| format!("cannot remove {}", temp.display()))?;
    }
    student.save(&temp)?;
    tokenizer.save(&temp)?;
    crate::policy::contract::write(&temp, contract)?;
    if let Some(optimizer) = optimizer {
        optimizer.save(&temp.join("optimizer.safetensors"))?;
    }
    crate::atomic::write_file(&temp.join("trainer.json"), serde_json::to_string_pretty(state)?.as_bytes())?;
    let current = checkpoint_dir(run);
    let old = run.join(".checkpoint.old");
    if old.exists() {
        fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
    }
    if current.exists() {
        fs::rename(&current, &old).with_context(|| format!("cannot move {} aside", current.display()))?;
    }
    fs::rename(&temp, &current).with_context(|| format!("cannot move the new checkpoint to {}", current.display()))?;
    if old.exists() {
        fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
    }
    Ok(())
}

/// Keeps the first `lines` lines of a JSONL file (those that belong to the checkpoint being
/// resumed); later lines describe steps that will be redone.
pub fn truncate_lines(path: &Path, lines: usize) -> Result<()> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let kept: String = text.lines().take(lines).map(|l| format!("{l}\n")).collect();
    if kept != text {
        crate::atomic::write_file(path, kept.as_bytes())?;
    }
    Ok(())
}

/// Appends one JSON line to `path` and flushes it.
pub fn append_line<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    use std::io::Write;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut line = serde_json::to_string(value)?;
    line.push('\n');
    file.write_all(line.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_checkpointed_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        for k in 0..4 {
            append_line(&path, &serde_json::json!({ "step": k })).unwrap();
        }
        truncate_lines(&path, 2).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{\"step\":0}\n{\"step\":1}\n");
        truncate_lines(&dir.path().join("absent.jsonl"), 0).unwrap();
    }
}
