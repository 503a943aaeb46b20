//! The student on a GPU, next to `shared/bench/anchor_torch.py` (same shapes, random weights):
//! for the SmolLM2-135M and Qwen2.5-0.5B shapes, one training step on 4 x 1024 tokens (the GRPO
//! update `srl train` runs: forward, clipped loss, backward, gradient clipping, AdamW), with and
//! without activation recomputation, and sampling of 128 new tokens after 512-token prompts at
//! batch 8 and 64. Before timing, it checks the device against the CPU on a small random model:
//! max |Δ logit| of f32 and bf16 forward passes, and of the cached against the full forward, and
//! the largest relative difference of any weight's gradient.
//! Prints one JSON object per measurement, then a Markdown table.
//!
//! Run (see scripts/gpu-bench.sh): `gpu_bench [DEVICE] [PRECISION ...]`, default `cuda bf16 f32`;
//! `GPU_BENCH_SHAPES=tiny gpu_bench cpu f32` is a quick smoke test on a CPU;
//! `gpu_bench export-tokenizer MODEL.gguf DIR` writes a GGUF's tokenizer in Hugging Face files;
//! `gpu_bench greedy MODEL_DIR N IDS…` prints N greedy token ids after the prompt ids (CPU, f32).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde_json::json;
use srl::policy::device::{DeviceSpec, Precision};
use srl::policy::logprob::completion_logprobs_at;
use srl::policy::model::{Config, Model};
use srl::policy::sample::{generate, SamplingConfig};
use srl::policy::tokenizer::TextTokenizer;
use srl::train::optim::AdamW;
use srl::train::update::{update, Batch, UpdateOptions};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn shape(name: &str) -> Result<Config> {
    let value = match name {
        "smollm2-135m" => json!({"vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536,
            "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "rms_norm_eps": 1e-5,
            "rope_theta": 100000.0, "max_position_embeddings": 8192, "tie_word_embeddings": true}),
        "qwen2.5-0.5b" => json!({"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
            "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
            "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "max_position_embeddings": 32768,
            "tie_word_embeddings": true}),
        "tiny" => json!({"vocab_size": 256, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "tie_word_embeddings": true}),
        _ => anyhow::bail!("unknown shape {name}"),
    };
    Ok(serde_json::from_value(value)?)
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    let a = a.to_device(&Device::Cpu)?.to_dtype(DType::F32)?;
    let b = b.to_device(&Device::Cpu)?.to_dtype(DType::F32)?;
    Ok((a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?)
}

/// The agreement checks' input: token ids and 0/1 mask of a 2 x 12 batch whose first row starts
/// with 3 padding positions.
fn padded_batch() -> (Vec<u32>, Vec<f32>) {
    let ids = (0..24u32).map(|i| (i * 37 + 11) % 256).collect();
    let mask = (0..24).map(|i| if i < 3 { 0.0 } else { 1.0 }).collect();
    (ids, mask)
}

/// The device against the CPU on a small random model with a padded batch.
fn agreement(dev: &Device) -> Result<()> {
    let cfg = shape("tiny")?;
    let varmap = VarMap::new();
    let cpu = Model::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
    let tensors: HashMap<String, Tensor> = {
        let data = varmap.data().lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        data.iter().map(|(k, v)| Ok((k.clone(), v.as_tensor().to_device(dev)?))).collect::<Result<_>>()?
    };
    let mut on_device = Model::new(&cfg, VarBuilder::from_tensors(tensors, DType::F32, dev))?;
    let (ids, mask) = padded_batch();
    let input = |d: &Device| -> Result<(Tensor, Tensor)> {
        Ok((Tensor::from_vec(ids.clone(), (2, 12), d)?, Tensor::from_vec(mask.clone(), (2, 12), d)?))
    };
    let (cpu_ids, cpu_mask) = input(&Device::Cpu)?;
    let (dev_ids, dev_mask) = input(dev)?;
    let reference = cpu.forward(&cpu_ids, Some(&cpu_mask))?;
    let f32_diff = max_abs_diff(&reference, &on_device.forward(&dev_ids, Some(&dev_mask))?)?;
    // Cached: the first 8 positions, then the last 4 one at a time.
    let mut cache = on_device.new_cache();
    let mut parts =
        vec![on_device.forward_cached(&dev_ids.narrow(1, 0, 8)?, Some(&dev_mask.narrow(1, 0, 8)?), &mut cache)?];
    for k in 8..12 {
        parts.push(on_device.forward_cached(
            &dev_ids.narrow(1, k, 1)?,
            Some(&dev_mask.narrow(1, k, 1)?),
            &mut cache,
        )?);
    }
    let cached_diff = max_abs_diff(&reference, &Tensor::cat(&parts, 1)?)?;
    on_device.set_compute_dtype(DType::BF16);
    let bf16_diff = max_abs_diff(&reference, &on_device.forward(&dev_ids, Some(&dev_mask))?)?;
    let scale = reference.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
    println!(
        "{}",
        json!({"check": "device vs cpu, tiny model, padded batch 2x12", "max_abs_logit": scale,
            "f32_max_diff": f32_diff, "f32_cached_max_diff": cached_diff, "bf16_max_diff": bf16_diff})
    );
    Ok(())
}

/// Gradients on the device against the CPU (tiny model, padded batch, f32 and bf16 activations):
/// for each weight, max |Δ| over the largest CPU entry; the worst weight is printed.
fn gradient_agreement(dev: &Device) -> Result<()> {
    let cfg = shape("tiny")?;
    let (cpu_vars, dev_vars) = (VarMap::new(), VarMap::new());
    let cpu = Model::new(&cfg, VarBuilder::from_varmap(&cpu_vars, DType::F32, &Device::Cpu))?;
    let mut on_device = Model::new(&cfg, VarBuilder::from_varmap(&dev_vars, DType::F32, dev))?;
    let cpu_data = cpu_vars.data().lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let dev_data = dev_vars.data().lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    for (name, var) in dev_data.iter() {
        var.set(&cpu_data[name].as_tensor().to_device(dev)?)?;
    }
    let (ids, mask) = padded_batch();
    let weights: Vec<f32> = (0..24 * 256).map(|i| ((i * 7919 % 1009) as f32 / 1009.0 - 0.5) * mask[i / 256]).collect();
    let grads = |model: &Model, d: &Device| -> Result<candle_core::backprop::GradStore> {
        let ids = Tensor::from_vec(ids.clone(), (2, 12), d)?;
        let mask = Tensor::from_vec(mask.clone(), (2, 12), d)?;
        let weights = Tensor::from_vec(weights.clone(), (2, 12, 256), d)?;
        Ok((model.forward(&ids, Some(&mask))? * weights)?.sum_all()?.backward()?)
    };
    let reference = grads(&cpu, &Device::Cpu)?;
    for dtype in [DType::F32, DType::BF16] {
        on_device.set_compute_dtype(dtype);
        let on_dev = grads(&on_device, dev)?;
        let (mut worst, mut worst_name) = (0f32, String::new());
        for (name, var) in dev_data.iter() {
            let want = reference.get(cpu_data[name].as_tensor()).context("no CPU gradient")?;
            let got = on_dev.get(var.as_tensor()).with_context(|| format!("no device gradient for {name}"))?;
            let scale = want.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?.max(1e-6);
            let diff = max_abs_diff(want, got)? / scale;
            if diff > worst {
                (worst, worst_name) = (diff, name.clone());
            }
        }
        println!(
            "{}",
            json!({"check": "device vs cpu gradients, tiny model, padded batch 2x12", "activations": format!("{dtype:?}"),
                "max_relative_diff": worst, "worst_weight": worst_name})
        );
    }
    Ok(())
}

struct Row {
    model: &'static str,
    precision: Precision,
    what: String,
    tok_s: f64,
    seconds: f64,
}

fn train_step(model: &Model, varmap: &VarMap, dev: &Device, recompute: bool, vocab: u32) -> Result<f64> {
    let (rows, len) = (4usize, 1024usize);
    let completions: Vec<Vec<u32>> =
        (0..rows).map(|r| (0..len as u32 - 1).map(|i| (i * 7919 + 13 * r as u32 + 1) % vocab).collect()).collect();
    let batch = Batch {
        prompts: vec![vec![1u32]; rows],
        old_logprobs: completions.iter().map(|c| vec![-10.0; c.len()]).collect(),
        completions,
        advantages: vec![1.0, -1.0, 0.5, -0.5],
        reference_logprobs: None,
    };
    let options = UpdateOptions { micro_batch: rows, recompute, ..UpdateOptions::default() };
    let mut optimizer = AdamW::new(varmap, 1e-6, 0, 0.0)?;
    let mut times = Vec::new();
    for k in 0..4 {
        dev.synchronize()?;
        let started = Instant::now();
        update(model, varmap, &mut optimizer, &batch, &options)?;
        dev.synchronize()?;
        if k > 0 {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(median(times))
}

/// Where one plain (no recomputation) training step's time goes: seconds of the forward pass
/// to the logits, the log-probs and loss on top of it, the backward pass, and AdamW.
fn breakdown(model: &Model, varmap: &VarMap, dev: &Device, vocab: u32) -> Result<serde_json::Value> {
    let completions: Vec<Vec<u32>> =
        (0..4u32).map(|r| (0..1023u32).map(|i| (i * 7919 + 13 * r + 1) % vocab).collect()).collect();
    let prompts = vec![vec![1u32]; 4];
    let mut optimizer = AdamW::new(varmap, 1e-6, 0, 0.0)?;
    let input = Tensor::from_vec((0..4096u32).map(|i| (i * 7919 + 1) % vocab).collect(), (4, 1024), dev)?;
    let mut rows = Vec::new();
    for _ in 0..3 {
        let timed = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
            dev.synchronize()?;
            let started = Instant::now();
            f()?;
            dev.synchronize()?;
            Ok(started.elapsed().as_secs_f64())
        };
        let forward = timed(&mut || {
            model.forward(&input, None)?;
            Ok(())
        })?;
        let mut loss = None;
        let with_loss = timed(&mut || {
            let (logprobs, mask) = completion_logprobs_at(model, &prompts, &completions, 1.0)?;
            loss = Some(((logprobs * mask)?.sum_all()? / 4092.0)?);
            Ok(())
        })?;
        let loss = loss.context("no loss")?;
        let mut grads = None;
        let backward = timed(&mut || {
            grads = Some(loss.backward()?);
            Ok(())
        })?;
        let grads = grads.context("no gradients")?;
        let adamw = timed(&mut || optimizer.step(&grads))?;
        rows.push([forward, with_loss, backward, adamw]);
    }
    rows.sort_by(|a, b| a.iter().sum::<f64>().total_cmp(&b.iter().sum::<f64>()));
    let [forward, with_loss, backward, adamw] = rows[1];
    Ok(json!({"forward_to_logits_s": forward, "forward_with_logprobs_and_loss_s": with_loss,
        "backward_s": backward, "adamw_s": adamw}))
}

fn sampling(model: &Model, dev: &Device, batch: usize, vocab: u32) -> Result<f64> {
    let prompts: Vec<Vec<u32>> =
        (0..batch).map(|r| (0..512u32).map(|i| (i * 7919 + 31 * r as u32 + 7) % vocab).collect()).collect();
    let warm = SamplingConfig { temperature: 1.0, top_p: 1.0, top_k: 0, max_new_tokens: 8, seed: 1 };
    generate(model, &prompts, &warm, &[], &mut |_, _| false)?;
    let cfg = SamplingConfig { max_new_tokens: 128, ..warm };
    dev.synchronize()?;
    let started = Instant::now();
    let out = generate(model, &prompts, &cfg, &[], &mut |_, _| false)?;
    dev.synchronize()?;
    let generated: usize = out.iter().map(|c| c.token_ids.len()).sum();
    anyhow::ensure!(generated == batch * 128, "sampling stopped early: {generated} tokens");
    Ok(started.elapsed().as_secs_f64())
}

fn bench(name: &'static str, precision: Precision, dev: &Device, rows: &mut Vec<Row>) -> Result<()> {
    let cfg = shape(name)?;
    let varmap = VarMap::new();
    let mut model = Model::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, dev))?;
    model.set_compute_dtype(precision.dtype());
    let vocab = cfg.vocab_size as u32;
    let mut record = |what: String, tokens: usize, seconds: f64| {
        let row = Row { model: name, precision, what, tok_s: tokens as f64 / seconds, seconds };
        println!(
            "{}",
            json!({"model": row.model, "precision": format!("{precision:?}").to_lowercase(), "what": row.what,
                "tok_s": row.tok_s.round(), "seconds": (row.seconds * 1000.0).round() / 1000.0})
        );
        rows.push(row);
    };
    for recompute in [false, true] {
        let what = format!("train 4x1024{}", if recompute { ", recompute" } else { "" });
        match train_step(&model, &varmap, dev, recompute, vocab) {
            Ok(seconds) => record(what, 4096, seconds),
            Err(e) => println!("{}", json!({"model": name, "what": what, "error": format!("{e:#}")})),
        }
    }
    if name != "qwen2.5-0.5b" {
        match breakdown(&model, &varmap, dev, vocab) {
            Ok(parts) => println!(
                "{}",
                json!({"model": name, "precision": format!("{precision:?}").to_lowercase(),
                "breakdown of one train 4x1024 step (median of 3)": parts})
            ),
            Err(e) => println!("{}", json!({"model": name, "what": "breakdown", "error": format!("{e:#}")})),
        }
    }
    for batch in [8, 64] {
        let seconds = sampling(&model, dev, batch, vocab).with_context(|| format!("{name}: sampling b{batch}"))?;
        record(format!("sample b{batch}, 512+128"), batch * 128, seconds);
    }
    Ok(())
}

fn main() -> Result<()> {
    srl::policy::device::settle_cpu_threads();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("export-tokenizer") {
        // For scripts/gpu-bench.sh: the GGUF's tokenizer as tokenizer.json + tokenizer_config.json.
        let [_, gguf, dir] = &args[..] else { anyhow::bail!("usage: gpu_bench export-tokenizer MODEL.gguf DIR") };
        std::fs::create_dir_all(dir)?;
        return TextTokenizer::from_gguf(std::path::Path::new(gguf))?.save(std::path::Path::new(dir));
    }
    if args.first().map(String::as_str) == Some("greedy") {
        // For scripts/gpu-bench.sh: greedy token ids of a checkpoint, compared there with
        // transformers' `generate(do_sample=False)` on the same prompt ids.
        let [_, model, new_tokens, prompt @ ..] = &args[..] else {
            anyhow::bail!("usage: gpu_bench greedy MODEL_DIR NEW_TOKENS PROMPT_ID...")
        };
        let loaded = srl::policy::load::load(std::path::Path::new(model), DType::F32, &Device::Cpu)?;
        let prompt: Vec<u32> = prompt.iter().map(|id| id.parse()).collect::<Result<_, _>>()?;
        let greedy =
            SamplingConfig { temperature: 0.0, top_p: 1.0, top_k: 0, max_new_tokens: new_tokens.parse()?, seed: 0 };
        let out = generate(&loaded.model, &[prompt], &greedy, &[], &mut |_, _| false)?;
        println!("{}", json!({"greedy": out[0].token_ids}));
        return Ok(());
    }
    let spec: DeviceSpec = args.first().map_or("cuda", String::as_str).parse()?;
    let precisions: Vec<Precision> = if args.len() > 1 {
        args[1..].iter().map(|p| p.parse()).collect::<Result<_>>()?
    } else {
        vec![Precision::Bf16, Precision::F32]
    };
    let dev = spec.open()?;
    // A failure is printed and the bench goes on, so one broken piece does not hide the rest.
    if let Err(e) = agreement(&dev) {
        println!("{}", json!({"check": "device vs cpu", "error": format!("{e:#}")}));
    }
    if let Err(e) = gradient_agreement(&dev) {
        println!("{}", json!({"check": "device vs cpu gradients", "error": format!("{e:#}")}));
    }
    let mut rows = Vec::new();
    // GPU_BENCH_SHAPES=tiny runs the whole bench on the small model (a smoke test on a CPU).
    let shapes = std::env::var("GPU_BENCH_SHAPES").unwrap_or_else(|_| "smollm2-135m,qwen2.5-0.5b".into());
    for name in shapes.split(',') {
        let name: &'static str = match name {
            "smollm2-135m" => "smollm2-135m",
            "qwen2.5-0.5b" => "qwen2.5-0.5b",
            "tiny" => "tiny",
            _ => anyhow::bail!("GPU_BENCH_SHAPES: unknown shape {name:?}"),
        };
        for &precision in &precisions {
            if let Err(e) = bench(name, precision, &dev, &mut rows) {
                println!(
                    "{}",
                    json!({"model": name, "precision": format!("{precision:?}"), "error": format!("{e:#}")})
                );
            }
        }
    }
    println!("\n| model | precision | what | tok/s | seconds |\n|---|---|---|---|---|");
    for r in &rows {
        println!("| {} | {:?} | {} | {:.0} | {:.3} |", r.model, r.precision, r.what, r.tok_s, r.seconds);
    }
    Ok(())
}
