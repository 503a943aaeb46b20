//! The `srl train` configuration: one TOML file whose every field has a default.
//!
//! `DEFAULT_TOML` is the documented default configuration that `--print-default-config`
//! prints; a test checks that it parses to exactly `TrainConfig::default()`, so the comments
//! and the code cannot drift apart. Unknown keys are errors (a typo must not silently train
//! with the default).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// What `srl train` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// GRPO with the step-wise reward (similarity, execution).
    Srl,
    /// Teacher-forced NLL on the expert's responses (thought + action).
    Sft,
    /// A short SFT warm-up, then SRL: for students that do not yet follow the output format.
    SftThenSrl,
    /// GRPO with the outcome reward: whole agent episodes graded by the task's tests.
    Rlvr,
    /// SRL, then RLVR, as the paper's best recipe.
    SrlThenRlvr,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Srl => "srl",
            Mode::Sft => "sft",
            Mode::SftThenSrl => "sft-then-srl",
            Mode::Rlvr => "rlvr",
            Mode::SrlThenRlvr => "srl-then-rlvr",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub mode: Mode,
    /// The student: a Hugging Face directory, a .gguf file, or a Hub id in the local cache.
    pub model: PathBuf,
    /// The revision of a Hub id `model` (branch, tag or commit); unset: `main`.
    pub model_revision: Option<String>,
    /// Step instances (`srl steps` output).
    pub steps: PathBuf,
    /// Run directory: metrics, evaluations, checkpoints.
    pub out: PathBuf,
    pub seed: u64,
    /// Text the student's response starts with, added after the prompt (e.g. "<think>\n").
    /// Unset: the prefix saved with the model (a checkpoint's `output_contract.json`), else none.
    pub response_prefix: Option<String>,
    /// Prompts longer than this many tokens are skipped.
    pub max_prompt_tokens: usize,
    /// Save a checkpoint every this many optimisation steps (and always at the end).
    pub checkpoint_every: usize,
    /// Sequences per forward/backward pass in updates (gradients are accumulated over the batch).
    pub micro_batch: usize,
    /// Recompute activations layer by layer in backward passes (bounded memory).
    pub recompute_activations: bool,
    /// Where the student trains: cpu, cuda or cuda:N.
    pub device: crate::policy::device::DeviceSpec,
    /// Activation dtype: f32, or bf16 with f32 master weights.
    pub precision: crate::policy::device::Precision,
    /// Sample on a CPU with int8 copies of the weights, refreshed after every optimizer step.
    pub quantized_sampling: bool,
    pub srl: SrlConfig,
    pub sft: SftConfig,
    pub reward: RewardWeights,
    pub eval: EvalConfig,
    pub lora: crate::policy::model::lora::LoraConfig,
    pub rlvr: RlvrConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RlvrConfig {
    pub train_steps: usize,
    /// Task instances per optimisation step; each gets `group_size` episodes.
    pub instances_per_step: usize,
    pub group_size: usize,
    /// Model replies per episode (rejected ones included).
    pub max_episode_steps: usize,
    pub temperature: f64,
    pub max_new_tokens: usize,
    pub learning_rate: f64,
    pub warmup_steps: usize,
    /// Previous rounds shown in each prompt, as in the step instances.
    pub context_rounds: usize,
    pub max_observation_chars: usize,
    /// Seconds allowed for grading an episode with the task's tests.
    pub test_timeout: u64,
}

impl Default for RlvrConfig {
    fn default() -> Self {
        RlvrConfig {
            train_steps: 4,
            instances_per_step: 1,
            group_size: 4,
            max_episode_steps: 8,
            temperature: 1.0,
            max_new_tokens: 256,
            learning_rate: 1e-6,
            warmup_steps: 0,
            context_rounds: 2,
            max_observation_chars: 2000,
            test_timeout: 120,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SrlConfig {
    pub train_steps: usize,
    /// Prompt groups per optimisation step, after dynamic sampling.
    pub prompts_per_step: usize,
    /// Rollouts per prompt (G).
    pub group_size: usize,
    pub temperature: f64,
    pub top_p: f64,
    pub top_k: usize,
    pub max_new_tokens: usize,
    pub learning_rate: f64,
    pub warmup_steps: usize,
    pub weight_decay: f64,
    /// ε of the clipped importance ratio.
    pub clip: f64,
    /// Divide advantages by the group's standard deviation (GRPO); false = Dr. GRPO.
    pub scale_by_std: bool,
    /// Average the loss over every token of the batch (true) or per rollout first.
    pub token_level_loss: bool,
    /// Coefficient of the KL penalty to the initial policy (k3 estimator); 0 = none.
    pub kl_coef: f64,
    /// Log the KL to the initial policy every step (one extra forward pass of a frozen copy).
    pub log_kl: bool,
    /// Optimisation passes over each batch.
    pub passes: usize,
    pub max_grad_norm: f64,
    /// Dynamic sampling: groups whose reward standard deviation is at most this are dropped.
    pub min_group_std: f64,
    /// Dynamic sampling: at most this many sampling rounds per step to fill the batch.
    pub max_sampling_rounds: usize,
    /// `rollouts.jsonl` holds every group of the run's first this-many steps (0 = none).
    pub log_rollout_steps: usize,
    /// Characters of each completion kept in `rollouts.jsonl`.
    pub log_rollout_chars: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SftConfig {
    pub train_steps: usize,
    /// Expert responses per optimisation step.
    pub batch_size: usize,
    pub learning_rate: f64,
    pub warmup_steps: usize,
    pub weight_decay: f64,
    pub max_grad_norm: f64,
    /// Train on "<think>thought</think>action" (true) or on an empty think block + action.
    pub include_thought: bool,
    /// Expert thoughts longer than this many characters are cut (head only).
    pub max_thought_chars: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RewardWeights {
    /// Weight of the difflib similarity of the actions.
    pub w_sim: f64,
    /// Weight of the execution reward (needs `tasks`; instances without a task use similarity alone).
    pub w_exec: f64,
    /// CPython's autojunk heuristic in the similarity (off by default, see `reward`).
    pub autojunk: bool,
    /// Task directories (`tasks/`) giving each trajectory's repository, or a file of SWE-bench-style
    /// instances whose images hold it, for the execution reward.
    pub tasks: PathBuf,
    /// Sandbox for the execution reward: auto, docker or local.
    pub sandbox: String,
    /// Seconds allowed for each executed action.
    pub action_timeout: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// Trajectories held out of training (the last N by id); their steps are the evaluation set.
    pub holdout_trajectories: usize,
    /// At most this many held-out step instances are evaluated (0 = all).
    pub max_instances: usize,
    pub max_new_tokens: usize,
    /// Evaluate (greedy) before training, between stages and after.
    pub enabled: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            mode: Mode::Srl,
            model: PathBuf::from("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
            model_revision: None,
            steps: PathBuf::from("steps.jsonl"),
            out: PathBuf::from("runs/train"),
            seed: 0,
            response_prefix: None,
            max_prompt_tokens: 2048,
            checkpoint_every: 10,
            micro_batch: 1,
            recompute_activations: true,
            device: Default::default(),
            precision: Default::default(),
            quantized_sampling: false,
            srl: SrlConfig::default(),
            sft: SftConfig::default(),
            reward: RewardWeights::default(),
            eval: EvalConfig::default(),
            lora: Default::default(),
            rlvr: RlvrConfig::default(),
        }
    }
}

impl Default for SrlConfig {
    fn default() -> Self {
        SrlConfig {
            train_steps: 20,
            prompts_per_step: 2,
            group_size: 8,
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            max_new_tokens: 256,
            learning_rate: 1e-6,
            warmup_steps: 0,
            weight_decay: 0.0,
            clip: 0.2,
            scale_by_std: true,
            token_level_loss: true,
            kl_coef: 0.0,
            log_kl: true,
            passes: 1,
            max_grad_norm: 1.0,
            min_group_std: 1e-4,
            max_sampling_rounds: 3,
            log_rollout_steps: 1000,
            log_rollout_chars: 4000,
        }
    }
}

impl Default for SftConfig {
    fn default() -> Self {
        SftConfig {
            train_steps: 20,
            batch_size: 4,
            learning_rate: 1e-5,
            warmup_steps: 2,
            weight_decay: 0.0,
            max_grad_norm: 1.0,
            include_thought: true,
            max_thought_chars: 600,
        }
    }
}

impl Default for RewardWeights {
    fn default() -> Self {
        RewardWeights {
            w_sim: 1.0,
            w_exec: 0.0,
            autojunk: false,
            tasks: PathBuf::from("tasks"),
            sandbox: "auto".to_string(),
            action_timeout: 30,
        }
    }
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig { holdout_trajectories: 0, max_instances: 0, max_new_tokens: 256, enabled: true }
    }
}

/// The documented default configuration (what `srl train --print-default-config` prints).
pub const DEFAULT_TOML: &str = r#"# srl train configuration. Every key is optional; these are the defaults.

# srl: GRPO with the step-wise reward. sft: teacher-forced NLL on the expert's responses.
# sft-then-srl: an SFT warm-up, then SRL (for students that do not yet follow the format).
# rlvr: GRPO with the outcome reward (whole agent episodes graded by the tasks' tests; the
# tasks come from reward.tasks). srl-then-rlvr: SRL, then RLVR.
mode = "srl"
# The student: a Hugging Face directory (config.json, *.safetensors, tokenizer.json), a .gguf file,
# or a Hub id (Org/Name) found in the local Hugging Face cache (HF_HUB_CACHE, HF_HOME); never downloaded.
model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
# The revision of a Hub id: a branch, tag or commit in the cache (unset: main).
# model_revision = "main"
# Step instances written by `srl steps`.
steps = "steps.jsonl"
# Run directory: config.toml, metrics.jsonl, eval.jsonl, rollouts.jsonl (SRL), checkpoint/ (Hugging Face layout), state/.
out = "runs/train"
seed = 0
# Text every response starts with, prefilled after the prompt (e.g. "<think>\n"); it counts as
# part of the response for the reward. Unset (the default): the prefix saved with the model when
# it is a checkpoint of ours (output_contract.json), else none. Checkpoints save the one used.
# response_prefix = "<think>\n"
# Prompts longer than this many tokens are skipped.
max_prompt_tokens = 2048
# Checkpoint every N optimisation steps (and at the end of each stage); `--resume` continues from it.
checkpoint_every = 10
# Sequences per forward/backward pass in updates; gradients are accumulated over the whole
# batch. Memory grows with micro_batch x sequence length squared (attention scores).
micro_batch = 1
# Backward passes recompute one decoder layer's activations at a time, so memory is bounded by
# one layer (plus the layers' inputs) at the cost of one more forward pass. false keeps every
# activation: faster, for a GPU with memory to spare.
recompute_activations = true
# Where the student samples and trains: "cpu", "cuda" or "cuda:N" (cuda needs a build with
# `--features cuda`). Rewards and sandboxes always run on the host.
device = "cpu"
# Activation dtype: "f32", or "bf16" (for GPUs): bf16 matmuls with f32 master weights, f32
# optimizer state, f32 softmax and norm statistics. Checkpoints are f32 either way.
precision = "f32"
# Sample (rollouts, evaluation) on a CPU with int8 copies of the weights, re-quantized after every
# optimizer step: about 2x faster decoding here, but the rollouts then come from a slightly
# different policy than the f32 one trained (weights rounded to 1/254 of each block of 32's
# largest), which the clipped ratio sees as off-policy noise. Training always uses f32 weights.
quantized_sampling = false

[srl]
train_steps = 20
prompts_per_step = 2          # prompt groups per step, after dynamic sampling
group_size = 8                # G rollouts per prompt
temperature = 1.0
top_p = 1.0
top_k = 0                     # 0 = off
max_new_tokens = 256
learning_rate = 1e-6          # AdamW; the paper used 5e-7 at batch 512
warmup_steps = 0              # linear warm-up of the learning rate
weight_decay = 0.0
clip = 0.2                    # epsilon of the clipped importance ratio
scale_by_std = true           # false = Dr. GRPO (advantages only centred)
token_level_loss = true       # every token of the batch weighs the same
kl_coef = 0.0                 # KL penalty to the initial policy (the paper: 0)
log_kl = true                 # report the KL to the initial policy (one extra forward pass)
passes = 1                    # optimisation passes per batch
max_grad_norm = 1.0
min_group_std = 1e-4          # dynamic sampling: drop groups whose reward std is at most this
max_sampling_rounds = 3       # dynamic sampling: sampling rounds per step to fill the batch
log_rollout_steps = 1000      # rollouts.jsonl holds every group of the first N steps (0 = none)
log_rollout_chars = 4000      # characters kept of each completion in rollouts.jsonl

[sft]
train_steps = 20
batch_size = 4
learning_rate = 1e-5
warmup_steps = 2
weight_decay = 0.0
max_grad_norm = 1.0
include_thought = true        # target "<think>expert thought</think>" + action
max_thought_chars = 600

[reward]
# reward = w_sim * similarity + w_exec * execution; -1 for a broken format.
w_sim = 1.0
w_exec = 0.0                  # e.g. 0.5/0.5 to credit actions that do what the expert's did
autojunk = false
tasks = "tasks"               # task directories giving each trajectory's repository
sandbox = "auto"              # auto (docker when available, else local), docker, local
action_timeout = 30           # seconds per executed action

[eval]
holdout_trajectories = 0      # the last N trajectories (by id) are held out for evaluation
max_instances = 0             # 0 = every held-out step instance
max_new_tokens = 256
enabled = true                # greedy evaluation before training, between stages and after

[lora]
# rank 0 trains every weight; rank > 0 freezes the base and trains low-rank adapters on the
# target projections (merged into the checkpoint's weights; adapter.safetensors beside them).
rank = 0
alpha = 16.0
targets = ["q_proj", "v_proj"]   # of q_proj k_proj v_proj o_proj gate_proj up_proj down_proj

[rlvr]
# Outcome reward: 1 when an episode's work tree passes the task's tests, else 0. Loss settings
# (clip, passes, gradient clipping, dynamic sampling) are those of [srl].
train_steps = 4
instances_per_step = 1
group_size = 4                # episodes per task instance
max_episode_steps = 8         # model replies per episode, rejected ones included
temperature = 1.0
max_new_tokens = 256
learning_rate = 1e-6
warmup_steps = 0
context_rounds = 2
max_observation_chars = 2000
test_timeout = 120            # seconds for grading one episode
"#;

impl TrainConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<TrainConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let config = TrainConfig::parse(&text).with_context(|| format!("{}: invalid configuration", path.display()))?;
        Ok(config)
    }

    pub fn parse(text: &str) -> Result<TrainConfig> {
        let config: TrainConfig = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).context("cannot serialize the configuration")
    }

    /// Rejects values that would fail later, naming the key.
    pub fn validate(&self) -> Result<()> {
        let s = &self.srl;
        let checks: [(bool, &str); 16] = [
            (s.group_size >= 2, "srl.group_size must be at least 2 (advantages compare rollouts of a group)"),
            (s.prompts_per_step >= 1, "srl.prompts_per_step must be at least 1"),
            (s.temperature >= 0.0 && s.temperature.is_finite(), "srl.temperature must be >= 0"),
            (s.top_p > 0.0 && s.top_p <= 1.0, "srl.top_p must be in (0, 1]"),
            (s.max_new_tokens >= 1, "srl.max_new_tokens must be at least 1"),
            (s.learning_rate >= 0.0, "srl.learning_rate must be >= 0"),
            (s.clip > 0.0 && s.clip < 1.0, "srl.clip must be in (0, 1)"),
            (s.passes >= 1 && s.max_sampling_rounds >= 1, "srl.passes and srl.max_sampling_rounds must be at least 1"),
            (self.sft.batch_size >= 1, "sft.batch_size must be at least 1"),
            (self.sft.learning_rate >= 0.0, "sft.learning_rate must be >= 0"),
            (self.reward.w_sim >= 0.0 && self.reward.w_exec >= 0.0, "reward.w_sim and reward.w_exec must be >= 0"),
            (self.reward.w_sim + self.reward.w_exec > 0.0, "reward.w_sim + reward.w_exec must be positive"),
            (self.checkpoint_every >= 1, "checkpoint_every must be at least 1"),
            (self.micro_batch >= 1, "micro_batch must be at least 1"),
            (self.rlvr.group_size >= 2 && self.rlvr.instances_per_step >= 1, "rlvr.group_size must be at least 2"),
            (
                self.rlvr.max_episode_steps >= 1 && self.rlvr.max_new_tokens >= 1,
                "rlvr.max_episode_steps and rlvr.max_new_tokens must be at least 1",
            ),
        ];
        for (ok, message) in checks {
            if !ok {
                bail!("{message}");
            }
        }
        if matches!(self.device, crate::policy::device::DeviceSpec::Cuda(_)) && !cfg!(feature = "cuda") {
            bail!("device = \"{}\": this srl was built without CUDA (rebuild with `--features cuda`)", self.device);
        }
        if !["auto", "docker", "local"].contains(&self.reward.sandbox.as_str()) {
            bail!("reward.sandbox must be auto, docker or local, not {:?}", self.reward.sandbox);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_default_is_the_default() {
        assert_eq!(TrainConfig::parse(DEFAULT_TOML).unwrap(), TrainConfig::default());
        assert_eq!(TrainConfig::parse("").unwrap(), TrainConfig::default());
    }

    #[test]
    fn serialized_config_reads_back() {
        let mut config =
            TrainConfig { mode: Mode::SftThenSrl, response_prefix: Some("<think>\n".into()), ..TrainConfig::default() };
        config.srl.temperature = 0.7;
        assert_eq!(TrainConfig::parse(&config.to_toml().unwrap()).unwrap(), config);
    }

    #[test]
    fn mistakes_are_named() {
        let err = TrainConfig::parse("[srl]\ngroup_sise = 4\n").unwrap_err().to_string();
        assert!(err.contains("group_sise"), "{err}");
        let err = TrainConfig::parse("mode = \"rl\"\n").unwrap_err().to_string();
        assert!(err.contains("mode") || err.contains("rl"), "{err}");
        let err = TrainConfig::parse("[srl]\ngroup_size = 1\n").unwrap_err().to_string();
        assert!(err.contains("srl.group_size"), "{err}");
        let err = TrainConfig::parse("[reward]\nsandbox = \"vm\"\n").unwrap_err().to_string();
        assert!(err.contains("reward.sandbox"), "{err}");
    }
}
