//! The `srl train` driver: stages (SFT, SRL) over one model, evaluations before, between and
//! after them, metrics lines, checkpoints and exact resume. The arithmetic lives in `grpo`,
//! `loss`, `update`; rollouts in `srl`; SFT targets in `sft`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use candle_core::DType;
use serde::Serialize;

use super::checkpoint::{self, TrainerState};
use super::config::{Mode, TrainConfig};
use super::data::{encode_prompts, read_instances, shuffle, split};
use super::evaluate::{evaluate, EvalResult};
use super::execution::task_instances;
use super::execution::ExecutionRewards;
use super::grpo::AdvantageConfig;
use super::loss::LossConfig;
use super::optim::AdamW;
use super::rlvr::{rlvr_step, RlvrOptions, TrainingPolicy};
use super::rollouts::{self, RolloutLog};
use super::sft::{sft_batch, target_ids};
use super::srl::{mean, reward_summary, sample_step, Prompt, RolloutOptions, RolloutReward, RolloutStats};
use super::student::Student;
use super::update::{kl_k3, padded, sft_update, update, Batch, SftOptions, UpdateOptions};
use crate::agent::model::Sampling;
use crate::agent::AgentOptions;
use crate::policy::chat::Template;
use crate::policy::contract::{self, Origin, SavedContract};
use crate::policy::device::Placement;
use crate::policy::load::load;
use crate::policy::logprob::completion_logprobs_at;
use crate::policy::sample::SamplingConfig;
use crate::policy::tokenizer::TextTokenizer;
use crate::reward::format::OutputContract;
use crate::reward::{step_reward, RewardConfig};
use crate::sandbox::Backend;
use crate::steps::StepInstance;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Sft,
    Srl,
    Rlvr,
}

fn stages(mode: Mode) -> &'static [Stage] {
    match mode {
        Mode::Srl => &[Stage::Srl],
        Mode::Sft => &[Stage::Sft],
        Mode::SftThenSrl => &[Stage::Sft, Stage::Srl],
        Mode::Rlvr => &[Stage::Rlvr],
        Mode::SrlThenRlvr => &[Stage::Srl, Stage::Rlvr],
    }
}

/// One line of `metrics.jsonl`. SRL-only figures are `null` on SFT steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StepMetrics {
    pub stage: String,
    /// Optimisation step in the whole run (0-based).
    pub step: usize,
    pub stage_step: usize,
    pub learning_rate: f64,
    /// Mean loss and gradient norm over the passes; absent when every group was dropped.
    pub loss: Option<f32>,
    pub grad_norm: Option<f32>,
    pub reward_mean: Option<f64>,
    pub reward_std: Option<f64>,
    pub reward_max: Option<f64>,
    pub format_error_rate: Option<f64>,
    pub similarity_mean: Option<f64>,
    pub execution_reward_mean: Option<f64>,
    pub kept_groups: Option<usize>,
    pub sampled_groups: Option<usize>,
    pub kept_ratio: Option<f64>,
    pub kl_to_initial: Option<f64>,
    /// Tokens generated (SRL) or trained on (SFT) in this step.
    pub tokens: usize,
    pub tokens_per_second: f64,
    pub seconds_generation: f64,
    pub seconds_reward: f64,
    pub seconds_update: f64,
}

/// What the driver reports as it goes.
pub enum Event<'a> {
    Message(String),
    Step { metrics: &'a StepMetrics, total_steps: usize },
    Eval(&'a EvalResult),
}

/// Runs (or, with `resume`, continues) the training described by `config` in `config.out`.
/// With `stop_after`, stops (checkpointed) after that many optimisation steps of this call.
pub fn run(
    config: &TrainConfig,
    resume: bool,
    stop_after: Option<usize>,
    report: &mut dyn FnMut(Event),
) -> Result<TrainerState> {
    let out = config.out.as_path();
    let resume_from = if resume { checkpoint::existing_checkpoint(out) } else { None };
    if !resume && (out.join("metrics.jsonl").exists() || checkpoint::existing_checkpoint(out).is_some()) {
        bail!(
            "{} already holds a run; continue it with `srl train --resume {}` or choose another out",
            out.display(),
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    if !resume {
        crate::atomic::write_file(&out.join("config.toml"), config.to_toml()?.as_bytes())?;
    }
    // A Hub id becomes its snapshot in the local cache, once, for everything below.
    let resolved = TrainConfig {
        model: crate::policy::hub::resolve(&config.model, config.model_revision.as_deref())
            .with_context(|| format!("model {}", config.model.display()))?,
        ..config.clone()
    };
    let config = &resolved;
    let tokenizer = if config.model.is_dir() {
        TextTokenizer::from_hf(&config.model)?
    } else {
        TextTokenizer::from_gguf(&config.model)?
    };
    let template = Template::detect(tokenizer.chat_template.as_deref())?;
    // The contract: the configured prefix, else the one saved with the checkpoint being resumed
    // or with the model being trained further.
    let contract_source = resume_from.as_deref().unwrap_or(&config.model);
    let (prefix, prefix_origin) = contract::resolve_prefix(config.response_prefix.as_deref(), contract_source)?;
    report(Event::Message(format!(
        "output contract: response prefix {prefix:?} ({}), chat template {}",
        match prefix_origin {
            Origin::Given => "from the configuration".to_string(),
            Origin::Checkpoint => format!("from {}", contract_source.join(contract::FILE).display()),
            Origin::Default => "none configured or saved".to_string(),
        },
        template.name()
    )));
    let contract = OutputContract::new(prefix);
    let mut state = match &resume_from {
        Some(dir) => {
            report(Event::Message(format!("resuming from {}", dir.display())));
            checkpoint::load_state(dir)?
        }
        None => TrainerState::default(),
    };
    let placement =
        Placement { device: config.device, precision: config.precision, quantized_sampling: config.quantized_sampling };
    let loaded = Student::load(&config.model, &config.lora, resume_from.as_deref(), &placement)?;
    if config.lora.rank > 0 {
        report(Event::Message(format!(
            "LoRA rank {} on {}: {} trainable parameters",
            config.lora.rank,
            config.lora.targets.join(", "),
            loaded.trainable_parameters()
        )));
    }
    if state.finished {
        report(Event::Message(format!("{}: the run is already finished", out.display())));
        return Ok(state);
    }
    let (metrics_path, eval_path) = (out.join("metrics.jsonl"), out.join("eval.jsonl"));
    checkpoint::truncate_lines(&metrics_path, state.global_step)?;
    checkpoint::truncate_lines(&eval_path, state.evals_done.len())?;
    rollouts::truncate_from_step(&out.join("rollouts.jsonl"), state.global_step)?;

    let instances = read_instances(&config.steps)?;
    let (train, held_out) = split(&instances, config.eval.holdout_trajectories);
    // A prompt must leave room for the longest completion within the model's positions.
    let positions = loaded.config.max_position_embeddings;
    let longest = config.srl.max_new_tokens.max(config.eval.max_new_tokens);
    let Some(room) = positions.checked_sub(longest).filter(|r| *r > 0) else {
        bail!("the model has {positions} positions: max_new_tokens ({longest}) leaves no room for a prompt");
    };
    let prompt_limit = config.max_prompt_tokens.min(room);
    let mut train_prompts = encode_prompts(&tokenizer, template, &train, &contract.response_prefix, prompt_limit)?;
    shuffle(&mut train_prompts, config.seed);
    if train_prompts.is_empty() {
        bail!("no training step instance fits in {prompt_limit} prompt tokens (max_prompt_tokens, model positions)");
    }
    let mut eval_prompts = encode_prompts(&tokenizer, template, &held_out, &contract.response_prefix, prompt_limit)?;
    if config.eval.max_instances > 0 {
        eval_prompts.truncate(config.eval.max_instances);
    }
    report(Event::Message(format!(
        "{} training prompts ({} trajectories held out: {} evaluation prompts)",
        train_prompts.len(),
        config.eval.holdout_trajectories,
        eval_prompts.len()
    )));
    let reward_config = RewardConfig { autojunk: config.reward.autojunk };
    let plan = stages(config.mode);
    let total_steps: usize = plan.iter().map(|s| stage_steps(config, *s)).sum();
    let mut trainer = Trainer {
        config,
        loaded: &loaded,
        tokenizer: &tokenizer,
        state: &mut state,
        metrics_path: &metrics_path,
        eval_path: &eval_path,
        eval_prompts: &eval_prompts,
        reward_config,
        contract,
        template,
        report,
        total_steps,
        budget: stop_after,
    };
    trainer.maybe_evaluate("before")?;
    while trainer.state.stage < plan.len() {
        let stage = plan[trainer.state.stage];
        match stage {
            Stage::Sft => trainer.run_sft(&train_prompts, resume_from.as_deref())?,
            Stage::Srl => trainer.run_srl(&train, &train_prompts, resume_from.as_deref())?,
            Stage::Rlvr => trainer.run_rlvr(&train, resume_from.as_deref())?,
        }
        if trainer.out_of_budget() {
            return Ok(state);
        }
        let last = trainer.state.stage + 1 == plan.len();
        if !last {
            trainer.maybe_evaluate(if stage == Stage::Sft { "after-sft" } else { "after-srl" })?;
        }
        trainer.state.stage += 1;
        trainer.state.stage_step = 0;
        trainer.state.optimizer_steps = 0;
        trainer.save(None)?;
    }
    trainer.maybe_evaluate("after")?;
    trainer.state.finished = true;
    trainer.save(None)?;
    Ok(state)
}

fn stage_steps(config: &TrainConfig, stage: Stage) -> usize {
    match stage {
        Stage::Sft => config.sft.train_steps,
        Stage::Srl => config.srl.train_steps,
        Stage::Rlvr => config.rlvr.train_steps,
    }
}

struct Trainer<'a, 'r> {
    config: &'a TrainConfig,
    loaded: &'a Student,
    tokenizer: &'a TextTokenizer,
    state: &'a mut TrainerState,
    metrics_path: &'a Path,
    eval_path: &'a Path,
    eval_prompts: &'a [Prompt<'a>],
    reward_config: RewardConfig,
    contract: OutputContract,
    template: Template,
    report: &'r mut dyn FnMut(Event),
    total_steps: usize,
    /// Optimisation steps this call may still take (`None` = no limit).
    budget: Option<usize>,
}

impl Trainer<'_, '_> {
    fn out_of_budget(&self) -> bool {
        self.budget == Some(0)
    }

    fn save(&mut self, optimizer: Option<&AdamW>) -> Result<()> {
        let saved = SavedContract {
            response_prefix: self.contract.response_prefix.clone(),
            chat_template: self.template.name().to_string(),
        };
        checkpoint::save(&self.config.out, self.loaded, self.tokenizer, &saved, optimizer, self.state)
    }

    fn maybe_evaluate(&mut self, label: &str) -> Result<()> {
        if !self.config.eval.enabled || self.eval_prompts.is_empty() || self.state.evals_done.iter().any(|l| l == label)
        {
            return Ok(());
        }
        let result = evaluate(
            &self.loaded.model,
            self.tokenizer,
            self.eval_prompts,
            self.config.eval.max_new_tokens,
            &self.contract,
            &self.reward_config,
            label,
        )?;
        checkpoint::append_line(self.eval_path, &result)?;
        self.state.evals_done.push(label.to_string());
        (self.report)(Event::Eval(&result));
        Ok(())
    }

    /// Records a finished step and checkpoints when due.
    fn finish_step(&mut self, metrics: &StepMetrics, optimizer: &AdamW, stage_total: usize) -> Result<()> {
        checkpoint::append_line(self.metrics_path, metrics)?;
        self.state.stage_step += 1;
        self.state.global_step += 1;
        self.state.optimizer_steps = optimizer.steps_taken;
        (self.report)(Event::Step { metrics, total_steps: self.total_steps });
        self.budget = self.budget.map(|b| b.saturating_sub(1));
        let due =
            self.state.stage_step.is_multiple_of(self.config.checkpoint_every) || self.state.stage_step == stage_total;
        if due || self.out_of_budget() {
            self.save(Some(optimizer))?;
        }
        Ok(())
    }

    fn optimizer(&self, lr: f64, warmup: usize, weight_decay: f64, resume_from: Option<&Path>) -> Result<AdamW> {
        let mut optimizer = AdamW::new(&self.loaded.trainable, lr, warmup, weight_decay)?;
        if let Some(dir) = resume_from.filter(|_| self.state.optimizer_steps > 0) {
            optimizer.load(&dir.join("optimizer.safetensors"), self.state.optimizer_steps)?;
        }
        Ok(optimizer)
    }

    fn run_sft(&mut self, prompts: &[Prompt<'_>], resume_from: Option<&Path>) -> Result<()> {
        let (config, loaded) = (self.config, self.loaded);
        let sft = &config.sft;
        let positions = loaded.config.max_position_embeddings;
        let (mut kept, mut targets) = (Vec::new(), Vec::new());
        for prompt in prompts {
            let ids = target_ids(
                self.tokenizer,
                prompt.instance,
                &self.contract.response_prefix,
                sft.include_thought,
                sft.max_thought_chars,
            )?;
            if prompt.ids.len() + ids.len() <= positions {
                kept.push(Prompt { ids: prompt.ids.clone(), instance: prompt.instance });
                targets.push(ids);
            }
        }
        if kept.is_empty() {
            bail!("no SFT example (prompt + expert response) fits in the model's {positions} positions");
        }
        let prompts = &kept;
        let mut optimizer = self.optimizer(sft.learning_rate, sft.warmup_steps, sft.weight_decay, resume_from)?;
        while self.state.stage_step < sft.train_steps && !self.out_of_budget() {
            let started = Instant::now();
            let learning_rate = optimizer.current_learning_rate();
            let (p, t) = sft_batch(prompts, &targets, &mut self.state.sft_cursor, sft.batch_size);
            let tokens: usize = t.iter().map(Vec::len).sum();
            let stats = sft_update(
                &loaded.model,
                &loaded.trainable,
                &mut optimizer,
                &p,
                &t,
                &SftOptions {
                    max_grad_norm: sft.max_grad_norm,
                    micro_batch: config.micro_batch,
                    recompute: config.recompute_activations,
                },
            )?;
            let seconds = started.elapsed().as_secs_f64();
            let metrics = StepMetrics {
                stage: "sft".into(),
                step: self.state.global_step,
                stage_step: self.state.stage_step,
                learning_rate,
                loss: Some(stats.loss),
                grad_norm: Some(stats.grad_norm),
                tokens,
                tokens_per_second: tokens as f64 / seconds.max(1e-9),
                seconds_update: seconds,
                ..StepMetrics::default()
            };
            self.finish_step(&metrics, &optimizer, sft.train_steps)?;
        }
        Ok(())
    }

    /// RLVR: episodes on the training trajectories' task instances, graded by their tests.
    fn run_rlvr(&mut self, train: &[StepInstance], resume_from: Option<&Path>) -> Result<()> {
        let template = self.template;
        let (config, loaded, tokenizer) = (self.config, self.loaded, self.tokenizer);
        let (cfg, srl) = (&config.rlvr, &config.srl);
        let ids: std::collections::BTreeSet<&str> = train.iter().filter_map(|i| i.instance_id.as_deref()).collect();
        let instances: Vec<_> = task_instances(&config.reward.tasks)?
            .into_iter()
            .filter(|i| ids.contains(i.instance_id.as_str()))
            .collect();
        if instances.is_empty() {
            bail!("rlvr: no task under {} matches a training trajectory's instance id", config.reward.tasks.display());
        }
        let backend = sandbox_backend(&config.reward.sandbox);
        let options = RlvrOptions {
            instances_per_step: cfg.instances_per_step,
            group_size: cfg.group_size,
            agent: AgentOptions {
                max_steps: cfg.max_episode_steps,
                context_rounds: Some(cfg.context_rounds),
                max_observation_chars: cfg.max_observation_chars,
                action_timeout: Duration::from_secs(config.reward.action_timeout),
                sampling: Sampling { temperature: cfg.temperature, max_tokens: cfg.max_new_tokens, stop: vec![] },
                seed: config.seed,
                workers: 1,
                backend,
                image: crate::sandbox::docker::DEFAULT_IMAGE.to_string(),
                repos: config.reward.tasks.clone(),
                run_id: crate::sandbox::new_run_id(),
                images: Default::default(),
                engines: None,
            },
            test_timeout: Duration::from_secs(cfg.test_timeout),
            min_group_std: srl.min_group_std,
            advantage: AdvantageConfig { scale_by_std: srl.scale_by_std, epsilon: 1e-6 },
        };
        let update_options = UpdateOptions {
            loss: LossConfig { clip: srl.clip, token_level: srl.token_level_loss },
            max_grad_norm: srl.max_grad_norm,
            temperature: cfg.temperature,
            kl_coef: 0.0,
            micro_batch: config.micro_batch,
            recompute: config.recompute_activations,
        };
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        let policy = TrainingPolicy { model: &loaded.model, tokenizer, template, contract: self.contract.clone() };
        let mut optimizer = self.optimizer(cfg.learning_rate, cfg.warmup_steps, srl.weight_decay, resume_from)?;
        while self.state.stage_step < cfg.train_steps && !self.out_of_budget() {
            let learning_rate = optimizer.current_learning_rate();
            let seed = config.seed.wrapping_mul(1_000_003).wrapping_add(1 + 64 * self.state.global_step as u64);
            let (batch, stats) = rlvr_step(
                &runtime,
                &policy,
                &instances,
                &config.reward.tasks,
                &mut self.state.rlvr_cursor,
                &options,
                seed,
            )?;
            let update_started = Instant::now();
            let fit = optimise(loaded, &mut optimizer, &batch, &update_options, srl.passes)?;
            let seconds_update = update_started.elapsed().as_secs_f64();
            let metrics = grpo_metrics("rlvr", self.state, learning_rate, fit, &stats, stats.turns, seconds_update);
            self.finish_step(&metrics, &optimizer, cfg.train_steps)?;
        }
        Ok(())
    }

    fn run_srl(&mut self, train: &[StepInstance], prompts: &[Prompt<'_>], resume_from: Option<&Path>) -> Result<()> {
        let weights = &self.config.reward;
        let mut execution = if weights.w_exec > 0.0 {
            let backend = sandbox_backend(&weights.sandbox);
            let timeout = Duration::from_secs(weights.action_timeout);
            let env =
                ExecutionRewards::open(train, &weights.tasks, backend, crate::sandbox::docker::DEFAULT_IMAGE, timeout)?;
            (self.report)(Event::Message(format!(
                "execution reward: {} trajectories have a sandbox",
                env.trajectories()
            )));
            Some(env)
        } else {
            None
        };
        let result = self.srl_steps(prompts, resume_from, &mut execution);
        if let Some(env) = execution {
            env.close()?;
        }
        result
    }

    fn srl_steps(
        &mut self,
        prompts: &[Prompt<'_>],
        resume_from: Option<&Path>,
        execution: &mut Option<ExecutionRewards>,
    ) -> Result<()> {
        let (config, loaded, tokenizer) = (self.config, self.loaded, self.tokenizer);
        let (cfg, weights) = (&config.srl, &config.reward);
        let reference = if cfg.log_kl || cfg.kl_coef > 0.0 {
            let mut reference = load(&config.model, DType::F32, loaded.model.device())?;
            reference.model.set_compute_dtype(config.precision.dtype());
            Some(reference)
        } else {
            None
        };
        let mut optimizer = self.optimizer(cfg.learning_rate, cfg.warmup_steps, cfg.weight_decay, resume_from)?;
        let options = RolloutOptions {
            prompts_per_step: cfg.prompts_per_step,
            group_size: cfg.group_size,
            sampling: SamplingConfig {
                temperature: cfg.temperature,
                top_p: cfg.top_p,
                top_k: cfg.top_k,
                max_new_tokens: cfg.max_new_tokens,
                seed: 0,
            },
            advantage: AdvantageConfig { scale_by_std: cfg.scale_by_std, epsilon: 1e-6 },
            min_group_std: cfg.min_group_std,
            max_sampling_rounds: cfg.max_sampling_rounds,
            contract: self.contract.clone(),
        };
        let update_options = UpdateOptions {
            loss: LossConfig { clip: cfg.clip, token_level: cfg.token_level_loss },
            max_grad_norm: cfg.max_grad_norm,
            temperature: cfg.temperature,
            kl_coef: cfg.kl_coef,
            micro_batch: config.micro_batch,
            recompute: config.recompute_activations,
        };
        let reward_config = self.reward_config;
        let mut score = |rows: &[(&StepInstance, String)]| -> Result<Vec<RolloutReward>> {
            let scored: Vec<_> =
                rows.iter().map(|(instance, text)| step_reward(&instance.target, text, &reward_config)).collect();
            let requests: Vec<(&StepInstance, &crate::action::Action)> = rows
                .iter()
                .zip(&scored)
                .filter_map(|((instance, _), s)| Some((*instance, s.action.as_ref()?)))
                .collect();
            let mut executions = match execution.as_mut() {
                Some(env) => env.score_many(&requests)?.into_iter(),
                None => vec![None; requests.len()].into_iter(),
            };
            let mut out = Vec::with_capacity(rows.len());
            for s in &scored {
                let (Some(similarity), Some(_)) = (s.similarity, s.action.as_ref()) else {
                    out.push(RolloutReward { reward: s.reward, format_ok: false, similarity: None, execution: None });
                    continue;
                };
                let execution = executions.next().flatten();
                let reward = match execution {
                    Some(e) => weights.w_sim * similarity + weights.w_exec * e,
                    // Without an execution environment the similarity carries both weights.
                    None => (weights.w_sim + weights.w_exec) * similarity,
                };
                out.push(RolloutReward { reward, format_ok: true, similarity: Some(similarity), execution });
            }
            Ok(out)
        };
        while self.state.stage_step < cfg.train_steps && !self.out_of_budget() {
            let learning_rate = optimizer.current_learning_rate();
            let seed = config.seed.wrapping_mul(1_000_003).wrapping_add(1 + 64 * self.state.global_step as u64);
            let (mut batch, stats) =
                sample_step(&loaded.model, tokenizer, prompts, &mut self.state.srl_cursor, &options, seed, &mut score)?;
            let log = RolloutLog { max_steps: cfg.log_rollout_steps, max_chars: cfg.log_rollout_chars };
            rollouts::append(&config.out.join("rollouts.jsonl"), log, "srl", self.state.global_step, &stats.groups)?;
            let update_started = Instant::now();
            let mut kl_to_initial = None;
            if let (Some(reference), false) = (&reference, batch.prompts.is_empty()) {
                let (logprobs, mask) =
                    completion_logprobs_at(&reference.model, &batch.prompts, &batch.completions, cfg.temperature)?;
                let policy = padded(&batch.old_logprobs, mask.dim(1)?, mask.device())?;
                kl_to_initial = Some(f64::from(kl_k3(&policy, &logprobs.detach(), &mask)?.to_scalar::<f32>()?));
                batch.reference_logprobs = Some(logprobs.detach().to_vec2::<f32>()?);
            }
            let fit = optimise(loaded, &mut optimizer, &batch, &update_options, cfg.passes)?;
            let seconds_update = update_started.elapsed().as_secs_f64();
            let units = stats.rewards.len();
            let mut metrics = grpo_metrics("srl", self.state, learning_rate, fit, &stats, units, seconds_update);
            metrics.kl_to_initial = kl_to_initial;
            self.finish_step(&metrics, &optimizer, cfg.train_steps)?;
        }
        Ok(())
    }
}

/// `auto`, `docker` or `local` (validated with the configuration) as a sandbox backend.
fn sandbox_backend(name: &str) -> Backend {
    match name {
        "docker" => Backend::Docker,
        "local" => Backend::Local,
        _ => Backend::Auto,
    }
}

/// `passes` GRPO passes over `batch` (none when dynamic sampling dropped every group); the mean
/// loss and gradient norm over them.
fn optimise(
    student: &Student,
    optimizer: &mut AdamW,
    batch: &Batch,
    options: &UpdateOptions,
    passes: usize,
) -> Result<(Option<f32>, Option<f32>)> {
    let (mut losses, mut norms) = (Vec::new(), Vec::new());
    if !batch.prompts.is_empty() {
        for _ in 0..passes {
            let stats = update(&student.model, &student.trainable, optimizer, batch, options)?;
            losses.push(f64::from(stats.loss));
            norms.push(f64::from(stats.grad_norm));
        }
    }
    Ok((mean(&losses).map(|v| v as f32), mean(&norms).map(|v| v as f32)))
}

/// The metrics line of a GRPO step (SRL or RLVR). `format_units` is what the format-error rate
/// counts over: rollouts for SRL, model turns for RLVR.
fn grpo_metrics(
    stage: &str,
    state: &TrainerState,
    learning_rate: f64,
    (loss, grad_norm): (Option<f32>, Option<f32>),
    stats: &RolloutStats,
    format_units: usize,
    seconds_update: f64,
) -> StepMetrics {
    let (reward_mean, reward_std, reward_max) = reward_summary(&stats.rewards);
    StepMetrics {
        stage: stage.into(),
        step: state.global_step,
        stage_step: state.stage_step,
        learning_rate,
        loss,
        grad_norm,
        reward_mean: Some(reward_mean),
        reward_std: Some(reward_std),
        reward_max: Some(reward_max),
        format_error_rate: Some(stats.format_errors as f64 / format_units.max(1) as f64),
        similarity_mean: mean(&stats.similarities),
        execution_reward_mean: mean(&stats.executions),
        kept_groups: Some(stats.kept_groups),
        sampled_groups: Some(stats.sampled_groups),
        kept_ratio: Some(stats.kept_groups as f64 / stats.sampled_groups.max(1) as f64),
        kl_to_initial: None,
        tokens: stats.generated_tokens,
        tokens_per_second: stats.generated_tokens as f64 / stats.seconds_generation.max(1e-9),
        seconds_generation: stats.seconds_generation,
        seconds_reward: stats.seconds_reward,
        seconds_update,
    }
}
