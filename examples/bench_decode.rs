//! CPU decoding speed of the student (f32, dequantized from GGUF): prompt processing, greedy
//! decoding at batch 1, and total tokens/s at batch 8, with f32 weights and then with the int8
//! sampling copies (`Model::set_quantized_sampling`). Prints medians of 3 runs, and how many of
//! the 64 greedy tokens the int8 copies change.
//!
//! Run: `scripts/fetch-model.sh && cargo run --release --example bench_decode [MODEL.gguf]`

use std::time::Instant;

use candle_core::{DType, Device};
use srl::policy::chat::{Template, Turn};
use srl::policy::load::load;
use srl::policy::sample::{generate, SamplingConfig};
use srl::policy::tokenizer::TextTokenizer;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() -> anyhow::Result<()> {
    srl::policy::device::settle_cpu_threads();
    let path = std::env::args().nth(1).unwrap_or_else(|| "models/SmolLM2-135M-Instruct.Q4_1.gguf".into());
    let path = std::path::Path::new(&path);
    let mut loaded = load(path, DType::F32, &Device::Cpu)?;
    let tokenizer = TextTokenizer::from_gguf(path)?;
    let template = Template::detect(tokenizer.chat_template.as_deref())?;
    let prompt =
        template.render(&[Turn { role: "user", content: "Write a short story about a robot who learns to paint." }]);
    let ids = tokenizer.encode(&prompt)?;
    let new_tokens = 64;
    let greedy = SamplingConfig { temperature: 0.0, top_p: 1.0, top_k: 0, max_new_tokens: new_tokens, seed: 0 };
    let run = |model: &srl::policy::model::Model, batch: usize| -> anyhow::Result<(f64, f64)> {
        let prompts = vec![ids.clone(); batch];
        let started = Instant::now();
        generate(model, &prompts, &SamplingConfig { max_new_tokens: 1, ..greedy.clone() }, &[], &mut |_, _| false)?;
        let prefill_s = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let out = generate(model, &prompts, &greedy, &[], &mut |_, _| false)?;
        let total_s = started.elapsed().as_secs_f64();
        let generated: usize = out.iter().map(|c| c.token_ids.len()).sum();
        // Decode rate: the run minus one prefill, over the tokens after the first of each row.
        Ok(((batch * ids.len()) as f64 / prefill_s, (generated - batch) as f64 / (total_s - prefill_s).max(1e-9)))
    };
    let mut greedy_tokens = Vec::new();
    for weights in ["f32", "int8"] {
        loaded.model.set_quantized_sampling(weights == "int8")?;
        let model = &loaded.model;
        let run = |batch: usize| run(model, batch);
        for batch in [1, 8] {
            let runs: Vec<(f64, f64)> = (0..3).map(|_| run(batch)).collect::<anyhow::Result<_>>()?;
            println!(
                "{weights} weights, batch {batch}: prompt {} tokens, prefill {:.1} tok/s{}, decode {:.1} tok/s (total over the batch), median of 3",
                ids.len(),
                median(runs.iter().map(|r| r.0).collect()),
                if batch > 1 { " (the batch's identical prompts are prefilled once)" } else { "" },
                median(runs.iter().map(|r| r.1).collect())
            );
        }
        greedy_tokens
            .push(generate(model, std::slice::from_ref(&ids), &greedy, &[], &mut |_, _| false)?.remove(0).token_ids);
    }
    let first_difference = greedy_tokens[0].iter().zip(&greedy_tokens[1]).position(|(a, b)| a != b);
    println!(
        "greedy tokens, int8 vs f32: {}",
        first_difference.map_or("identical".to_string(), |k| format!("first difference at token {k} of 64"))
    );
    Ok(())
}
