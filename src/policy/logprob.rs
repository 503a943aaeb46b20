//! Per-token log-probabilities of given completions under the current weights, differentiable:
//! what the GRPO loss is built from.
//!
//! Each row is `prompt ++ completion`, right-padded; one forward pass gives the logits at the
//! positions that predict a completion token (the prompt's other positions skip the output
//! projection), and the log-softmax at position t−1 is gathered at token t. Only ops with a
//! backward are used (log-softmax from max/exp/sum/log, gather), so gradients reach every
//! weight.

use anyhow::{bail, Result};
use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, D};

use super::model::Model;

/// Log-probs `[b, max_completion_len]` of each completion's tokens given its prompt, and the
/// mask `[b, max_completion_len]` (1 for a real completion token, 0 for padding), both f32.
pub fn completion_logprobs(model: &Model, prompts: &[Vec<u32>], completions: &[Vec<u32>]) -> Result<(Tensor, Tensor)> {
    completion_logprobs_at(model, prompts, completions, 1.0)
}

/// As `completion_logprobs`, under the distribution the sampler draws from at `temperature`
/// (logits divided by it; 0 means greedy, whose recorded log-probs are of the raw logits).
pub fn completion_logprobs_at(
    model: &Model,
    prompts: &[Vec<u32>],
    completions: &[Vec<u32>],
    temperature: f64,
) -> Result<(Tensor, Tensor)> {
    let rows = Rows::assemble(model, prompts, completions)?;
    let logits = model.forward_rows(&rows.input, Some(&rows.mask), &rows.positions)?;
    Ok(rows.token_logprobs(&logits, temperature)?)
}

/// The loss `loss_of(log-probs, mask)` of completions (as `completion_logprobs_at` gives them)
/// and its gradients for every weight. With `recompute`, activations are recomputed layer by
/// layer during the backward pass (`Model::backward_recomputed`), so memory stays bounded by
/// one layer; without it, one forward pass keeps every activation (faster, for large memories).
pub fn completion_loss_backward(
    model: &Model,
    prompts: &[Vec<u32>],
    completions: &[Vec<u32>],
    temperature: f64,
    recompute: bool,
    loss_of: &mut dyn FnMut(&Tensor, &Tensor) -> Result<Tensor>,
) -> Result<(f32, GradStore)> {
    let rows = Rows::assemble(model, prompts, completions)?;
    if !recompute {
        let logits = model.forward_rows(&rows.input, Some(&rows.mask), &rows.positions)?;
        let (logprobs, mask) = rows.token_logprobs(&logits, temperature)?;
        let loss = loss_of(&logprobs, &mask)?;
        let grads = loss.backward()?;
        return Ok((loss.to_dtype(DType::F32)?.to_scalar::<f32>()?, grads));
    }
    let mut failure = None;
    let result = model.backward_recomputed(&rows.input, Some(&rows.mask), Some(&rows.positions), &mut |logits| {
        let mut attempt = || -> Result<Tensor> {
            let (logprobs, mask) = rows.token_logprobs(logits, temperature)?;
            loss_of(&logprobs, &mask)
        };
        attempt().map_err(|e| {
            let message = format!("{e:#}");
            failure = Some(e);
            candle_core::Error::Msg(message)
        })
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let (loss, grads) = result?;
    Ok((loss.to_dtype(DType::F32)?.to_scalar::<f32>()?, grads))
}

/// A batch of `prompt ++ completion` rows, right-padded, with what is needed to pick each
/// completion token's log-prob out of the logits.
struct Rows {
    input: Tensor,
    mask: Tensor,
    /// `[b * out_len]`: the position of the flattened `[b * width]` that predicts each
    /// completion token (`Model::forward_rows`).
    positions: Tensor,
    out_len: usize,
    targets: Tensor,
    target_mask: Tensor,
}

impl Rows {
    fn assemble(model: &Model, prompts: &[Vec<u32>], completions: &[Vec<u32>]) -> Result<Rows> {
        if prompts.len() != completions.len() || prompts.is_empty() {
            bail!(
                "need one completion per prompt and at least one of each ({} prompts, {} completions)",
                prompts.len(),
                completions.len()
            );
        }
        if prompts.iter().any(Vec::is_empty) {
            bail!("every prompt needs at least one token");
        }
        let dev = model.device();
        let b = prompts.len();
        let width = prompts.iter().zip(completions).map(|(p, c)| p.len() + c.len()).max().unwrap_or(0);
        let out_len = completions.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let (mut ids, mut mask, mut positions, mut targets, mut target_mask) = (vec![], vec![], vec![], vec![], vec![]);
        for (row, (prompt, completion)) in prompts.iter().zip(completions).enumerate() {
            let real = prompt.len() + completion.len();
            ids.extend(prompt.iter().chain(completion).copied().chain(std::iter::repeat_n(0u32, width - real)));
            mask.extend(std::iter::repeat_n(1f32, real).chain(std::iter::repeat_n(0f32, width - real)));
            for k in 0..out_len {
                // The logits that predict completion token k sit at the position just before it.
                positions.push((row * width + (prompt.len() + k).min(width) - 1) as u32);
                targets.push(completion.get(k).copied().unwrap_or(0));
                target_mask.push(if k < completion.len() { 1f32 } else { 0f32 });
            }
        }
        Ok(Rows {
            input: Tensor::from_vec(ids, (b, width), dev)?,
            mask: Tensor::from_vec(mask, (b, width), dev)?,
            positions: Tensor::from_vec(positions, b * out_len, dev)?,
            out_len,
            targets: Tensor::from_vec(targets, (b, out_len, 1), dev)?,
            target_mask: Tensor::from_vec(target_mask, (b, out_len), dev)?,
        })
    }

    /// Masked per-token log-probs `[b, out_len]` and the mask, from the logits `[b * out_len,
    /// vocab]` at `positions`.
    fn token_logprobs(&self, logits: &Tensor, temperature: f64) -> candle_core::Result<(Tensor, Tensor)> {
        let (b, vocab) = (self.target_mask.dim(0)?, logits.dim(1)?);
        let picked = logits.to_dtype(DType::F32)?.reshape((b, self.out_len, vocab))?;
        let picked = if temperature > 0.0 && temperature != 1.0 { (picked / temperature)? } else { picked };
        let log_probs = candle_nn::ops::log_softmax(&picked, D::Minus1)?;
        let token_logprobs = log_probs.gather(&self.targets, D::Minus1)?.squeeze(D::Minus1)?;
        Ok(((token_logprobs * &self.target_mask)?, self.target_mask.clone()))
    }
}
