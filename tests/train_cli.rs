//! `srl train` end to end on a tiny model and byte-level tokenizer written here: it samples,
//! scores, updates, writes one metrics line per step and a checkpoint that loads back.

mod support;

use candle_core::{DType, Device};
use support::tiny::write_tiny_model;
use support::{samples, TestContext};

/// Imports the two sample trajectories and writes their step instances to `s.jsonl`.
fn sample_steps(cx: &TestContext) {
    assert_eq!(cx.srl(&["import", samples().to_str().unwrap(), "-o", "t.jsonl"]).code, 0);
    assert_eq!(
        cx.srl(&["steps", "t.jsonl", "-o", "s.jsonl", "--context-rounds", "0", "--max-observation-chars", "200"]).code,
        0
    );
}

const SMALL_RUN: &str = r#"
mode = "sft-then-srl"
model = "tiny"
steps = "s.jsonl"
max_prompt_tokens = 100000
checkpoint_every = 100
[sft]
train_steps = 3
batch_size = 2
learning_rate = 1e-2
warmup_steps = 1
[srl]
train_steps = 2
prompts_per_step = 2
group_size = 3
max_new_tokens = 12
learning_rate = 1e-3
[eval]
holdout_trajectories = 1
max_instances = 2
max_new_tokens = 8
"#;

fn lines(cx: &TestContext, path: &str) -> Vec<serde_json::Value> {
    cx.read(path).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A metrics or eval line without its wall-clock figures.
fn timeless(mut v: serde_json::Value) -> serde_json::Value {
    for key in ["tokens_per_second", "seconds_generation", "seconds_reward", "seconds_update", "seconds"] {
        v.as_object_mut().unwrap().remove(key);
    }
    v
}

#[test]
fn train_runs_both_stages_and_writes_metrics_evaluations_and_a_checkpoint() {
    let cx = TestContext::new();
    write_tiny_model(&cx.path("tiny"));
    sample_steps(&cx);
    std::fs::write(cx.path("run.toml"), SMALL_RUN).unwrap();
    let run = cx.srl(&["train", "--config", "run.toml", "--out", "run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let metrics = lines(&cx, "run/metrics.jsonl");
    let stages: Vec<&str> = metrics.iter().map(|m| m["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["sft", "sft", "sft", "srl", "srl"]);
    for m in &metrics[..3] {
        assert!(m["loss"].as_f64().unwrap() > 0.0 && m["tokens"].as_u64().unwrap() > 0, "{m}");
    }
    // Warm-up: the first SFT step runs at half the learning rate.
    assert_eq!(metrics[0]["learning_rate"], 5e-3);
    assert_eq!(metrics[1]["learning_rate"], 1e-2);
    for m in &metrics[3..] {
        // A random model never writes `<think>`: every completion is a format error, rewards are
        // all -1, no group varies, dynamic sampling drops them all and nothing is updated.
        assert_eq!(m["format_error_rate"], 1.0);
        assert_eq!(m["reward_mean"], -1.0);
        assert_eq!(m["kept_groups"], 0);
        // Three sampling rounds of two prompts each tried to fill the batch.
        assert_eq!(m["sampled_groups"], 6);
        assert!(m["loss"].is_null());
        assert!(m["tokens"].as_u64().unwrap() > 0);
    }
    let evals = lines(&cx, "run/eval.jsonl");
    let labels: Vec<&str> = evals.iter().map(|e| e["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["before", "after-sft", "after"]);
    assert!(evals.iter().all(|e| e["instances"] == 2));
    assert!(run.stdout.contains("eval before"), "{}", run.stdout);
    let reloaded = srl::policy::load::load(&cx.path("run/checkpoint"), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(reloaded.config.vocab_size, 258);
    srl::policy::tokenizer::TextTokenizer::from_hf(&cx.path("run/checkpoint")).unwrap();
    let saved = std::fs::read_to_string(cx.path("run/config.toml")).unwrap();
    assert!(saved.contains("sft-then-srl"), "{saved}");
    let report = cx.srl(&["report", "run"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let markdown = cx.read("run/report.md");
    assert!(markdown.contains("| after-sft | 2 |"), "{markdown}");
    for png in ["reward.png", "format.png", "loss.png", "time.png"] {
        let bytes = std::fs::read(cx.path(&format!("run/{png}"))).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{png}");
        assert!(markdown.contains(png), "{png} is not in the report");
    }
    let not_a_run = cx.srl(&["report", "tiny"]);
    assert!(not_a_run.code == 1 && not_a_run.stderr.contains("metrics.jsonl"), "{}", not_a_run.stderr);
    // A finished run refuses to be overwritten.
    let again = cx.srl(&["train", "--config", "run.toml", "--out", "run"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("--resume"), "{}", again.stderr);
}

#[test]
fn resuming_gives_the_same_run_as_going_straight_through() {
    let cx = TestContext::new();
    write_tiny_model(&cx.path("tiny"));
    sample_steps(&cx);
    // With int8 sampling copies, which must be re-quantized from the restored weights on resume.
    let config = format!("quantized_sampling = true\n{}", SMALL_RUN.replace("train_steps = 2\n", "train_steps = 1\n"));
    std::fs::write(cx.path("run.toml"), config).unwrap();
    let straight = cx.srl(&["train", "--config", "run.toml", "--out", "straight"]);
    assert_eq!(straight.code, 0, "{}", straight.stderr);
    // Stop in the middle of SFT (the optimizer's moments matter), then resume twice.
    let first = cx.srl(&["train", "--config", "run.toml", "--out", "split", "--stop-after-steps", "2"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stdout.contains("stopped"), "{}", first.stdout);
    assert_eq!(lines(&cx, "split/metrics.jsonl").len(), 2);
    let second = cx.srl(&["train", "--resume", "split", "--stop-after-steps", "1"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let third = cx.srl(&["train", "--resume", "split"]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    for file in ["metrics.jsonl", "eval.jsonl", "rollouts.jsonl"] {
        let a: Vec<_> = lines(&cx, &format!("straight/{file}")).into_iter().map(timeless).collect();
        let b: Vec<_> = lines(&cx, &format!("split/{file}")).into_iter().map(timeless).collect();
        assert_eq!(a, b, "{file}");
    }
    let weights = |run: &str| std::fs::read(cx.path(&format!("{run}/checkpoint/model.safetensors"))).unwrap();
    assert!(weights("straight") == weights("split"), "the final weights differ");
}

#[test]
fn configuration_mistakes_are_reported() {
    let cx = TestContext::new();
    let printed = cx.srl(&["train", "--print-default-config"]);
    assert_eq!(printed.code, 0);
    assert_eq!(
        srl::train::config::TrainConfig::parse(&printed.stdout).unwrap(),
        srl::train::config::TrainConfig::default()
    );
    std::fs::write(cx.path("bad.toml"), "[srl]\ngroup_size = 8\nlearning_rte = 1.0\n").unwrap();
    let bad = cx.srl(&["train", "--config", "bad.toml"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("bad.toml") && bad.stderr.contains("learning_rte"), "{}", bad.stderr);
    let missing = cx.srl(&["train", "--config", "absent.toml"]);
    assert!(missing.code != 0 && missing.stderr.contains("absent.toml"), "{}", missing.stderr);
    let nothing = cx.srl(&["train", "--resume", "no-such-run"]);
    assert!(nothing.code != 0 && nothing.stderr.contains("no-such-run"), "{}", nothing.stderr);
    std::fs::write(cx.path("gpu.toml"), "device = \"gpu\"\n").unwrap();
    let gpu = cx.srl(&["train", "--config", "gpu.toml"]);
    assert!(gpu.code == 1 && gpu.stderr.contains("device") && gpu.stderr.contains("\"gpu\""), "{}", gpu.stderr);
    std::fs::write(cx.path("fp16.toml"), "precision = \"fp16\"\n").unwrap();
    let fp16 = cx.srl(&["train", "--config", "fp16.toml"]);
    assert!(fp16.code == 1 && fp16.stderr.contains("precision"), "{}", fp16.stderr);
    if !cfg!(feature = "cuda") {
        std::fs::write(cx.path("cuda.toml"), "device = \"cuda:1\"\n").unwrap();
        let cuda = cx.srl(&["train", "--config", "cuda.toml"]);
        assert!(cuda.code == 1 && cuda.stderr.contains("built without CUDA"), "{}", cuda.stderr);
    }
}

/// Mixed precision on the CPU (candle runs bf16 there too): bf16 activations without
/// recomputation train, and the checkpoint keeps f32 master weights that moved.
#[test]
fn bf16_activations_train_f32_master_weights() {
    let cx = TestContext::new();
    write_tiny_model(&cx.path("tiny"));
    sample_steps(&cx);
    let config = format!("precision = \"bf16\"\nrecompute_activations = false\n{SMALL_RUN}");
    std::fs::write(cx.path("run.toml"), config.replace("mode = \"sft-then-srl\"", "mode = \"sft\"")).unwrap();
    let run = cx.srl(&["train", "--config", "run.toml", "--out", "run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let metrics = lines(&cx, "run/metrics.jsonl");
    assert_eq!(metrics.len(), 3);
    let losses: Vec<f64> = metrics.iter().map(|m| m["loss"].as_f64().unwrap()).collect();
    assert!(losses.iter().all(|l| l.is_finite() && *l > 0.0), "{losses:?}");
    let load = |dir: &str| srl::policy::load::load(&cx.path(dir), DType::F32, &Device::Cpu).unwrap();
    let (before, after) = (load("tiny"), load("run/checkpoint"));
    let weight = |m: &srl::policy::load::LoadedModel| {
        let vars = m.varmap.data().lock().unwrap();
        let w = vars["model.layers.0.mlp.up_proj.weight"].as_tensor().clone();
        assert_eq!(w.dtype(), DType::F32);
        w.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    };
    let moved = weight(&before).iter().zip(weight(&after)).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(moved > 1e-4, "SFT at learning rate 1e-2 moved the weights by only {moved}");
    let header = std::fs::read(cx.path("run/checkpoint/model.safetensors")).unwrap();
    let text = String::from_utf8_lossy(&header[..4096.min(header.len())]);
    assert!(text.contains("F32") && !text.contains("BF16"), "the checkpoint is not f32");
}

/// Dynamic sampling by hand: with a scorer that gives the first two prompts' groups equal
/// rewards and the later ones varied rewards, a step asking for 2 groups samples 2 rounds of 2
/// prompts, keeps the 2 varied groups, and its advantages are the hand-computed GRPO ones.
#[test]
fn dynamic_sampling_refills_the_batch_with_new_prompts() {
    use srl::policy::sample::SamplingConfig;
    use srl::steps::StepInstance;
    use srl::train::grpo::AdvantageConfig;
    use srl::train::srl::{sample_step, Prompt, RolloutOptions, RolloutReward};
    let cx = TestContext::new();
    write_tiny_model(&cx.path("tiny"));
    let loaded = srl::policy::load::load(&cx.path("tiny"), DType::F32, &Device::Cpu).unwrap();
    let tokenizer = srl::policy::tokenizer::TextTokenizer::from_hf(&cx.path("tiny")).unwrap();
    let instance = |k: usize| -> StepInstance {
        serde_json::from_value(serde_json::json!({
            "schema": "srl.step/1", "id": format!("t/{k}"), "trajectory_id": "t", "instance_id": null,
            "step_index": k, "n_steps": 4, "messages": [], "target": "x",
            "target_action": {"tool": "bash", "args": {"command": "ls"}}
        }))
        .unwrap()
    };
    let instances: Vec<StepInstance> = (0..4).map(instance).collect();
    let prompts: Vec<Prompt> = instances.iter().map(|i| Prompt { ids: vec![1, 2, 3], instance: i }).collect();
    let options = RolloutOptions {
        prompts_per_step: 2,
        group_size: 4,
        sampling: SamplingConfig { temperature: 1.0, top_p: 1.0, top_k: 0, max_new_tokens: 3, seed: 0 },
        advantage: AdvantageConfig { scale_by_std: true, epsilon: 1e-6 },
        min_group_std: 1e-4,
        max_sampling_rounds: 3,
        contract: srl::reward::format::OutputContract::default(),
    };
    // Prompts 0 and 1: every rollout scores 0.5 (dropped). Prompts 2 and 3: 1, 0, 0, 0.
    let mut calls = [0usize; 4];
    let mut score = |rows: &[(&StepInstance, String)]| -> anyhow::Result<Vec<RolloutReward>> {
        let mut out = Vec::new();
        for (instance, _) in rows {
            let k = instance.step_index;
            calls[k] += 1;
            let reward = match (k < 2, calls[k] == 1) {
                (true, _) => 0.5,
                (false, true) => 1.0,
                (false, false) => 0.0,
            };
            out.push(RolloutReward { reward, format_ok: true, similarity: Some(reward), execution: None });
        }
        Ok(out)
    };
    let mut cursor = 0;
    let (batch, stats) =
        sample_step(&loaded.model, &tokenizer, &prompts, &mut cursor, &options, 7, &mut score).unwrap();
    assert_eq!((stats.sampled_groups, stats.kept_groups), (4, 2));
    assert_eq!(cursor, 0, "four prompts drawn, the cursor wrapped around");
    assert_eq!(batch.prompts.len(), 8);
    // Rewards [1, 0, 0, 0]: mean 0.25, population std sqrt(3)/4 = 0.4330127; (r - mean) / (std + 1e-6).
    let expect = [1.7320468, -0.5773489, -0.5773489, -0.5773489];
    for (got, want) in batch.advantages.iter().zip(expect.iter().chain(expect.iter())) {
        assert!((got - want).abs() < 1e-5, "{:?}", batch.advantages);
    }
    assert_eq!(stats.rewards.len(), 16);
}

/// LoRA: only the adapters train; the checkpoint holds merged weights that load as a plain model
/// and differ from the base, plus the adapters, and a LoRA run resumes.
#[test]
fn lora_runs_train_adapters_and_export_merged_weights() {
    let cx = TestContext::new();
    write_tiny_model(&cx.path("tiny"));
    sample_steps(&cx);
    let config = "mode = \"sft\"\nmodel = \"tiny\"\nsteps = \"s.jsonl\"\n[sft]\ntrain_steps = 2\nbatch_size = 1\nlearning_rate = 1e-2\n\
                  [eval]\nenabled = false\n[lora]\nrank = 2\nalpha = 4.0\ntargets = [\"q_proj\", \"up_proj\"]\n";
    std::fs::write(cx.path("lora.toml"), config).unwrap();
    let first = cx.srl(&["train", "--config", "lora.toml", "--out", "run", "--stop-after-steps", "1"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stderr.contains("LoRA rank 2"), "{}", first.stderr);
    let second = cx.srl(&["train", "--resume", "run"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(lines(&cx, "run/metrics.jsonl").len(), 2);
    assert!(cx.path("run/checkpoint/adapter.safetensors").is_file());
    let base = srl::policy::load::load(&cx.path("tiny"), DType::F32, &Device::Cpu).unwrap();
    let trained = srl::policy::load::load(&cx.path("run/checkpoint"), DType::F32, &Device::Cpu).unwrap();
    let weight = |m: &srl::policy::load::LoadedModel, name: &str| {
        m.varmap.data().lock().unwrap()[name].as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap()
    };
    for (name, changes) in [
        ("model.layers.0.self_attn.q_proj.weight", true),
        ("model.layers.1.mlp.up_proj.weight", true),
        ("model.layers.0.self_attn.k_proj.weight", false),
        ("model.embed_tokens.weight", false),
    ] {
        assert_eq!(weight(&base, name) != weight(&trained, name), changes, "{name}");
    }
}

/// RLVR end to end on a shipped task: the tiny model plays whole episodes in the local sandbox,
/// each is graded by the task's tests (it never resolves: reward 0), the group is dropped, and
/// the step is recorded as an RLVR step.
#[test]
fn rlvr_plays_graded_episodes() {
    let cx = TestContext::new();
    write_tiny_model(&cx.path("tiny"));
    let tasks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let trajectory = tasks.join("unitly/trajectory.jsonl");
    assert_eq!(cx.srl(&["import", trajectory.to_str().unwrap(), "-o", "t.jsonl"]).code, 0);
    assert_eq!(cx.srl(&["steps", "t.jsonl", "-o", "s.jsonl"]).code, 0);
    let config = format!(
        "mode = \"rlvr\"\nmodel = \"tiny\"\nsteps = \"s.jsonl\"\n[eval]\nenabled = false\n\
         [reward]\ntasks = {:?}\nsandbox = \"local\"\n\
         [rlvr]\ntrain_steps = 1\ngroup_size = 2\nmax_episode_steps = 2\nmax_new_tokens = 8\n",
        tasks.display().to_string()
    );
    std::fs::write(cx.path("rlvr.toml"), config).unwrap();
    let run = cx.srl(&["train", "--config", "rlvr.toml", "--out", "run"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let metrics = lines(&cx, "run/metrics.jsonl");
    assert_eq!(metrics.len(), 1);
    let m = &metrics[0];
    assert_eq!(m["stage"], "rlvr");
    assert_eq!((m["sampled_groups"].as_u64(), m["kept_groups"].as_u64()), (Some(1), Some(0)));
    assert_eq!(m["reward_mean"], 0.0);
    // Two episodes of two turns, every reply a format error: four sampled turns.
    assert_eq!(m["format_error_rate"], 1.0);
    assert!(m["tokens"].as_u64().unwrap() >= 4, "{m}");
}
