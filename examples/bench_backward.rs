//! The cost of one training row on a CPU: SmolLM2-135M's forward and backward with activation
//! recomputation (`Model::backward_recomputed`, as `srl train` runs it) on one sequence of 576
//! tokens, with log-probs taken at the last 64 positions. Prints the median of 5 and every time.
//! Meant for A/B comparisons: build it at two commits and alternate the binaries.
//!
//! Run: `scripts/fetch-model.sh && cargo run --release --example bench_backward [MODEL.gguf]`

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use srl::policy::load::load;

fn main() -> anyhow::Result<()> {
    srl::policy::device::settle_cpu_threads();
    let path = std::env::args().nth(1).unwrap_or_else(|| "models/SmolLM2-135M-Instruct.Q4_1.gguf".into());
    let loaded = load(std::path::Path::new(&path), DType::F32, &Device::Cpu)?;
    let vocab = loaded.config.vocab_size as u32;
    let ids: Vec<u32> = (0..576u32).map(|i| (i * 7919 + 13) % vocab).collect();
    let input = Tensor::from_vec(ids, (1, 576), &Device::Cpu)?;
    // Logits at positions 511..575 predict the last 64 tokens.
    let rows = Tensor::from_vec((511..575u32).collect::<Vec<_>>(), 64, &Device::Cpu)?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let (loss, _grads) = loaded.model.backward_recomputed(&input, None, Some(&rows), &mut |logits| {
            candle_nn::ops::log_softmax(logits, 1)?.mean_all()
        })?;
        times.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(loss.to_scalar::<f32>()?.is_finite(), "the loss is not finite");
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let all: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    println!("forward + recomputed backward, 1 x 576 tokens: median {:.2} s (all: {})", sorted[2], all.join(", "));
    Ok(())
}
