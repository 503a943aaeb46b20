//! Sampling and training log-probs on a tiny random model built here: greedy decoding equals
//! the argmax of the full forward, batches agree with single prompts, the log-probs recorded
//! while sampling equal those recomputed for training, and gradients reach the weights.

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{VarBuilder, VarMap};
use srl::policy::logprob::completion_logprobs;
use srl::policy::model::{Config, Model};
use srl::policy::sample::{generate, FinishReason, SamplingConfig};

fn tiny() -> (Model, VarMap) {
    let cfg: Config = serde_json::from_value(serde_json::json!({
        "vocab_size": 50, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": false
    }))
    .unwrap();
    let varmap = VarMap::new();
    let model = Model::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
    // Deterministic weights (the CPU generator behind the default init cannot be seeded), large
    // enough that the distributions are far from uniform: a fixed pseudo-random pattern per tensor.
    let vars = varmap.data().lock().unwrap();
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for (k, name) in names.into_iter().enumerate() {
        let var = &vars[name];
        let n = var.as_tensor().elem_count();
        let values: Vec<f32> = (0..n).map(|i| (i as f32 * 0.618 + k as f32 * 1.7).sin() * 0.35).collect();
        let fixed = Tensor::from_vec(values, var.as_tensor().shape(), &Device::Cpu).unwrap();
        var.set(&fixed).unwrap();
    }
    drop(vars);
    (model, varmap)
}

fn greedy(n: usize) -> SamplingConfig {
    SamplingConfig { temperature: 0.0, top_p: 1.0, top_k: 0, max_new_tokens: n, seed: 7 }
}

fn never_done(_: usize, _: &[u32]) -> bool {
    false
}

#[test]
fn greedy_decoding_is_the_argmax_of_the_full_forward() {
    let (model, _) = tiny();
    let prompt = vec![3u32, 14, 15, 9, 2];
    let out = generate(&model, std::slice::from_ref(&prompt), &greedy(6), &[], &mut never_done).unwrap();
    let mut ids = prompt.clone();
    for _ in 0..6 {
        let input = Tensor::new(ids.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let logits = model.forward(&input, None).unwrap();
        let last = logits.squeeze(0).unwrap().get(ids.len() - 1).unwrap();
        ids.push(last.argmax(D::Minus1).unwrap().to_scalar::<u32>().unwrap());
    }
    assert_eq!(out[0].token_ids, ids[prompt.len()..]);
    assert_eq!(out[0].finish, FinishReason::Length);
}

#[test]
fn batches_of_different_lengths_match_single_prompts() {
    let (model, _) = tiny();
    let prompts = vec![vec![5u32, 6, 7, 8, 9, 10, 11], vec![12u32, 13], vec![1u32, 2, 3, 4]];
    let batched = generate(&model, &prompts, &greedy(5), &[], &mut never_done).unwrap();
    for (prompt, together) in prompts.iter().zip(&batched) {
        let alone = generate(&model, std::slice::from_ref(prompt), &greedy(5), &[], &mut never_done).unwrap();
        assert_eq!(together.token_ids, alone[0].token_ids);
        for (a, b) in together.logprobs.iter().zip(&alone[0].logprobs) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

#[test]
fn sampling_is_seeded_and_stops_where_told() {
    let (model, _) = tiny();
    let cfg = SamplingConfig { temperature: 1.0, top_p: 0.9, top_k: 20, max_new_tokens: 12, seed: 42 };
    let prompts = vec![vec![1u32, 2, 3]; 4];
    let a = generate(&model, &prompts, &cfg, &[], &mut never_done).unwrap();
    let b = generate(&model, &prompts, &cfg, &[], &mut never_done).unwrap();
    assert_eq!(a, b, "same seed, same samples");
    assert!(a.iter().any(|c| c.token_ids != a[0].token_ids), "rows of a group differ");
    let other = generate(&model, &prompts, &SamplingConfig { seed: 43, ..cfg.clone() }, &[], &mut never_done).unwrap();
    assert_ne!(a, other);
    let stop = a[0].token_ids[2];
    let stopped = generate(&model, &prompts[..1], &cfg, &[stop], &mut never_done).unwrap();
    assert_eq!(stopped[0].finish, FinishReason::Stop);
    assert_eq!(stopped[0].token_ids, a[0].token_ids[..3]);
    let mut after_two = |_: usize, ids: &[u32]| ids.len() == 2;
    let short = generate(&model, &prompts[..1], &cfg, &[], &mut after_two).unwrap();
    assert_eq!((short[0].token_ids.len(), short[0].finish), (2, FinishReason::StopSequence));
    let top1 =
        generate(&model, &prompts[..1], &SamplingConfig { top_k: 1, ..cfg.clone() }, &[], &mut never_done).unwrap();
    let greedy_out = generate(&model, &prompts[..1], &greedy(12), &[], &mut never_done).unwrap();
    assert_eq!(top1[0].token_ids, greedy_out[0].token_ids, "top-k 1 is greedy");
}

#[test]
fn a_prompt_prefilled_once_serves_every_row_that_repeats_it() {
    let (model, _) = tiny();
    let (a, b) = (vec![4u32, 5, 6, 7, 8], vec![9u32, 10]);
    let prompts = vec![a.clone(), b.clone(), a.clone(), a.clone()];
    let greedy_rows = generate(&model, &prompts, &greedy(6), &[], &mut never_done).unwrap();
    for (prompt, row) in prompts.iter().zip(&greedy_rows) {
        let alone = generate(&model, std::slice::from_ref(prompt), &greedy(6), &[], &mut never_done).unwrap();
        assert_eq!(row.token_ids, alone[0].token_ids);
    }
    // Sampled rows of one prompt diverge after the shared prefill; each row's recorded
    // log-probs must still be those of its own sequence.
    let cfg = SamplingConfig { temperature: 1.0, top_p: 1.0, top_k: 0, max_new_tokens: 8, seed: 11 };
    let sampled = generate(&model, &prompts, &cfg, &[], &mut never_done).unwrap();
    assert!(sampled[0].token_ids != sampled[2].token_ids || sampled[0].token_ids != sampled[3].token_ids);
    let completions: Vec<Vec<u32>> = sampled.iter().map(|c| c.token_ids.clone()).collect();
    let (logprobs, _) = completion_logprobs(&model, &prompts, &completions).unwrap();
    for (row, completion) in logprobs.to_vec2::<f32>().unwrap().iter().zip(&sampled) {
        for (k, recorded) in completion.logprobs.iter().enumerate() {
            assert!((row[k] - recorded).abs() < 1e-4, "token {k}: {} vs {recorded}", row[k]);
        }
    }
}

#[test]
fn training_logprobs_equal_sampling_logprobs_and_are_differentiable() {
    let (model, varmap) = tiny();
    let cfg = SamplingConfig { temperature: 1.0, top_p: 1.0, top_k: 0, max_new_tokens: 8, seed: 3 };
    let prompts = vec![vec![4u32, 5, 6, 7], vec![8u32, 9]];
    let sampled = generate(&model, &prompts, &cfg, &[], &mut never_done).unwrap();
    let completions: Vec<Vec<u32>> = sampled.iter().map(|c| c.token_ids.clone()).collect();
    let (logprobs, mask) = completion_logprobs(&model, &prompts, &completions).unwrap();
    let rows: Vec<Vec<f32>> = logprobs.to_vec2().unwrap();
    for (row, completion) in rows.iter().zip(&sampled) {
        for (k, recorded) in completion.logprobs.iter().enumerate() {
            assert!((row[k] - recorded).abs() < 1e-4, "token {k}: {} vs {recorded}", row[k]);
        }
    }
    assert_eq!(
        mask.sum_all().unwrap().to_scalar::<f32>().unwrap(),
        (completions[0].len() + completions[1].len()) as f32
    );
    let loss = logprobs.sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let reached = varmap.all_vars().iter().filter(|v| grads.get(v.as_tensor()).is_some()).count();
    assert_eq!(reached, varmap.all_vars().len(), "every weight gets a gradient");
}

#[test]
fn smollm2_answers_a_simple_question_with_greedy_decoding() {
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models/SmolLM2-135M-Instruct.Q4_1.gguf"));
    if !path.exists() {
        println!("skipping: {} is missing (run scripts/fetch-model.sh)", path.display());
        return;
    }
    let loaded = srl::policy::load::load(path, DType::F32, &Device::Cpu).unwrap();
    let tokenizer = srl::policy::tokenizer::TextTokenizer::from_gguf(path).unwrap();
    let template = srl::policy::chat::Template::detect(tokenizer.chat_template.as_deref()).unwrap();
    let prompt = template.render(&[
        srl::policy::chat::Turn {
            role: "system",
            content: "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
        },
        srl::policy::chat::Turn { role: "user", content: "What is the capital of France?" },
    ]);
    let ids = tokenizer.encode(&prompt).unwrap();
    let stop: Vec<u32> = tokenizer.stop_ids.iter().copied().collect();
    let started = std::time::Instant::now();
    let out = generate(&loaded.model, &[ids], &greedy(24), &stop, &mut never_done).unwrap();
    let text = tokenizer.decode(&out[0].token_ids).unwrap();
    println!("{text:?}: {} tokens in {:.2?}", out[0].token_ids.len(), started.elapsed());
    assert!(text.contains("Paris"), "{text}");
}
