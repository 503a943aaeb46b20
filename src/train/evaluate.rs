//! Greedy evaluation on held-out step instances: the mean step reward (−1 for a broken format,
//! else the similarity to the expert's action) and the format-error rate, the two figures the
//! learning evidence compares before and after training.

use std::time::Instant;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::srl::Prompt;
use crate::agent::model::reply_is_complete;
use crate::policy::model::Model;
use crate::policy::sample::{generate, SamplingConfig};
use crate::policy::tokenizer::TextTokenizer;
use crate::reward::format::OutputContract;
use crate::reward::{step_reward, RewardConfig};

/// One line of `eval.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// When it was taken: `before`, `after-sft`, `after`.
    pub label: String,
    pub instances: usize,
    pub mean_reward: f64,
    /// Standard error of `mean_reward` over the prompts (their spread / √n): differences
    /// between evaluations smaller than about twice this are within sampling noise.
    #[serde(default)]
    pub reward_std_error: f64,
    pub format_error_rate: f64,
    /// Mean similarity over the format-valid completions.
    pub mean_similarity: Option<f64>,
    /// Completions whose action is exactly the expert's.
    pub exact_match_rate: f64,
    pub seconds: f64,
}

/// Prompts decoded together; greedy decoding makes the result independent of the grouping.
const EVAL_BATCH: usize = 8;

pub fn evaluate(
    model: &Model,
    tokenizer: &TextTokenizer,
    prompts: &[Prompt<'_>],
    max_new_tokens: usize,
    contract: &OutputContract,
    reward: &RewardConfig,
    label: &str,
) -> Result<EvalResult> {
    let started = Instant::now();
    let stop: Vec<u32> = tokenizer.stop_ids.iter().copied().collect();
    let sampling = SamplingConfig { temperature: 0.0, top_p: 1.0, top_k: 0, max_new_tokens, seed: 0 };
    let (mut rewards, mut errors, mut exact) = (Vec::with_capacity(prompts.len()), 0usize, 0usize);
    let mut similarities = Vec::new();
    for chunk in prompts.chunks(EVAL_BATCH) {
        let rows: Vec<Vec<u32>> = chunk.iter().map(|p| p.ids.clone()).collect();
        let completions =
            generate(model, &rows, &sampling, &stop, &mut |_, ids| reply_is_complete(tokenizer, contract, ids))?;
        for (prompt, completion) in chunk.iter().zip(&completions) {
            let ids: Vec<u32> = completion.token_ids.iter().copied().filter(|t| !stop.contains(t)).collect();
            let generated = tokenizer.decode(&ids)?;
            let text = contract.response(contract.cut(&generated));
            let scored = step_reward(&prompt.instance.target, &text, reward);
            rewards.push(scored.reward);
            errors += usize::from(!scored.format_ok);
            exact += usize::from(scored.similarity == Some(1.0));
            similarities.extend(scored.similarity);
        }
    }
    let n = prompts.len().max(1) as f64;
    let (mean_reward, std) = super::grpo::mean_std(&rewards);
    Ok(EvalResult {
        label: label.to_string(),
        instances: prompts.len(),
        mean_reward,
        // The sample standard deviation over √n: the population one over √(n − 1).
        reward_std_error: if rewards.len() > 1 { std / (n - 1.0).sqrt() } else { 0.0 },
        format_error_rate: errors as f64 / n,
        mean_similarity: super::srl::mean(&similarities),
        exact_match_rate: exact as f64 / n,
        seconds: started.elapsed().as_secs_f64(),
    })
}
