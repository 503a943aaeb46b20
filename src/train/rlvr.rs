//! RLVR: the outcome-reward baseline. Each rollout is a whole agent episode of the current
//! policy on a task instance (`agent::run_episode`, the same loop `srl agent` runs), graded by
//! the instance's tests: reward 1 when the episode's work tree resolves the instance, else 0.
//! Every turn of an episode becomes a training row (its exact prompt ids, sampled ids and
//! log-probs) carrying the episode's group advantage; groups whose episodes all scored the
//! same are dropped, as in SRL.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::grpo::{advantages, keep_group};
use super::srl::RolloutStats;
use super::update::Batch;
use crate::agent::episode::{Outcome, Round};
use crate::agent::model::{sample_reply, Call, ChatModel, Reply, Sampling};
use crate::agent::{run_episode, AgentOptions};
use crate::policy::chat::Template;
use crate::policy::model::Model;
use crate::policy::tokenizer::TextTokenizer;
use crate::reward::format::OutputContract;
use crate::sandbox::Sandbox;
use crate::steps::Message;
use crate::task::build::grade_work_tree;
use crate::task::instance::Instance;

/// The model being trained, as the agent loop's policy. Sampling runs inline: the trainer
/// drives one episode at a time.
pub struct TrainingPolicy<'a> {
    pub model: &'a Model,
    pub tokenizer: &'a TextTokenizer,
    pub template: Template,
    /// The response prefix the run trains with, prefilled at every turn as in SRL.
    pub contract: OutputContract,
}

impl ChatModel for TrainingPolicy<'_> {
    fn name(&self) -> &str {
        "training-policy"
    }

    async fn reply(&self, messages: &[Message], sampling: &Sampling, call: Call) -> Result<Reply> {
        sample_reply(self.model, self.tokenizer, self.template, &self.contract, messages, sampling, call)
    }
}

pub struct RlvrOptions {
    pub instances_per_step: usize,
    pub group_size: usize,
    pub agent: AgentOptions,
    pub test_timeout: Duration,
    pub min_group_std: f64,
    pub advantage: super::grpo::AdvantageConfig,
}

/// One graded episode: its reward and its turns as training rows.
struct Graded {
    reward: f64,
    rounds: Vec<Round>,
}

async fn episode(
    policy: &TrainingPolicy<'_>,
    instance: &Instance,
    tasks: &Path,
    seed: u64,
    options: &RlvrOptions,
) -> Result<Graded> {
    let agent = &options.agent;
    let mut sandbox = crate::task::repos::open_sandbox(
        instance,
        tasks,
        agent.backend,
        &agent.image,
        &agent.images,
        &agent.run_id,
        None,
    )
    .await?;
    let mut rounds = Vec::new();
    let ended = run_episode(&mut sandbox, policy, &instance.problem_statement, seed, &mut rounds, &options.agent).await;
    let graded = grade_work_tree(&mut sandbox, instance, options.test_timeout).await;
    sandbox.close().await?;
    let resolved = match graded {
        Ok(report) => report.resolved,
        Err(e) => {
            tracing::info!("{}: not graded ({ended:?}): {e:#}", instance.instance_id);
            false
        }
    };
    Ok(Graded { reward: if resolved { 1.0 } else { 0.0 }, rounds })
}

/// Runs G episodes for each of the next `instances_per_step` instances and builds the batch.
pub fn rlvr_step(
    runtime: &tokio::runtime::Runtime,
    policy: &TrainingPolicy<'_>,
    instances: &[Instance],
    tasks: &Path,
    cursor: &mut usize,
    options: &RlvrOptions,
    seed: u64,
) -> Result<(Batch, RolloutStats)> {
    let mut batch = Batch::default();
    let mut stats = RolloutStats::default();
    for _ in 0..options.instances_per_step.min(instances.len()) {
        let instance = &instances[*cursor % instances.len()];
        *cursor = (*cursor + 1) % instances.len();
        let started = Instant::now();
        let mut group = Vec::with_capacity(options.group_size);
        for g in 0..options.group_size {
            let episode_seed = seed.wrapping_mul(31).wrapping_add(g as u64);
            let graded = runtime
                .block_on(episode(policy, instance, tasks, episode_seed, options))
                .with_context(|| format!("{}: episode {g} failed", instance.instance_id))?;
            group.push(graded);
        }
        stats.seconds_generation += started.elapsed().as_secs_f64();
        let rewards: Vec<f64> = group.iter().map(|e| e.reward).collect();
        for graded in &group {
            for round in &graded.rounds {
                stats.turns += 1;
                stats.format_errors += usize::from(matches!(round.outcome, Outcome::FormatError { .. }));
                stats.generated_tokens += round.tokens.as_ref().map_or(0, |t| t.completion_ids.len());
            }
        }
        stats.sampled_groups += 1;
        stats.rewards.extend(&rewards);
        if !keep_group(&rewards, options.min_group_std) {
            continue;
        }
        stats.kept_groups += 1;
        for (graded, advantage) in group.iter().zip(advantages(&rewards, &options.advantage)) {
            push_rows(&mut batch, &graded.rounds, advantage as f32);
        }
    }
    Ok((batch, stats))
}

/// Every turn of an episode that has exact tokens becomes a row with the episode's advantage.
fn push_rows(batch: &mut Batch, rounds: &[Round], advantage: f32) {
    for tokens in rounds.iter().filter_map(|r| r.tokens.as_ref()) {
        if tokens.completion_ids.is_empty() {
            continue;
        }
        batch.prompts.push(tokens.prompt_ids.clone());
        batch.completions.push(tokens.completion_ids.clone());
        batch.old_logprobs.push(tokens.logprobs.clone());
        batch.advantages.push(advantage);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::model::TurnTokens;

    fn round(prompt: &[u32], completion: &[u32]) -> Round {
        Round {
            reply: String::new(),
            outcome: Outcome::FormatError { error: "x".into() },
            usage: Default::default(),
            tokens: Some(TurnTokens {
                prompt_ids: prompt.to_vec(),
                completion_ids: completion.to_vec(),
                logprobs: vec![-0.5; completion.len()],
            }),
        }
    }

    #[test]
    fn every_turn_of_an_episode_carries_its_advantage() {
        let mut batch = Batch::default();
        let mut no_tokens = round(&[1], &[2]);
        no_tokens.tokens = None;
        push_rows(&mut batch, &[round(&[1, 2], &[3]), no_tokens, round(&[1, 2, 3, 4], &[5, 6])], 0.75);
        assert_eq!(batch.prompts, vec![vec![1, 2], vec![1, 2, 3, 4]]);
        assert_eq!(batch.completions, vec![vec![3], vec![5, 6]]);
        assert_eq!(batch.advantages, vec![0.75, 0.75]);
        assert_eq!(batch.old_logprobs[1], vec![-0.5, -0.5]);
    }
}
