//! GRPO's arithmetic on plain numbers: group-normalised advantages and the dynamic-sampling
//! filter of the SRL paper (§1.6–1.7 of shared/docs/srl-paper.md).
//!
//! A *group* is the G rollouts sampled for one prompt. Advantages are `(r − mean) / (std + ε)`
//! with the population standard deviation (divide by G, as the paper's formula does), or
//! `r − mean` with the Dr. GRPO switch. Dynamic sampling keeps a group only when its reward
//! standard deviation exceeds a threshold: a group whose rollouts all scored the same teaches
//! nothing. Pure: no tensors, no I/O.

/// How rewards become advantages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdvantageConfig {
    /// Divide by the group's standard deviation (GRPO) or not (Dr. GRPO).
    pub scale_by_std: bool,
    /// Added to the standard deviation, so a group of equal rewards gives zeros, not NaNs.
    pub epsilon: f64,
}

/// Mean and population standard deviation.
pub fn mean_std(rewards: &[f64]) -> (f64, f64) {
    if rewards.is_empty() {
        return (0.0, 0.0);
    }
    let n = rewards.len() as f64;
    let mean = rewards.iter().sum::<f64>() / n;
    let variance = rewards.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

/// The advantage of each rollout of one group (the same for every token of a rollout).
pub fn advantages(rewards: &[f64], cfg: &AdvantageConfig) -> Vec<f64> {
    let (mean, std) = mean_std(rewards);
    rewards.iter().map(|r| if cfg.scale_by_std { (r - mean) / (std + cfg.epsilon) } else { r - mean }).collect()
}

/// Dynamic sampling: whether a group's rewards vary enough to be worth a gradient.
pub fn keep_group(rewards: &[f64], min_std: f64) -> bool {
    mean_std(rewards).1 > min_std
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rewards: &[f64], scale: bool, expect: &[f64]) {
        let got = advantages(rewards, &AdvantageConfig { scale_by_std: scale, epsilon: 1e-6 });
        assert_eq!(got.len(), expect.len());
        for (g, e) in got.iter().zip(expect) {
            assert!((g - e).abs() < 1e-9, "{got:?} vs {expect:?}");
        }
    }

    // Reference values from Python (population std):
    //   r = [1.0, -1.0, 0.5, 0.25]; m = sum(r) / 4; s = (sum((x - m) ** 2 for x in r) / 4) ** 0.5
    //   [(x - m) / (s + 1e-6) for x in r]
    #[test]
    fn grpo_advantages_use_the_population_std() {
        check(
            &[1.0, -1.0, 0.5, 0.25],
            true,
            &[1.1026441121831152, -1.611556779344553, 0.4240938893011982, 0.08481877786023964],
        );
    }

    #[test]
    fn dr_grpo_only_centres() {
        check(&[1.0, -1.0, 0.5, 0.25], false, &[0.8125, -1.1875, 0.3125, 0.0625]);
    }

    #[test]
    fn equal_rewards_give_zero_advantages_and_are_filtered() {
        check(&[0.3, 0.3, 0.3], true, &[0.0, 0.0, 0.0]);
        assert!(!keep_group(&[0.3, 0.3, 0.3], 1e-4));
        assert!(keep_group(&[0.3, 0.31, 0.3], 1e-4));
        assert!(!keep_group(&[], 0.0));
    }
}
