//! CPU training throughput of the student: one GRPO step (sample G = 4 completions of 64 tokens
//! from a 512-token prompt, then one update on them) and one SFT step (2 sequences of 512 + 64
//! tokens), for the tiny test configuration and for SmolLM2-135M. Medians of 3; the update uses
//! activation recomputation, as `srl train` does. SmolLM2 runs twice: f32 sampling, then with the
//! int8 sampling copies (`quantized_sampling`).
//!
//! Run: `scripts/fetch-model.sh && cargo run --release --example bench_train [MODEL.gguf]`

use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use srl::policy::load::load;
use srl::policy::model::{Config, Model};
use srl::policy::sample::{generate, SamplingConfig};
use srl::train::grpo::{advantages, AdvantageConfig};
use srl::train::optim::AdamW;
use srl::train::update::{sft_update, update, Batch, SftOptions, UpdateOptions};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Seconds of (sampling, GRPO update, SFT update) for one repetition.
fn step(model: &Model, varmap: &VarMap, vocab: u32, seed: u64) -> anyhow::Result<(f64, f64, f64)> {
    let prompt: Vec<u32> = (0..512u32).map(|i| (i * 7919 + 13) % vocab).collect();
    let cfg = SamplingConfig { temperature: 1.0, top_p: 1.0, top_k: 0, max_new_tokens: 64, seed };
    let started = Instant::now();
    let group = generate(model, &vec![prompt.clone(); 4], &cfg, &[], &mut |_, _| false)?;
    let sampling = started.elapsed().as_secs_f64();
    let rewards: Vec<f64> = (0..4).map(|k| k as f64).collect();
    let batch = Batch {
        prompts: vec![prompt.clone(); 4],
        completions: group.iter().map(|c| c.token_ids.clone()).collect(),
        old_logprobs: group.iter().map(|c| c.logprobs.clone()).collect(),
        advantages: advantages(&rewards, &AdvantageConfig { scale_by_std: true, epsilon: 1e-6 })
            .into_iter()
            .map(|a| a as f32)
            .collect(),
        reference_logprobs: None,
    };
    let options = UpdateOptions::default();
    let mut optimizer = AdamW::new(varmap, 1e-6, 0, 0.0)?;
    let started = Instant::now();
    update(model, varmap, &mut optimizer, &batch, &options)?;
    let grpo = started.elapsed().as_secs_f64();
    let targets = vec![batch.completions[0].clone(), batch.completions[1].clone()];
    let started = Instant::now();
    let sft = SftOptions { max_grad_norm: 1.0, micro_batch: 1, recompute: true };
    sft_update(model, varmap, &mut optimizer, &[prompt.clone(), prompt], &targets, &sft)?;
    Ok((sampling, grpo, started.elapsed().as_secs_f64()))
}

fn report(name: &str, model: &Model, varmap: &VarMap, vocab: u32) -> anyhow::Result<()> {
    let runs: Vec<(f64, f64, f64)> = (0..3).map(|k| step(model, varmap, vocab, k)).collect::<Result<_, _>>()?;
    let (s, g, f) = (
        median(runs.iter().map(|r| r.0).collect()),
        median(runs.iter().map(|r| r.1).collect()),
        median(runs.iter().map(|r| r.2).collect()),
    );
    // Tokens the update processes: 4 rows of 512 + 64; the SFT step 2 rows of 512 + 64.
    println!(
        "| {name} | {:.1} s ({:.0} tok/s generated) | {g:.1} s ({:.0} tok/s) | {f:.1} s ({:.0} tok/s) |",
        s,
        256.0 / s,
        4.0 * 576.0 / g,
        2.0 * 576.0 / f
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    srl::policy::device::settle_cpu_threads();
    println!("| model | sample 4 x 64 tokens | GRPO update, 4 x 576 tokens | SFT step, 2 x 576 tokens |");
    println!("|---|---|---|---|");
    let tiny: Config = serde_json::from_value(serde_json::json!({
        "vocab_size": 258, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "tie_word_embeddings": true
    }))?;
    let varmap = VarMap::new();
    let model = Model::new(&tiny, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
    report("tiny (2 layers, hidden 32)", &model, &varmap, 258)?;
    let path = std::env::args().nth(1).unwrap_or_else(|| "models/SmolLM2-135M-Instruct.Q4_1.gguf".into());
    let mut loaded = load(std::path::Path::new(&path), DType::F32, &Device::Cpu)?;
    report("SmolLM2-135M (f32)", &loaded.model, &loaded.varmap, loaded.config.vocab_size as u32)?;
    // The same with int8 sampling copies (re-quantized after each update, as in `srl train`).
    loaded.model.set_quantized_sampling(true)?;
    report("SmolLM2-135M (f32, int8 sampling)", &loaded.model, &loaded.varmap, loaded.config.vocab_size as u32)?;
    Ok(())
}
