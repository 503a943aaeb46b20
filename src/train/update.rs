//! One optimisation step on a batch: for GRPO, recompute the log-probs of sampled completions
//! under the current weights, take the clipped loss against the sampling-time log-probs (plus an
//! optional KL penalty to the initial policy); for SFT, the mean negative log-likelihood of the
//! expert's responses. Then back-propagate, clip the gradient norm, and step AdamW.

use anyhow::{Context, Result};
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor};
use candle_nn::VarMap;

use super::loss::{policy_loss, LossConfig};
use super::optim::AdamW;
use crate::policy::logprob::completion_loss_backward;
use crate::policy::model::Model;

/// Rollouts of a batch, as sampled: prompt ids, completion ids, their sampling-time log-probs,
/// and each rollout's advantage. `reference_logprobs`, when present, are the initial policy's
/// log-probs of the same tokens (for the KL penalty).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub prompts: Vec<Vec<u32>>,
    pub completions: Vec<Vec<u32>>,
    pub old_logprobs: Vec<Vec<f32>>,
    pub advantages: Vec<f32>,
    pub reference_logprobs: Option<Vec<Vec<f32>>>,
}

/// The defaults are those of `srl train`'s `[srl]` section, one rollout per pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateOptions {
    pub loss: LossConfig,
    pub max_grad_norm: f64,
    /// The sampling temperature: log-probs are recomputed under the same distribution.
    pub temperature: f64,
    /// Weight of the k3 KL estimate to the reference log-probs (0 = no penalty).
    pub kl_coef: f64,
    /// Rollouts per forward/backward pass; gradients are accumulated over the batch.
    pub micro_batch: usize,
    /// Recompute activations layer by layer in the backward pass (bounded memory, one more
    /// forward pass) instead of keeping them all.
    pub recompute: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            loss: LossConfig { clip: 0.2, token_level: true },
            max_grad_norm: 1.0,
            temperature: 1.0,
            kl_coef: 0.0,
            micro_batch: 1,
            recompute: true,
        }
    }
}

/// How an SFT step back-propagates: see the fields of the same names in [`UpdateOptions`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SftOptions {
    pub max_grad_norm: f64,
    pub micro_batch: usize,
    pub recompute: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateStats {
    pub loss: f32,
    /// Gradient norm before clipping.
    pub grad_norm: f32,
}

/// Scales every gradient so that their joint L2 norm is at most `max_norm`; returns the norm
/// before scaling.
fn clip_grad_norm(varmap: &VarMap, grads: &mut GradStore, max_norm: f64) -> Result<f32> {
    // Summed on the device (one copy to the host, not one per variable) in f64: the variables
    // come in hash-map order, and the norm must not depend on it (resume is exact).
    let mut total: Option<Tensor> = None;
    for var in varmap.all_vars() {
        if let Some(grad) = grads.get(var.as_tensor()) {
            let square = grad.sqr()?.sum_all()?.to_dtype(candle_core::DType::F64)?;
            total = Some(match total {
                Some(t) => (t + square)?,
                None => square,
            });
        }
    }
    let total = match total {
        Some(t) => t.to_scalar::<f64>()?,
        None => 0.0,
    };
    let norm = total.sqrt();
    if norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        for var in varmap.all_vars() {
            if let Some(grad) = grads.remove(var.as_tensor()) {
                grads.insert(var.as_tensor(), (grad * scale)?);
            }
        }
    }
    Ok(norm as f32)
}

/// Rows of per-token values right-padded with zeros to `width`, as a `[rows, width]` tensor.
pub fn padded(rows: &[Vec<f32>], width: usize, dev: &Device) -> Result<Tensor> {
    let mut flat = Vec::with_capacity(rows.len() * width);
    for row in rows {
        flat.extend(row.iter().copied().chain(std::iter::repeat_n(0.0, width.saturating_sub(row.len()))).take(width));
    }
    Ok(Tensor::from_vec(flat, (rows.len(), width), dev)?)
}

/// The masked mean of the k3 estimator of KL(policy ‖ reference): `exp(r − p) − (r − p) − 1`.
pub fn kl_k3(policy: &Tensor, reference: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let diff = (reference - policy)?;
    let per_token = ((diff.exp()? - &diff)? - 1.0)?;
    let total = (per_token * mask)?.sum_all()?;
    Ok((total / mask.sum_all()?.to_scalar::<f32>()?.max(1.0) as f64)?)
}

/// Runs `loss_of(rows)` on micro-batches of `micro_batch` rows (each loss already scaled to its
/// share of the batch loss, returned with its gradients), sums the gradients, clips them, and
/// steps the optimizer. Memory grows with the micro-batch, not the batch.
fn accumulate_and_step(
    varmap: &VarMap,
    optimizer: &mut AdamW,
    rows: usize,
    micro_batch: usize,
    max_grad_norm: f64,
    loss_of: &mut dyn FnMut(std::ops::Range<usize>) -> Result<(f32, GradStore)>,
) -> Result<UpdateStats> {
    let mut total: Option<GradStore> = None;
    let mut loss_total = 0f32;
    let mut start = 0;
    while start < rows {
        let end = (start + micro_batch.max(1)).min(rows);
        let (loss, grads) = loss_of(start..end)?;
        loss_total += loss;
        match total.as_mut() {
            Some(total) => total.extend(grads)?,
            None => total = Some(grads),
        }
        start = end;
    }
    let Some(mut grads) = total else { anyhow::bail!("an update needs at least one row") };
    let grad_norm = clip_grad_norm(varmap, &mut grads, max_grad_norm)?;
    optimizer.step(&grads).context("optimizer step failed")?;
    Ok(UpdateStats { loss: loss_total, grad_norm })
}

/// One GRPO optimisation pass over `batch`.
pub fn update(
    model: &Model,
    varmap: &VarMap,
    optimizer: &mut AdamW,
    batch: &Batch,
    options: &UpdateOptions,
) -> Result<UpdateStats> {
    let dev: &Device = model.device();
    let rows = batch.prompts.len();
    let total_tokens: usize = batch.completions.iter().map(Vec::len).sum();
    let stats =
        accumulate_and_step(varmap, optimizer, rows, options.micro_batch, options.max_grad_norm, &mut |range| {
            // Each micro-batch's mean, weighted by its share of what the batch mean averages over.
            let chunk_tokens: usize = batch.completions[range.clone()].iter().map(Vec::len).sum();
            let share = if options.loss.token_level {
                chunk_tokens.max(1) as f64 / total_tokens.max(1) as f64
            } else {
                range.len() as f64 / rows as f64
            };
            let prompts = &batch.prompts[range.clone()];
            let completions = &batch.completions[range.clone()];
            completion_loss_backward(
                model,
                prompts,
                completions,
                options.temperature,
                options.recompute,
                &mut |new, mask| {
                    let width = mask.dim(1)?;
                    let old = padded(&batch.old_logprobs[range.clone()], width, dev)?;
                    let advantages = Tensor::new(&batch.advantages[range.clone()], dev)?;
                    let mut loss = policy_loss(new, &old, &advantages, mask, &options.loss)?;
                    if options.kl_coef > 0.0 {
                        if let Some(reference) = &batch.reference_logprobs {
                            let reference = padded(&reference[range.clone()], width, dev)?;
                            loss = (loss + (kl_k3(new, &reference, mask)? * options.kl_coef)?)?;
                        }
                    }
                    Ok((loss * share)?)
                },
            )
        })?;
    model.refresh_sampling_weights()?;
    Ok(stats)
}

/// One SFT step: the mean negative log-likelihood of every completion token (teacher forcing).
pub fn sft_update(
    model: &Model,
    varmap: &VarMap,
    optimizer: &mut AdamW,
    prompts: &[Vec<u32>],
    completions: &[Vec<u32>],
    options: &SftOptions,
) -> Result<UpdateStats> {
    let total_tokens = completions.iter().map(Vec::len).sum::<usize>().max(1) as f64;
    let rows = prompts.len();
    let stats =
        accumulate_and_step(varmap, optimizer, rows, options.micro_batch, options.max_grad_norm, &mut |range| {
            let (prompts, completions) = (&prompts[range.clone()], &completions[range]);
            completion_loss_backward(model, prompts, completions, 1.0, options.recompute, &mut |logprobs, _| {
                Ok((logprobs.sum_all()?.neg()? / total_tokens)?)
            })
        })?;
    model.refresh_sampling_weights()?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    // policy = [0, ln 0.5], reference = [ln 0.5, 0]: r − p = [ln 0.5, ln 2]
    //   exp(d) − d − 1 = [0.5 + ln 2 − 1, 2 − ln 2 − 1] = [0.193147, 0.306853]; mean 0.25
    #[test]
    fn k3_kl_matches_hand_computation() {
        let dev = Device::Cpu;
        let policy = Tensor::new(&[[0.0f32, 0.5f32.ln(), 7.0]], &dev).unwrap();
        let reference = Tensor::new(&[[0.5f32.ln(), 0.0, -3.0]], &dev).unwrap();
        let mask = Tensor::new(&[[1.0f32, 1.0, 0.0]], &dev).unwrap();
        let kl = kl_k3(&policy, &reference, &mask).unwrap().to_scalar::<f32>().unwrap();
        assert!((kl - 0.25).abs() < 1e-6, "{kl}");
        let same = kl_k3(&policy, &policy, &mask).unwrap().to_scalar::<f32>().unwrap();
        assert!(same.abs() < 1e-7);
    }

    #[test]
    fn padding_fills_with_zeros() {
        let t = padded(&[vec![1.0, 2.0], vec![3.0]], 3, &Device::Cpu).unwrap();
        assert_eq!(t.to_vec2::<f32>().unwrap(), vec![vec![1.0, 2.0, 0.0], vec![3.0, 0.0, 0.0]]);
    }
}
