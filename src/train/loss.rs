//! The GRPO policy loss on tensors: the clipped importance ratio of the SRL paper's Eq. 1,
//! against the log-probs recorded when the rollouts were sampled.
//!
//! `ratio = exp(logp_new − logp_old)`; per token `−min(ratio·A, clip(ratio, 1−ε, 1+ε)·A)` with
//! the rollout's advantage A. Aggregated token-level (every real token of the batch weighs the
//! same, as DAPO does) or sequence-level (mean per rollout, then mean over rollouts, as Eq. 1
//! prints). The KL term is absent: the paper's coefficient is 0, so no reference model exists.

use anyhow::Result;
use candle_core::{Tensor, D};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossConfig {
    /// ε of the clipped ratio (0.2 in VeRL, the paper's framework).
    pub clip: f64,
    /// Average over all tokens of the batch (true) or per rollout first (false).
    pub token_level: bool,
}

/// The scalar loss. `new` and `old` are `[b, L]` log-probs (`new` differentiable), `advantages`
/// is `[b]`, `mask` is `[b, L]` with 1 for real completion tokens.
pub fn policy_loss(new: &Tensor, old: &Tensor, advantages: &Tensor, mask: &Tensor, cfg: &LossConfig) -> Result<Tensor> {
    let ratio = (new - old)?.exp()?;
    let adv = advantages.unsqueeze(1)?.broadcast_as(ratio.shape())?;
    let unclipped = (&ratio * &adv)?;
    let clipped = (ratio.clamp(1.0 - cfg.clip, 1.0 + cfg.clip)? * &adv)?;
    let per_token = (unclipped.minimum(&clipped)?.neg()? * mask)?;
    let loss = if cfg.token_level {
        (per_token.sum_all()? / mask.sum_all()?.to_scalar::<f32>()?.max(1.0) as f64)?
    } else {
        let lengths = mask.sum(D::Minus1)?.clamp(1.0, f64::INFINITY)?;
        (per_token.sum(D::Minus1)? / lengths)?.mean_all()?
    };
    Ok(loss)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    fn tensor(rows: &[&[f32]]) -> Tensor {
        let data: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_vec(data, (rows.len(), rows[0].len()), &Device::Cpu).unwrap()
    }

    // Reference (plain Python): for each token r = exp(new - old); t = -min(r*A, clip(r, 0.8, 1.2)*A).
    // Row 0, A = 1.0:  new - old = [0, ln 1.5, ln 0.5] -> r = [1, 1.5, 0.5] -> t = [-1, -1.2, -0.5]
    // Row 1, A = -2.0: new - old = [ln 0.5, 0, (pad)]  -> r = [0.5, 1]    -> t = [1.6, 2.0]
    // token level: (-1 - 1.2 - 0.5 + 1.6 + 2.0) / 5 = 0.18; sequence level: (-2.7/3 + 3.6/2) / 2 = 0.45
    fn inputs() -> (Var, Tensor, Tensor, Tensor) {
        let new = Var::from_tensor(&tensor(&[&[0.0, 1.5f32.ln(), 0.5f32.ln()], &[0.5f32.ln(), 0.0, 0.0]])).unwrap();
        let old = tensor(&[&[0.0, 0.0, 0.0], &[0.0, 0.0, 0.0]]);
        let adv = Tensor::new(&[1.0f32, -2.0], &Device::Cpu).unwrap();
        let mask = tensor(&[&[1.0, 1.0, 1.0], &[1.0, 1.0, 0.0]]);
        (new, old, adv, mask)
    }

    fn check(token_level: bool, expect: f32) {
        let (new, old, adv, mask) = inputs();
        let loss = policy_loss(new.as_tensor(), &old, &adv, &mask, &LossConfig { clip: 0.2, token_level }).unwrap();
        let got = loss.to_scalar::<f32>().unwrap();
        assert!((got - expect).abs() < 1e-5, "{got} vs {expect}");
    }

    #[test]
    fn token_and_sequence_aggregation() {
        check(true, 0.18);
        check(false, 0.45);
    }

    #[test]
    fn clipped_tokens_get_no_gradient() {
        let (new, old, adv, mask) = inputs();
        let loss =
            policy_loss(new.as_tensor(), &old, &adv, &mask, &LossConfig { clip: 0.2, token_level: true }).unwrap();
        let grads = loss.backward().unwrap();
        let grad: Vec<Vec<f32>> = grads.get(new.as_tensor()).unwrap().to_vec2().unwrap();
        // d/dnew of -r*A/5 = -r*A/5 where the unclipped term is the minimum, 0 where the clip binds.
        // Row 0: r=1 -> -0.2; r=1.5 clipped at 1.2 -> 0; r=0.5 -> -0.1. Row 1: r=0.5 clipped (A<0) -> 0;
        // r=1 -> 0.4; padding -> 0.
        let expect = [[-0.2, 0.0, -0.1], [0.0, 0.4, 0.0]];
        for (row, want) in grad.iter().zip(expect) {
            for (g, w) in row.iter().zip(want) {
                assert!((g - w).abs() < 1e-5, "{grad:?}");
            }
        }
    }
}
