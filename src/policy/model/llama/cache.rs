//! The key/value cache of incremental decoding.

use candle_core::{bail, Result, Tensor};

/// Past keys and values of every layer for one batch, and each sequence's next position.
/// Cached tensors are detached: gradients never flow through the cache.
pub struct Cache {
    pub(super) layers: Vec<Option<(Tensor, Tensor)>>,
    /// `[b, past_len]`, 1 for a real token, 0 for padding.
    pub(super) key_mask: Option<Tensor>,
    /// Real tokens seen so far per sequence, i.e. the position of its next real token.
    pub(super) next_positions: Vec<u32>,
}

impl Cache {
    /// Keys cached so far, padding included.
    pub fn past_len(&self) -> usize {
        self.key_mask.as_ref().map_or(0, |m| m.dims().get(1).copied().unwrap_or(0))
    }

    /// The position of each sequence's next real token (empty before the first call).
    pub fn next_positions(&self) -> &[u32] {
        &self.next_positions
    }

    /// Makes row `i` of the batch a copy of row `rows[i]`: a prompt prefilled once can then
    /// continue as many sequences (GRPO samples a group of completions from one prompt).
    pub fn repeat_rows(&mut self, rows: &[usize]) -> Result<()> {
        let held = self.next_positions.len();
        if let Some(bad) = rows.iter().find(|&&r| r >= held) {
            bail!("cannot repeat row {bad} of a cache that holds {held} sequences")
        }
        let Some(mask) = &self.key_mask else { bail!("cannot repeat the rows of an empty cache") };
        let index = Tensor::from_vec(rows.iter().map(|&r| r as u32).collect(), rows.len(), mask.device())?;
        self.key_mask = Some(mask.contiguous()?.index_select(&index, 0)?);
        for (k, v) in self.layers.iter_mut().flatten() {
            (*k, *v) = (k.contiguous()?.index_select(&index, 0)?, v.contiguous()?.index_select(&index, 0)?);
        }
        self.next_positions = rows.iter().map(|&r| self.next_positions[r]).collect();
        Ok(())
    }
}
