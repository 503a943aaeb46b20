//! One SRL step's rollouts: sample G completions for each prompt, score them all at once (format,
//! similarity to the expert's action, and optionally what each does when executed: the caller
//! runs different trajectories' sandboxes in parallel), turn rewards into group
//! advantages, and apply dynamic sampling: a group whose rewards do not vary teaches nothing, so
//! it is dropped and further prompts are sampled (up to a number of rounds) until the batch
//! holds the configured number of groups.

use std::time::Instant;

use anyhow::Result;

use super::grpo::{advantages, keep_group, mean_std, AdvantageConfig};
use super::update::Batch;
use crate::agent::model::reply_is_complete;
use crate::policy::model::Model;
use crate::policy::sample::{generate, SamplingConfig};
use crate::policy::tokenizer::TextTokenizer;
use crate::reward::format::OutputContract;
use crate::steps::StepInstance;

/// A step instance encoded for the student: the chat prompt plus the response prefix.
pub struct Prompt<'a> {
    pub ids: Vec<u32>,
    pub instance: &'a StepInstance,
}

/// The reward of one rollout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RolloutReward {
    pub reward: f64,
    pub format_ok: bool,
    pub similarity: Option<f64>,
    /// The execution reward, when the rollout's action could be executed for this instance.
    pub execution: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct RolloutOptions {
    pub prompts_per_step: usize,
    pub group_size: usize,
    pub sampling: SamplingConfig,
    pub advantage: AdvantageConfig,
    pub min_group_std: f64,
    pub max_sampling_rounds: usize,
    /// Prepended to each decoded completion before it is scored.
    /// The output contract: its prefix ends each prompt, and a reply ends at its first action.
    pub contract: OutputContract,
}

/// Scores a step's completions, all at once: `(instance, completion text)` in, one reward each out.
pub type Scorer<'s> = dyn FnMut(&[(&StepInstance, String)]) -> Result<Vec<RolloutReward>> + 's;

/// What sampling a step produced, for the metrics.
#[derive(Debug, Clone, Default)]
pub struct RolloutStats {
    pub rewards: Vec<f64>,
    pub format_errors: usize,
    pub similarities: Vec<f64>,
    pub executions: Vec<f64>,
    pub sampled_groups: usize,
    pub kept_groups: usize,
    /// Model turns (RLVR: every reply of every episode; SRL leaves it 0 and uses `rewards`).
    pub turns: usize,
    pub generated_tokens: usize,
    pub seconds_generation: f64,
    pub seconds_reward: f64,
    /// Every group sampled, kept or dropped, for `rollouts.jsonl`.
    pub groups: Vec<SampledGroup>,
}

/// One prompt's rollouts as sampled and scored; `advantages` is empty for a dropped group.
#[derive(Debug, Clone)]
pub struct SampledGroup {
    pub step_id: String,
    pub instance_id: Option<String>,
    pub target: String,
    pub round: usize,
    pub completions: Vec<String>,
    pub rewards: Vec<RolloutReward>,
    pub advantages: Vec<f64>,
}

/// Samples and scores until `prompts_per_step` groups are kept or the rounds run out. `cursor`
/// is the position in `prompts` (advanced by every prompt drawn); `seed` makes the step
/// reproducible (round r samples with `seed + r`).
#[allow(clippy::too_many_arguments)]
pub fn sample_step(
    model: &Model,
    tokenizer: &TextTokenizer,
    prompts: &[Prompt<'_>],
    cursor: &mut usize,
    options: &RolloutOptions,
    seed: u64,
    score: &mut Scorer<'_>,
) -> Result<(Batch, RolloutStats)> {
    let mut batch = Batch::default();
    let mut stats = RolloutStats::default();
    let stop: Vec<u32> = tokenizer.stop_ids.iter().copied().collect();
    let g = options.group_size;
    for round in 0..options.max_sampling_rounds {
        let need = options.prompts_per_step - stats.kept_groups;
        if need == 0 || prompts.is_empty() {
            break;
        }
        let chosen: Vec<&Prompt> = (0..need).map(|i| &prompts[(*cursor + i) % prompts.len()]).collect();
        *cursor = (*cursor + need) % prompts.len();
        let rows: Vec<Vec<u32>> = chosen.iter().flat_map(|p| std::iter::repeat_n(p.ids.clone(), g)).collect();
        let sampling = SamplingConfig { seed: seed.wrapping_add(round as u64), ..options.sampling.clone() };
        let started = Instant::now();
        let completions = generate(model, &rows, &sampling, &stop, &mut |_, ids| {
            reply_is_complete(tokenizer, &options.contract, ids)
        })?;
        stats.seconds_generation += started.elapsed().as_secs_f64();
        stats.generated_tokens += completions.iter().map(|c| c.token_ids.len()).sum::<usize>();
        let started = Instant::now();
        let mut scored = Vec::with_capacity(rows.len());
        for (row, completion) in completions.iter().enumerate() {
            let ids: Vec<u32> = completion.token_ids.iter().copied().filter(|t| !stop.contains(t)).collect();
            let generated = tokenizer.decode(&ids)?;
            scored.push((chosen[row / g].instance, options.contract.response(options.contract.cut(&generated))));
        }
        let mut rewards = Vec::with_capacity(rows.len());
        let scores = score(&scored)?;
        for reward in scores.iter().copied() {
            stats.format_errors += usize::from(!reward.format_ok);
            stats.similarities.extend(reward.similarity);
            stats.executions.extend(reward.execution);
            rewards.push(reward.reward);
        }
        stats.seconds_reward += started.elapsed().as_secs_f64();
        for (group, group_rewards) in rewards.chunks(g).enumerate() {
            stats.sampled_groups += 1;
            let instance = chosen[group].instance;
            let rows_of_group = group * g..(group + 1) * g;
            let mut record = SampledGroup {
                step_id: instance.id.clone(),
                instance_id: instance.instance_id.clone(),
                target: instance.target.clone(),
                round,
                completions: scored[rows_of_group.clone()].iter().map(|(_, text)| text.clone()).collect(),
                rewards: scores[rows_of_group].to_vec(),
                advantages: Vec::new(),
            };
            if !keep_group(group_rewards, options.min_group_std) {
                stats.groups.push(record);
                continue;
            }
            stats.kept_groups += 1;
            record.advantages = advantages(group_rewards, &options.advantage);
            for (k, advantage) in record.advantages.iter().copied().enumerate() {
                let row = group * g + k;
                batch.prompts.push(rows[row].clone());
                batch.completions.push(completions[row].token_ids.clone());
                batch.old_logprobs.push(completions[row].logprobs.clone());
                batch.advantages.push(advantage as f32);
            }
            stats.groups.push(record);
        }
        stats.rewards.extend(rewards);
    }
    Ok((batch, stats))
}

/// Mean of the values, or `None` when there are none.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Mean, population std and max of a step's rewards.
pub fn reward_summary(rewards: &[f64]) -> (f64, f64, f64) {
    let (m, s) = mean_std(rewards);
    (m, s, rewards.iter().copied().fold(f64::NEG_INFINITY, f64::max))
}
