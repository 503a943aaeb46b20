//! `srl train`: SRL (step-wise reward) GRPO training of a candle student on step instances.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use candle_core::{DType, Device};

use super::Outcome;
use crate::policy::chat::Template;
use crate::policy::load::{load, save_hf};
use crate::policy::sample::SamplingConfig;
use crate::policy::tokenizer::TextTokenizer;
use crate::reward::RewardConfig;
use crate::steps::StepInstance;
use crate::train::grpo::AdvantageConfig;
use crate::train::loss::LossConfig;
use crate::train::srl::{train_srl, SrlOptions};

#[derive(clap::Args)]
pub struct Args {
    /// The student: a Hugging Face directory (config.json, safetensors, tokenizer.json) or a .gguf file
    #[arg(long)]
    model: PathBuf,
    /// Step instances written by `srl steps`
    #[arg(long)]
    steps: PathBuf,
    /// Run directory: metrics.jsonl and the final checkpoint (Hugging Face layout) go here
    #[arg(long)]
    out: PathBuf,
    /// Optimisation steps
    #[arg(long, default_value_t = 4)]
    train_steps: usize,
    /// Prompts per step
    #[arg(long, default_value_t = 1)]
    prompts_per_step: usize,
    /// Rollouts per prompt (G)
    #[arg(long, default_value_t = 8)]
    group_size: usize,
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    #[arg(long, default_value_t = 256)]
    max_new_tokens: usize,
    /// Prompts longer than this are skipped
    #[arg(long, default_value_t = 2048)]
    max_prompt_tokens: usize,
    /// AdamW learning rate (the paper: 5e-7 at batch 512)
    #[arg(long, default_value_t = 1e-6)]
    lr: f64,
    /// Groups whose reward std is at most this are dropped (dynamic sampling)
    #[arg(long, default_value_t = 1e-4)]
    min_group_std: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: Args) -> Result<Outcome> {
    let dev = Device::Cpu;
    let loaded = load(&args.model, DType::F32, &dev)?;
    let tokenizer =
        if args.model.is_dir() { TextTokenizer::from_hf(&args.model)? } else { TextTokenizer::from_gguf(&args.model)? };
    let template = Template::detect(tokenizer.chat_template.as_deref())?;
    let text = std::fs::read_to_string(&args.steps).with_context(|| format!("cannot read {}", args.steps.display()))?;
    let mut instances = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let instance: StepInstance = serde_json::from_str(line)
            .with_context(|| format!("{}: line {}: not a srl.step/1 instance", args.steps.display(), n + 1))?;
        instances.push(instance);
    }
    let options = SrlOptions {
        steps: args.train_steps,
        prompts_per_step: args.prompts_per_step,
        group_size: args.group_size,
        sampling: SamplingConfig {
            temperature: args.temperature,
            top_p: 1.0,
            top_k: 0,
            max_new_tokens: args.max_new_tokens,
            seed: args.seed,
        },
        learning_rate: args.lr,
        loss: LossConfig { clip: 0.2, token_level: true },
        advantage: AdvantageConfig { scale_by_std: true, epsilon: 1e-6 },
        max_grad_norm: 1.0,
        min_group_std: args.min_group_std,
        passes: 1,
        max_prompt_tokens: args.max_prompt_tokens,
        reward: RewardConfig { autojunk: false },
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let metrics_path = args.out.join("metrics.jsonl");
    let mut metrics =
        std::fs::File::create(&metrics_path).with_context(|| format!("cannot create {}", metrics_path.display()))?;
    train_srl(&loaded.model, &loaded.varmap, &tokenizer, template, &instances, &options, &mut |m| {
        serde_json::to_writer(&mut metrics, m)?;
        metrics.write_all(b"\n")?;
        metrics.flush()?;
        println!(
            "step {:>3}: reward {:.3} ± {:.3} (max {:.3}), format errors {:.0}%, kept {}/{} groups, loss {}, {:.1} tok/s",
            m.step,
            m.reward_mean,
            m.reward_std,
            m.reward_max,
            100.0 * m.format_error_rate,
            m.kept_groups,
            m.groups,
            m.loss.map_or("-".to_string(), |l| format!("{l:.4}")),
            m.tokens_per_second
        );
        Ok(())
    })?;
    let checkpoint = args.out.join("checkpoint");
    save_hf(&loaded.varmap, &loaded.config, &checkpoint, DType::F32)?;
    println!("metrics in {}, checkpoint in {}", metrics_path.display(), checkpoint.display());
    Ok(Outcome::Clean)
}
