//! One GRPO policy update: recompute the log-probs of sampled completions under the current
//! weights, take the clipped loss against the sampling-time log-probs, back-propagate, clip the
//! gradient norm, and step AdamW.

use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, VarMap};

use super::loss::{policy_loss, LossConfig};
use crate::policy::logprob::completion_logprobs;
use crate::policy::model::Model;

/// Rollouts of a batch, as sampled: prompt ids, completion ids, their sampling-time log-probs,
/// and each rollout's advantage.
pub struct Batch {
    pub prompts: Vec<Vec<u32>>,
    pub completions: Vec<Vec<u32>>,
    pub old_logprobs: Vec<Vec<f32>>,
    pub advantages: Vec<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpdateStats {
    pub loss: f32,
    /// Gradient norm before clipping.
    pub grad_norm: f32,
}

/// Scales every gradient so that their joint L2 norm is at most `max_norm`; returns the norm
/// before scaling.
fn clip_grad_norm(varmap: &VarMap, grads: &mut candle_core::backprop::GradStore, max_norm: f64) -> Result<f32> {
    let mut total = 0f64;
    for var in varmap.all_vars() {
        if let Some(grad) = grads.get(var.as_tensor()) {
            total += f64::from(grad.sqr()?.sum_all()?.to_scalar::<f32>()?);
        }
    }
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

/// One optimisation pass over `batch`.
pub fn update(
    model: &Model,
    varmap: &VarMap,
    optimizer: &mut AdamW,
    batch: &Batch,
    loss_cfg: &LossConfig,
    max_grad_norm: f64,
) -> Result<UpdateStats> {
    let dev: &Device = model.device();
    let (new, mask) = completion_logprobs(model, &batch.prompts, &batch.completions)?;
    let width = mask.dim(1)?;
    let mut old = Vec::with_capacity(batch.old_logprobs.len() * width);
    for row in &batch.old_logprobs {
        old.extend(row.iter().copied().chain(std::iter::repeat_n(0.0, width - row.len().min(width))).take(width));
    }
    let old = Tensor::from_vec(old, (batch.old_logprobs.len(), width), dev)?;
    let advantages = Tensor::new(batch.advantages.as_slice(), dev)?;
    let loss = policy_loss(&new, &old, &advantages, &mask, loss_cfg)?;
    let mut grads = loss.backward().context("backward pass failed")?;
    let grad_norm = clip_grad_norm(varmap, &mut grads, max_grad_norm)?;
    optimizer.step(&grads).context("optimizer step failed")?;
    Ok(UpdateStats { loss: loss.to_scalar::<f32>()?, grad_norm })
}
