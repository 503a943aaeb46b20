//! Batched sampling with a KV cache: many prompts at once (GRPO draws G completions per
//! prompt), temperature / top-k / top-p / max tokens / stop tokens / stop sequences, seeded.
//!
//! Every completion keeps the exact token ids it sampled and each one's log-probability under
//! the sampling distribution (log-softmax of logits / temperature; of the raw logits when
//! greedy), so training never re-tokenizes decoded text. Prompts of different lengths are
//! left-padded and masked; a finished sequence keeps feeding masked padding until the batch is
//! done. Identical prompts (a GRPO group) are prefilled once and share the resulting cache.
//!
//! Selection of the next token happens on the host on a CPU (cheap next to the forward pass;
//! without top-k / top-p it is one pass over the vocabulary, no sort). On a GPU, drawing from
//! the full distribution happens on the device with the Gumbel-max trick (argmax of log-probs
//! plus Gumbel noise is a draw from the softmax), so only the chosen ids and their log-probs
//! cross to the host; the device's generator is seeded with the config's seed. Top-k / top-p
//! on a GPU copy the logits to the host and use the host path.

use anyhow::{bail, Result};
use candle_core::{DType, Tensor, D};
use rayon::prelude::*;

use super::model::Model;

#[derive(Debug, Clone, PartialEq)]
pub struct SamplingConfig {
    /// 0 means greedy.
    pub temperature: f64,
    /// Keep the smallest set of tokens whose probability adds up to `top_p` (1.0 = off).
    pub top_p: f64,
    /// Keep the `top_k` most likely tokens (0 = off).
    pub top_k: usize,
    pub max_new_tokens: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// A stop token (EOS, end of turn) was sampled; it is the last id of the completion.
    Stop,
    /// `max_new_tokens` was reached.
    Length,
    /// The caller's `is_done` said the text so far is complete (a stop sequence).
    StopSequence,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub token_ids: Vec<u32>,
    pub logprobs: Vec<f32>,
    pub finish: FinishReason,
}

/// SplitMix64: a tiny, fixed generator, so a seed gives the same samples on every machine.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Picks the next token from one row of logits; returns it and its log-probability.
fn pick(logits: &[f32], cfg: &SamplingConfig, rng: &mut Rng) -> (u32, f32) {
    let scale = if cfg.temperature > 0.0 { 1.0 / cfg.temperature } else { 1.0 };
    let scaled: Vec<f64> = logits.iter().map(|&l| f64::from(l) * scale).collect();
    let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // Single-precision exponentials (several times cheaper than f64 ones, over the whole
    // vocabulary per token) summed in f64: log-probs stay within f32 rounding.
    let exp = |x: f64| f64::from((x as f32).exp());
    let log_norm = max + scaled.iter().map(|l| exp(l - max)).sum::<f64>().ln();
    let logprob = |id: usize| (scaled[id] - log_norm) as f32;
    if cfg.temperature <= 0.0 {
        let best = (0..scaled.len()).fold(0, |best, i| if scaled[i] > scaled[best] { i } else { best });
        return (best as u32, logprob(best));
    }
    if cfg.top_k == 0 && cfg.top_p >= 1.0 {
        // The whole distribution: walk it in vocabulary order, no sort needed.
        let mut target = rng.next_f64();
        for (id, l) in scaled.iter().enumerate() {
            target -= exp(l - log_norm);
            if target <= 0.0 {
                return (id as u32, logprob(id));
            }
        }
        let last = scaled.len() - 1;
        return (last as u32, logprob(last));
    }
    let mut order: Vec<usize> = (0..scaled.len()).collect();
    let by_logit = |a: &usize, b: &usize| scaled[*b].total_cmp(&scaled[*a]);
    if cfg.top_k > 0 && cfg.top_k < order.len() {
        order.select_nth_unstable_by(cfg.top_k - 1, by_logit);
        order.truncate(cfg.top_k);
    }
    order.sort_by(by_logit);
    let probs: Vec<f64> = order.iter().map(|&i| exp(scaled[i] - log_norm)).collect();
    let mut keep = probs.len();
    if cfg.top_p < 1.0 {
        let mut total = 0.0;
        keep = probs
            .iter()
            .position(|p| {
                total += p;
                total >= cfg.top_p
            })
            .map_or(probs.len(), |i| i + 1);
    }
    let mass: f64 = probs[..keep].iter().sum();
    let mut target = rng.next_f64() * mass;
    for (rank, p) in probs[..keep].iter().enumerate() {
        target -= p;
        if target <= 0.0 {
            return (order[rank] as u32, logprob(order[rank]));
        }
    }
    (order[keep - 1] as u32, logprob(order[keep - 1]))
}

/// Every row's next token and its log-probability, drawn on the logits' device: greedy is the
/// argmax; otherwise the argmax of log-probs plus Gumbel noise `-ln(-ln U)`, a draw from the
/// softmax at `temperature`.
fn pick_on_device(logits: &Tensor, temperature: f64) -> Result<(Vec<u32>, Vec<f32>)> {
    let logits = logits.to_dtype(DType::F32)?;
    let scaled = if temperature > 0.0 { (logits / temperature)? } else { logits };
    let log_probs = candle_nn::ops::log_softmax(&scaled, D::Minus1)?;
    let choice = if temperature > 0.0 {
        // U in (0, 1): the lower bound keeps ln U finite.
        let uniform = Tensor::rand(1e-30f32, 1f32, log_probs.shape(), log_probs.device())?;
        let gumbel = uniform.log()?.neg()?.log()?.neg()?;
        (&log_probs + gumbel)?.argmax(D::Minus1)?
    } else {
        log_probs.argmax(D::Minus1)?
    };
    let chosen = log_probs.gather(&choice.unsqueeze(1)?, 1)?.squeeze(1)?;
    Ok((choice.to_vec1::<u32>()?, chosen.to_vec1::<f32>()?))
}

/// Generates one completion per prompt. `stop_ids` end a completion (the stop token is kept);
/// `is_done(index, ids)` lets the caller end one on a stop sequence in the decoded text.
pub fn generate(
    model: &Model,
    prompts: &[Vec<u32>],
    cfg: &SamplingConfig,
    stop_ids: &[u32],
    is_done: &mut dyn FnMut(usize, &[u32]) -> bool,
) -> Result<Vec<Completion>> {
    if prompts.is_empty() {
        return Ok(Vec::new());
    }
    if prompts.iter().any(Vec::is_empty) {
        bail!("every prompt needs at least one token");
    }
    let dev = model.device();
    let b = prompts.len();
    // Each distinct prompt is prefilled once and its cache copied to every row that asked for
    // it: GRPO samples a group of completions per prompt, identical until the first draw.
    let mut distinct: Vec<&Vec<u32>> = Vec::new();
    let source: Vec<usize> = prompts
        .iter()
        .map(|p| {
            distinct.iter().position(|d| *d == p).unwrap_or_else(|| {
                distinct.push(p);
                distinct.len() - 1
            })
        })
        .collect();
    let width = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(distinct.len() * width);
    let mut mask = Vec::with_capacity(distinct.len() * width);
    for prompt in &distinct {
        let pad = width - prompt.len();
        ids.extend(std::iter::repeat_n(0u32, pad).chain(prompt.iter().copied()));
        mask.extend(std::iter::repeat_n(0f32, pad).chain(std::iter::repeat_n(1f32, prompt.len())));
    }
    let mut cache = model.new_cache();
    let input = Tensor::from_vec(ids, (distinct.len(), width), dev)?;
    let mask = Tensor::from_vec(mask, (distinct.len(), width), dev)?;
    let mut logits = model.forward_cached_last(&input, Some(&mask), &mut cache)?.detach();
    if distinct.len() < b {
        cache.repeat_rows(&source)?;
        let index = Tensor::from_vec(source.iter().map(|&r| r as u32).collect(), b, dev)?;
        logits = logits.contiguous()?.index_select(&index, 0)?;
    }
    let mut rngs: Vec<Rng> = (0..b as u64).map(|i| Rng(cfg.seed ^ i.wrapping_mul(0xd134_2543_de82_ef95))).collect();
    let mut out: Vec<Completion> = (0..b)
        .map(|_| Completion { token_ids: Vec::new(), logprobs: Vec::new(), finish: FinishReason::Length })
        .collect();
    let mut done = vec![false; b];
    let on_device = !dev.is_cpu() && cfg.top_k == 0 && cfg.top_p >= 1.0;
    if on_device {
        dev.set_seed(cfg.seed)?;
    }
    for step in 0..cfg.max_new_tokens {
        let picks: Vec<(u32, f32)> = if on_device {
            let (ids, logprobs) = pick_on_device(&logits, cfg.temperature)?;
            ids.into_iter().zip(logprobs).collect()
        } else {
            let rows: Vec<Vec<f32>> = logits.to_dtype(DType::F32)?.to_vec2()?;
            rows.par_iter().zip(rngs.par_iter_mut()).map(|(row, rng)| pick(row, cfg, rng)).collect()
        };
        let mut next = vec![0u32; b];
        for (i, &(token, logprob)) in picks.iter().enumerate() {
            if done[i] {
                continue;
            }
            next[i] = token;
            out[i].token_ids.push(token);
            out[i].logprobs.push(logprob);
            if stop_ids.contains(&token) {
                (done[i], out[i].finish) = (true, FinishReason::Stop);
            } else if is_done(i, &out[i].token_ids) {
                (done[i], out[i].finish) = (true, FinishReason::StopSequence);
            }
        }
        // The last token needs no forward pass: nothing would read its logits.
        if done.iter().all(|d| *d) || step + 1 == cfg.max_new_tokens {
            break;
        }
        let step_mask: Vec<f32> = done.iter().map(|d| if *d { 0.0 } else { 1.0 }).collect();
        let input = Tensor::from_vec(next, (b, 1), dev)?;
        let step_mask = Tensor::from_vec(step_mask, (b, 1), dev)?;
        logits = model.forward_cached_last(&input, Some(&step_mask), &mut cache)?.detach();
    }
    Ok(out)
}
