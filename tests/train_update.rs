//! GRPO updates on a tiny random model: the policy moves towards rewarded completions and away
//! from penalised ones, and gradient clipping bounds the step.

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use srl::policy::logprob::completion_logprobs;
use srl::policy::model::{Config, Model};
use srl::policy::sample::{generate, SamplingConfig};
use srl::train::grpo::{advantages, AdvantageConfig};
use srl::train::loss::LossConfig;
use srl::train::optim::AdamW;
use srl::train::update::{update, Batch, UpdateOptions};

fn tiny() -> (Model, VarMap) {
    let cfg: Config = serde_json::from_value(serde_json::json!({
        "vocab_size": 40, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "tie_word_embeddings": true
    }))
    .unwrap();
    let varmap = VarMap::new();
    let model = Model::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
    (model, varmap)
}

fn mean_logprob(model: &Model, prompt: &[u32], completion: &[u32]) -> f32 {
    let (lp, _) = completion_logprobs(model, &[prompt.to_vec()], &[completion.to_vec()]).unwrap();
    lp.mean_all().unwrap().to_scalar::<f32>().unwrap()
}

#[test]
fn updates_raise_rewarded_and_lower_penalised_completions() {
    let (model, varmap) = tiny();
    let prompt = vec![1u32, 2, 3, 4];
    let (good, bad) = (vec![5u32, 6, 7], vec![8u32, 9, 10, 11]);
    let old = |completion: &[u32]| -> Vec<f32> {
        let (lp, _) = completion_logprobs(&model, std::slice::from_ref(&prompt), &[completion.to_vec()]).unwrap();
        lp.to_vec2::<f32>().unwrap().remove(0)
    };
    let rewards = [1.0, 0.0];
    let adv = advantages(&rewards, &AdvantageConfig { scale_by_std: true, epsilon: 1e-6 });
    let batch = Batch {
        prompts: vec![prompt.clone(); 2],
        completions: vec![good.clone(), bad.clone()],
        old_logprobs: vec![old(&good), old(&bad)],
        advantages: adv.iter().map(|a| *a as f32).collect(),
        reference_logprobs: None,
    };
    let before = (mean_logprob(&model, &prompt, &good), mean_logprob(&model, &prompt, &bad));
    let mut optimizer = AdamW::new(&varmap, 1e-3, 0, 0.0).unwrap();
    let options = UpdateOptions::default();
    let mut norms = Vec::new();
    for _ in 0..3 {
        let stats = update(&model, &varmap, &mut optimizer, &batch, &options).unwrap();
        assert!(stats.loss.is_finite());
        norms.push(stats.grad_norm);
    }
    let after = (mean_logprob(&model, &prompt, &good), mean_logprob(&model, &prompt, &bad));
    assert!(after.0 > before.0, "rewarded completion: {} -> {}", before.0, after.0);
    assert!(after.1 < before.1, "penalised completion: {} -> {}", before.1, after.1);
    // Later passes may see zero gradients: once a ratio leaves [0.8, 1.2] on the side the
    // advantage favours, the clip stops its gradient, as PPO intends.
    assert!(norms[0] > 0.0 && norms.iter().all(|n| n.is_finite()), "{norms:?}");
}

#[test]
fn sampled_groups_train_without_errors() {
    let (model, varmap) = tiny();
    let prompt = vec![1u32, 2, 3, 4];
    let cfg = SamplingConfig { temperature: 1.0, top_p: 1.0, top_k: 0, max_new_tokens: 6, seed: 11 };
    let group = generate(&model, &vec![prompt.clone(); 4], &cfg, &[], &mut |_, _| false).unwrap();
    let rewards: Vec<f64> = group.iter().map(|c| c.token_ids.iter().filter(|&&t| t % 2 == 0).count() as f64).collect();
    let adv = advantages(&rewards, &AdvantageConfig { scale_by_std: true, epsilon: 1e-6 });
    let batch = Batch {
        prompts: vec![prompt; 4],
        completions: group.iter().map(|c| c.token_ids.clone()).collect(),
        old_logprobs: group.iter().map(|c| c.logprobs.clone()).collect(),
        advantages: adv.iter().map(|a| *a as f32).collect(),
        reference_logprobs: None,
    };
    let mut optimizer = AdamW::new(&varmap, 1e-3, 0, 0.01).unwrap();
    let options = UpdateOptions {
        loss: LossConfig { clip: 0.2, token_level: false },
        max_grad_norm: 1e-3,
        temperature: 1.0,
        kl_coef: 0.0,
        micro_batch: 1,
        recompute: true,
    };
    let stats = update(&model, &varmap, &mut optimizer, &batch, &options).unwrap();
    assert!(stats.loss.is_finite() && stats.grad_norm.is_finite());
    assert_eq!(optimizer.steps_taken, 1);
}
