//! The SRL training loop (step-wise rewards, no sandbox): for each batch of step instances,
//! sample G completions per prompt, score each against the expert's action (−1 for a broken
//! format, else the difflib similarity), turn rewards into group advantages, drop groups whose
//! rewards do not vary (dynamic sampling), and update the policy.
//!
//! Deliberately small: dropped groups are not replaced by sampling more prompts (the kept ratio
//! is reported instead), there is no execution reward, LoRA, checkpoint resume or schedule yet.

use std::time::Instant;

use anyhow::{bail, Result};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use serde::Serialize;

use super::grpo::{advantages, keep_group, mean_std, AdvantageConfig};
use super::loss::LossConfig;
use super::update::{update, Batch};
use crate::policy::chat::{Template, Turn};
use crate::policy::model::Model;
use crate::policy::sample::{generate, SamplingConfig};
use crate::policy::tokenizer::TextTokenizer;
use crate::reward::{step_reward, RewardConfig};
use crate::steps::StepInstance;

#[derive(Debug, Clone)]
pub struct SrlOptions {
    pub steps: usize,
    /// Prompts per step; each gets `group_size` rollouts.
    pub prompts_per_step: usize,
    pub group_size: usize,
    pub sampling: SamplingConfig,
    pub learning_rate: f64,
    pub loss: LossConfig,
    pub advantage: AdvantageConfig,
    pub max_grad_norm: f64,
    /// Groups whose reward standard deviation is at most this are dropped.
    pub min_group_std: f64,
    /// Optimisation passes over each batch.
    pub passes: usize,
    /// Prompts longer than this many tokens are skipped.
    pub max_prompt_tokens: usize,
    pub reward: RewardConfig,
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct StepMetrics {
    pub step: usize,
    pub reward_mean: f64,
    pub reward_std: f64,
    pub reward_max: f64,
    pub format_error_rate: f64,
    pub kept_groups: usize,
    pub groups: usize,
    /// Mean loss and gradient norm over the passes; absent when every group was dropped.
    pub loss: Option<f32>,
    pub grad_norm: Option<f32>,
    pub generated_tokens: usize,
    pub tokens_per_second: f64,
    pub seconds_generation: f64,
    pub seconds_update: f64,
}

/// Trains `model` on `instances`, calling `on_step` after every step.
pub fn train_srl(
    model: &Model,
    varmap: &VarMap,
    tokenizer: &TextTokenizer,
    template: Template,
    instances: &[StepInstance],
    options: &SrlOptions,
    on_step: &mut dyn FnMut(&StepMetrics) -> Result<()>,
) -> Result<()> {
    let prompts = encode_prompts(tokenizer, template, instances, options.max_prompt_tokens)?;
    if prompts.is_empty() {
        bail!("no step instance fits in {} prompt tokens", options.max_prompt_tokens);
    }
    let params = ParamsAdamW { lr: options.learning_rate, weight_decay: 0.0, ..Default::default() };
    let mut optimizer = AdamW::new(varmap.all_vars(), params)?;
    let stop: Vec<u32> = tokenizer.stop_ids.iter().copied().collect();
    let mut cursor = 0;
    for step in 0..options.steps {
        let chosen: Vec<&(Vec<u32>, &StepInstance)> =
            (0..options.prompts_per_step).map(|i| &prompts[(cursor + i) % prompts.len()]).collect();
        cursor = (cursor + options.prompts_per_step) % prompts.len();
        let started = Instant::now();
        let rows: Vec<Vec<u32>> =
            chosen.iter().flat_map(|(ids, _)| std::iter::repeat_n(ids.clone(), options.group_size)).collect();
        let sampling =
            SamplingConfig { seed: options.sampling.seed.wrapping_add(step as u64), ..options.sampling.clone() };
        let completions = generate(model, &rows, &sampling, &stop, &mut |_, _| false)?;
        let seconds_generation = started.elapsed().as_secs_f64();
        let mut rewards = Vec::with_capacity(completions.len());
        let mut format_errors = 0usize;
        for (row, completion) in completions.iter().enumerate() {
            let instance = chosen[row / options.group_size].1;
            let ids: Vec<u32> = completion.token_ids.iter().copied().filter(|t| !stop.contains(t)).collect();
            let text = tokenizer.decode(&ids)?;
            let reward = step_reward(&instance.target, &text, &options.reward);
            format_errors += usize::from(!reward.format_ok);
            rewards.push(reward.reward);
        }
        let mut batch =
            Batch { prompts: Vec::new(), completions: Vec::new(), old_logprobs: Vec::new(), advantages: Vec::new() };
        let mut kept_groups = 0;
        for (group, group_rewards) in rewards.chunks(options.group_size).enumerate() {
            if !keep_group(group_rewards, options.min_group_std) {
                continue;
            }
            kept_groups += 1;
            for (k, advantage) in advantages(group_rewards, &options.advantage).into_iter().enumerate() {
                let row = group * options.group_size + k;
                batch.prompts.push(rows[row].clone());
                batch.completions.push(completions[row].token_ids.clone());
                batch.old_logprobs.push(completions[row].logprobs.clone());
                batch.advantages.push(advantage as f32);
            }
        }
        let update_started = Instant::now();
        let (mut losses, mut norms) = (Vec::new(), Vec::new());
        if !batch.prompts.is_empty() {
            for _ in 0..options.passes.max(1) {
                let stats = update(model, varmap, &mut optimizer, &batch, &options.loss, options.max_grad_norm)?;
                losses.push(stats.loss);
                norms.push(stats.grad_norm);
            }
        }
        let (reward_mean, reward_std) = mean_std(&rewards);
        let generated_tokens: usize = completions.iter().map(|c| c.token_ids.len()).sum();
        let mean = |v: &[f32]| (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32);
        on_step(&StepMetrics {
            step,
            reward_mean,
            reward_std,
            reward_max: rewards.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            format_error_rate: format_errors as f64 / rewards.len().max(1) as f64,
            kept_groups,
            groups: chosen.len(),
            loss: mean(&losses),
            grad_norm: mean(&norms),
            generated_tokens,
            tokens_per_second: generated_tokens as f64 / seconds_generation.max(1e-9),
            seconds_generation,
            seconds_update: update_started.elapsed().as_secs_f64(),
        })?;
    }
    Ok(())
}

/// Each instance's chat prompt as token ids, keeping those that fit.
fn encode_prompts<'a>(
    tokenizer: &TextTokenizer,
    template: Template,
    instances: &'a [StepInstance],
    max_tokens: usize,
) -> Result<Vec<(Vec<u32>, &'a StepInstance)>> {
    let mut out = Vec::new();
    for instance in instances {
        let turns: Vec<Turn> = instance.messages.iter().map(|m| Turn { role: &m.role, content: &m.content }).collect();
        let ids = tokenizer.encode(&template.render(&turns))?;
        if ids.len() <= max_tokens {
            out.push((ids, instance));
        } else {
            tracing::debug!("{}: prompt of {} tokens skipped (limit {max_tokens})", instance.id, ids.len());
        }
    }
    Ok(out)
}
