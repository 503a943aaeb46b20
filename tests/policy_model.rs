//! The student model and its loaders, checked against themselves on tiny random checkpoints the
//! test writes (full forward vs KV cache, padding, save/load, GGUF vs Hugging Face layout,
//! gradients vs finite differences) and against the real SmolLM2-135M GGUF when it is present
//! (`scripts/fetch-model.sh`); without it that test prints why it skipped.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{DType, Device, IndexOp, Tensor, Var, D};
use candle_nn::{VarBuilder, VarMap};
use srl::policy::load::{load_gguf, load_hf_dir, save_hf, ModelSource};
use srl::policy::model::{Config, Model};

const SMOLLM2: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

fn tiny_config(model_type: &str, tie: bool) -> Config {
    let text = format!(
        r#"{{"model_type": "{model_type}", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "max_position_embeddings": 64, "tie_word_embeddings": {tie}}}"#
    );
    serde_json::from_str(&text).unwrap()
}

/// A randomly initialized model; norm weights are moved off 1 so that swapping them shows.
fn random_model(cfg: &Config, dtype: DType) -> (VarMap, Model) {
    let varmap = VarMap::new();
    let model = Model::new(cfg, VarBuilder::from_varmap(&varmap, dtype, &Device::Cpu)).unwrap();
    for (name, var) in varmap.data().lock().unwrap().iter() {
        if name.contains("norm") {
            let noise = Tensor::randn(0.0, 0.2, var.shape(), &Device::Cpu).unwrap().to_dtype(dtype).unwrap();
            var.set(&(noise + 1.0).unwrap()).unwrap();
        }
    }
    (varmap, model)
}

/// Overwrites every weight with a fixed pseudo-random pattern (norms around 1): tests whose
/// bounds depend on the weights then give the same figures on every run.
fn fix_weights(varmap: &VarMap) {
    let vars = varmap.data().lock().unwrap();
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for (k, name) in names.into_iter().enumerate() {
        let var = &vars[name];
        let wave = |i: usize| ((i as f32 * 0.618 + k as f32 * 1.7).sin() * 43758.55).fract();
        let values: Vec<f32> = (0..var.elem_count())
            .map(|i| if name.contains("norm") { 1.0 + 0.2 * wave(i) } else { 0.1 * wave(i) })
            .collect();
        var.set(&Tensor::from_vec(values, var.shape(), &Device::Cpu).unwrap()).unwrap();
    }
}

fn named_tensors(varmap: &VarMap) -> HashMap<String, Tensor> {
    varmap.data().lock().unwrap().iter().map(|(k, v)| (k.clone(), v.as_tensor().clone())).collect()
}

/// A Hugging Face directory written directly (not through `save_hf`).
fn write_hf_dir(dir: &Path, cfg: &Config, varmap: &VarMap) {
    std::fs::write(dir.join("config.json"), serde_json::to_string(cfg).unwrap()).unwrap();
    candle_core::safetensors::save(&named_tensors(varmap), dir.join("model.safetensors")).unwrap();
}

fn ids(rows: &[&[u32]]) -> Tensor {
    Tensor::new(rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>(), &Device::Cpu).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    let diff = (a.to_dtype(DType::F64).unwrap() - b.to_dtype(DType::F64).unwrap()).unwrap();
    diff.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f64>().unwrap()
}

/// Feeds `input` one column at a time through the cache and stacks the logits.
fn token_by_token(model: &Model, input: &Tensor, mask: Option<&Tensor>) -> Tensor {
    let mut cache = model.new_cache();
    let t = input.dim(1).unwrap();
    let steps: Vec<Tensor> = (0..t)
        .map(|i| {
            let column = input.narrow(1, i, 1).unwrap();
            let mask_column = mask.map(|m| m.narrow(1, i, 1).unwrap());
            model.forward_cached(&column, mask_column.as_ref(), &mut cache).unwrap()
        })
        .collect();
    Tensor::cat(&steps, 1).unwrap()
}

#[test]
fn cached_forward_matches_full_forward() {
    let cfg = tiny_config("llama", false);
    let (_, model) = random_model(&cfg, DType::F32);
    let input = ids(&[&[5, 9, 2, 33, 63, 0, 17]]);
    let full = model.forward(&input, None).unwrap();
    let stepped = token_by_token(&model, &input, None);
    let mut cache = model.new_cache();
    let prefix = model.forward_cached(&input.narrow(1, 0, 4).unwrap(), None, &mut cache).unwrap();
    let rest = token_by_token_after(&model, &input.narrow(1, 4, 3).unwrap(), &mut cache);
    let chunked = Tensor::cat(&[prefix, rest], 1).unwrap();
    let (d_step, d_chunk) = (max_abs_diff(&full, &stepped), max_abs_diff(&full, &chunked));
    println!("batch 1: max |Δ logit| token-by-token {d_step:.2e}, prefix + tokens {d_chunk:.2e}");
    assert!(d_step <= 1e-4 && d_chunk <= 1e-4);
    assert_eq!(cache.next_positions(), &[7]);
}

fn token_by_token_after(model: &Model, input: &Tensor, cache: &mut srl::policy::model::Cache) -> Tensor {
    let steps: Vec<Tensor> = (0..input.dim(1).unwrap())
        .map(|i| model.forward_cached(&input.narrow(1, i, 1).unwrap(), None, cache).unwrap())
        .collect();
    Tensor::cat(&steps, 1).unwrap()
}

/// Sequences of lengths 7 and 4 batched with padding on `side`; every real position must match
/// the sequence alone, through the full forward and through the cache.
fn check_padded_batch(left: bool) -> (f64, f64) {
    let cfg = tiny_config("qwen2", true);
    let (_, model) = random_model(&cfg, DType::F32);
    let long: &[u32] = &[5, 9, 2, 33, 63, 0, 17];
    let short: &[u32] = &[40, 3, 3, 12];
    let pad = 7 - short.len();
    let (short_row, short_mask, offset): (Vec<u32>, Vec<u32>, usize) = if left {
        ([vec![0; pad], short.to_vec()].concat(), [vec![0; pad], vec![1; 4]].concat(), pad)
    } else {
        ([short.to_vec(), vec![0; pad]].concat(), [vec![1; 4], vec![0; pad]].concat(), 0)
    };
    let input = ids(&[long, &short_row]);
    let mask = ids(&[&[1; 7], &short_mask]);
    let batched = model.forward(&input, Some(&mask)).unwrap();
    let stepped = token_by_token(&model, &input, Some(&mask));
    let alone_long = model.forward(&ids(&[long]), None).unwrap();
    let alone_short = model.forward(&ids(&[short]), None).unwrap();
    let worst = |logits: &Tensor| {
        let d_long = max_abs_diff(&logits.i((0..1, .., ..)).unwrap(), &alone_long);
        let d_short = max_abs_diff(&logits.i((1..2, offset..offset + 4, ..)).unwrap(), &alone_short);
        d_long.max(d_short)
    };
    (worst(&batched), worst(&stepped))
}

#[test]
fn padded_batches_match_each_sequence_alone() {
    for left in [true, false] {
        let (full, cached) = check_padded_batch(left);
        let side = if left { "left" } else { "right" };
        println!("batch 2, {side} padding: max |Δ logit| full {full:.2e}, token-by-token cached {cached:.2e}");
        assert!(full <= 1e-4 && cached <= 1e-4, "{side} padding: {full} {cached}");
    }
}

#[test]
fn save_hf_then_load_gives_identical_logits() {
    for (model_type, tie) in [("llama", false), ("qwen2", true)] {
        let cfg = tiny_config(model_type, tie);
        let (varmap, model) = random_model(&cfg, DType::F32);
        let dir = tempfile::tempdir().unwrap();
        save_hf(&varmap, &cfg, dir.path(), DType::F32).unwrap();
        let loaded = load_hf_dir(dir.path(), DType::F32, &Device::Cpu).unwrap();
        assert_eq!(loaded.config, cfg);
        assert_eq!(loaded.source, ModelSource::HfDir(dir.path().to_path_buf()));
        assert_eq!(loaded.varmap.all_vars().len(), varmap.all_vars().len());
        let input = ids(&[&[1, 2, 3, 60, 4]]);
        let d = max_abs_diff(&model.forward(&input, None).unwrap(), &loaded.model.forward(&input, None).unwrap());
        println!("{model_type} (tied {tie}): save_hf → load max |Δ logit| {d:e}");
        assert_eq!(d, 0.0);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap()).unwrap();
        assert_eq!(json["torch_dtype"], "float32");
        assert!(json["architectures"][0].as_str().unwrap().ends_with("ForCausalLM"));
        let names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names.len(), 2, "only config.json and model.safetensors remain: {names:?}");
    }
}

#[test]
fn sharded_and_bf16_checkpoints_load() {
    let cfg = tiny_config("llama", false);
    let (varmap, model) = random_model(&cfg, DType::F32);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), serde_json::to_string(&cfg).unwrap()).unwrap();
    let (mut first, mut second, mut weight_map) = (HashMap::new(), HashMap::new(), serde_json::Map::new());
    for (i, (name, tensor)) in named_tensors(&varmap).into_iter().enumerate() {
        let shard = if i % 2 == 0 { "model-00001-of-00002.safetensors" } else { "model-00002-of-00002.safetensors" };
        weight_map.insert(name.clone(), shard.into());
        if i % 2 == 0 {
            first.insert(name, tensor)
        } else {
            second.insert(name, tensor)
        };
    }
    candle_core::safetensors::save(&first, dir.path().join("model-00001-of-00002.safetensors")).unwrap();
    candle_core::safetensors::save(&second, dir.path().join("model-00002-of-00002.safetensors")).unwrap();
    let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
    std::fs::write(dir.path().join("model.safetensors.index.json"), index.to_string()).unwrap();
    let sharded = load_hf_dir(dir.path(), DType::F32, &Device::Cpu).unwrap();
    let input = ids(&[&[1, 2, 3, 60, 4]]);
    let reference = model.forward(&input, None).unwrap();
    assert_eq!(max_abs_diff(&reference, &sharded.model.forward(&input, None).unwrap()), 0.0);

    let bf16_dir = tempfile::tempdir().unwrap();
    save_hf(&varmap, &cfg, bf16_dir.path(), DType::BF16).unwrap();
    let config_text = std::fs::read_to_string(bf16_dir.path().join("config.json")).unwrap();
    assert!(config_text.contains("\"torch_dtype\": \"bfloat16\""), "{config_text}");
    let from_bf16 = load_hf_dir(bf16_dir.path(), DType::F32, &Device::Cpu).unwrap();
    let d = max_abs_diff(&reference, &from_bf16.model.forward(&input, None).unwrap());
    let scale = reference.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap() as f64;
    println!("bf16 save → f32 load: max |Δ logit| {d:.2e} (max |logit| {scale:.2})");
    assert!(d > 0.0 && d <= 0.05 * scale, "{d} vs {scale}");
}

#[test]
fn loading_names_the_missing_tensor_and_the_directory() {
    let cfg = tiny_config("llama", false);
    let (varmap, _) = random_model(&cfg, DType::F32);
    varmap.data().lock().unwrap().remove("model.layers.1.mlp.up_proj.weight");
    let dir = tempfile::tempdir().unwrap();
    write_hf_dir(dir.path(), &cfg, &varmap);
    let err = format!("{:#}", load_hf_dir(dir.path(), DType::F32, &Device::Cpu).err().unwrap());
    assert!(err.contains("missing tensor model.layers.1.mlp.up_proj.weight"), "{err}");
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
}

/// llama.cpp's `convert_hf_to_gguf.py` `LlamaModel.permute`.
fn llama_cpp_permute(w: &Tensor, n_head: usize) -> Tensor {
    let dims = w.dims().to_vec();
    let mut split = vec![n_head, 2, dims[0] / n_head / 2];
    split.extend_from_slice(&dims[1..]);
    w.reshape(split).unwrap().transpose(1, 2).unwrap().contiguous().unwrap().reshape(dims).unwrap()
}

fn gguf_name(hf: &str) -> String {
    let table = [
        ("model.embed_tokens", "token_embd"),
        ("model.norm", "output_norm"),
        ("lm_head", "output"),
        ("self_attn.q_proj", "attn_q"),
        ("self_attn.k_proj", "attn_k"),
        ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"),
        ("mlp.gate_proj", "ffn_gate"),
        ("mlp.up_proj", "ffn_up"),
        ("mlp.down_proj", "ffn_down"),
        ("post_attention_layernorm", "ffn_norm"),
        ("input_layernorm", "attn_norm"),
        ("model.layers.", "blk."),
    ];
    table.iter().fold(hf.to_string(), |name, (from, to)| name.replace(from, to))
}

/// A GGUF file with F32 tensors in llama.cpp's layout (q/k rows permuted for `llama`).
fn write_gguf(path: &Path, cfg: &Config, varmap: &VarMap) {
    let arch = cfg.model_type.as_str();
    let mut tensors = Vec::new();
    for (hf, tensor) in named_tensors(varmap) {
        let tensor = match (arch, hf.contains("q_proj"), hf.contains("k_proj")) {
            ("llama", true, _) => llama_cpp_permute(&tensor, cfg.num_attention_heads),
            ("llama", _, true) => llama_cpp_permute(&tensor, cfg.num_kv_heads()),
            _ => tensor,
        };
        tensors.push((gguf_name(&hf), QTensor::quantize(&tensor, GgmlDType::F32).unwrap()));
    }
    let u32_value = |v: usize| gguf_file::Value::U32(v as u32);
    let tokens = (0..cfg.vocab_size).map(|i| gguf_file::Value::String(format!("t{i}"))).collect();
    let metadata = [
        ("general.architecture".to_string(), gguf_file::Value::String(arch.to_string())),
        (format!("{arch}.block_count"), u32_value(cfg.num_hidden_layers)),
        (format!("{arch}.context_length"), u32_value(cfg.max_position_embeddings)),
        (format!("{arch}.embedding_length"), u32_value(cfg.hidden_size)),
        (format!("{arch}.feed_forward_length"), u32_value(cfg.intermediate_size)),
        (format!("{arch}.attention.head_count"), u32_value(cfg.num_attention_heads)),
        (format!("{arch}.attention.head_count_kv"), u32_value(cfg.num_kv_heads())),
        (format!("{arch}.rope.freq_base"), gguf_file::Value::F32(cfg.rope_theta as f32)),
        (format!("{arch}.attention.layer_norm_rms_epsilon"), gguf_file::Value::F32(cfg.rms_norm_eps as f32)),
        ("tokenizer.ggml.tokens".to_string(), gguf_file::Value::Array(tokens)),
    ];
    let metadata: Vec<(&str, &gguf_file::Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut file = std::fs::File::create(path).unwrap();
    gguf_file::write(&mut file, &metadata, &tensors).unwrap();
}

#[test]
fn gguf_and_hf_layouts_give_the_same_logits() {
    for (model_type, tie) in [("llama", false), ("llama", true), ("qwen2", true)] {
        let cfg = tiny_config(model_type, tie);
        let (varmap, _) = random_model(&cfg, DType::F32);
        let dir = tempfile::tempdir().unwrap();
        write_hf_dir(dir.path(), &cfg, &varmap);
        let gguf_path = dir.path().join("tiny.gguf");
        write_gguf(&gguf_path, &cfg, &varmap);
        let hf = load_hf_dir(dir.path(), DType::F32, &Device::Cpu).unwrap();
        let gguf = load_gguf(&gguf_path, DType::F32, &Device::Cpu).unwrap();
        assert_eq!((gguf.config.num_hidden_layers, gguf.config.num_kv_heads()), (2, 2));
        assert_eq!((gguf.config.tie_word_embeddings, gguf.config.vocab_size), (tie, 64));
        assert_eq!(gguf.varmap.all_vars().len(), hf.varmap.all_vars().len());
        let input = ids(&[&[1, 2, 3, 60, 4, 9, 9, 31]]);
        let d = max_abs_diff(&hf.model.forward(&input, None).unwrap(), &gguf.model.forward(&input, None).unwrap());
        println!("{model_type} (tied {tie}): GGUF vs HF max |Δ logit| {d:.2e}");
        assert!(d <= 1e-5, "{model_type}: {d}");
    }
}

/// Sum over real next tokens of log p(target), on a left-padded batch of two.
fn target_log_prob(model: &Model) -> Tensor {
    let input = ids(&[&[3, 7, 1, 9, 4, 2], &[0, 0, 5, 6, 10, 8]]);
    let mask = ids(&[&[1; 6], &[0, 0, 1, 1, 1, 1]]);
    let logits = model.forward(&input.narrow(1, 0, 5).unwrap(), Some(&mask.narrow(1, 0, 5).unwrap())).unwrap();
    let log_probs = candle_nn::ops::log_softmax(&logits, D::Minus1).unwrap();
    let targets = input.narrow(1, 1, 5).unwrap().contiguous().unwrap().unsqueeze(2).unwrap();
    let picked = log_probs.gather(&targets, 2).unwrap().squeeze(2).unwrap();
    let weights =
        (mask.narrow(1, 0, 5).unwrap() * mask.narrow(1, 1, 5).unwrap()).unwrap().to_dtype(DType::F64).unwrap();
    (picked * weights).unwrap().sum_all().unwrap()
}

fn set_element(var: &Var, index: usize, value: f64) {
    let mut values = var.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap();
    values[index] = value;
    var.set(&Tensor::from_vec(values, var.shape(), &Device::Cpu).unwrap()).unwrap();
}

#[test]
fn gradients_match_finite_differences() {
    let mut worst = 0.0f64;
    for (model_type, tie) in [("llama", false), ("qwen2", true)] {
        let mut cfg = tiny_config(model_type, tie);
        (cfg.vocab_size, cfg.hidden_size, cfg.intermediate_size) = (11, 16, 24);
        let (varmap, model) = random_model(&cfg, DType::F64);
        let grads = target_log_prob(&model).backward().unwrap();
        let vars = varmap.data().lock().unwrap().clone();
        let mut names: Vec<&String> = vars.keys().collect();
        names.sort();
        assert!(names.iter().all(|n| grads.get(vars[*n].as_tensor()).is_some()), "every parameter gets a gradient");
        for name in names {
            let var = &vars[name];
            let analytic = grads.get(var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
            for index in [0, var.elem_count() / 2 + 1, var.elem_count() - 1] {
                let original = var.as_tensor().flatten_all().unwrap().to_vec1::<f64>().unwrap()[index];
                let eps = 1e-5;
                set_element(var, index, original + eps);
                let plus = target_log_prob(&model).to_scalar::<f64>().unwrap();
                set_element(var, index, original - eps);
                let minus = target_log_prob(&model).to_scalar::<f64>().unwrap();
                set_element(var, index, original);
                let numeric = (plus - minus) / (2.0 * eps);
                let error = (numeric - analytic[index]).abs() / numeric.abs().max(analytic[index].abs()).max(1e-6);
                assert!(error <= 1e-2, "{model_type} {name}[{index}]: analytic {} numeric {numeric}", analytic[index]);
                worst = worst.max(error);
            }
        }
    }
    println!("f64 gradients vs central differences: worst relative error {worst:.2e}");
}

/// The ChatML prompt for "What is the capital of France?" with SmolLM2's default system
/// message, tokenized once from the GGUF vocabulary and merges (byte-level BPE).
const FRANCE_PROMPT: [u32; 37] = [
    1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182, 2, 198,
    1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198,
];

fn gguf_tokens(path: &Path) -> Vec<String> {
    let mut file = std::fs::File::open(path).unwrap();
    let content = gguf_file::Content::read(&mut file).unwrap();
    let tokens = content.metadata["tokenizer.ggml.tokens"].to_vec().unwrap();
    tokens.iter().map(|t| t.to_string().unwrap().clone()).collect()
}

#[test]
fn smollm2_gguf_answers_paris() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SMOLLM2);
    if !path.is_file() {
        println!("skipped: {} is missing (run scripts/fetch-model.sh)", path.display());
        return;
    }
    let started = Instant::now();
    let loaded = load_gguf(&path, DType::F32, &Device::Cpu).unwrap();
    let cfg = &loaded.config;
    assert_eq!((cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_kv_heads()), (30, 576, 9, 3));
    assert_eq!((cfg.vocab_size, cfg.tie_word_embeddings), (49152, true));
    println!("loaded {} in {:.1}s", path.display(), started.elapsed().as_secs_f64());
    let model = &loaded.model;
    let mut cache = model.new_cache();
    let started = Instant::now();
    let logits = model.forward_cached(&ids(&[&FRANCE_PROMPT]), None, &mut cache).unwrap();
    let prefill = started.elapsed().as_secs_f64();
    let mut next =
        logits.i((0, FRANCE_PROMPT.len() - 1)).unwrap().argmax(D::Minus1).unwrap().to_scalar::<u32>().unwrap();
    let mut generated = vec![next];
    let started = Instant::now();
    for _ in 0..7 {
        let logits = model.forward_cached(&ids(&[&[next]]), None, &mut cache).unwrap();
        next = logits.i((0, 0)).unwrap().argmax(D::Minus1).unwrap().to_scalar::<u32>().unwrap();
        generated.push(next);
    }
    let decode = started.elapsed().as_secs_f64();
    let vocab = gguf_tokens(&path);
    let text: String = generated.iter().map(|&id| vocab[id as usize].replace('Ġ', " ").replace('Ċ', "\n")).collect();
    println!(
        "greedy: {generated:?} = {text:?}; prefill {:.1} tok/s, decode {:.1} tok/s (batch 1, f32)",
        FRANCE_PROMPT.len() as f64 / prefill,
        7.0 / decode
    );
    assert!(text.contains("Paris"), "{text:?}");
}

/// Activation checkpointing changes memory, not mathematics: the recomputed backward gives the
/// same loss and the same gradient for every weight as the ordinary one, for tied and untied
/// heads, with padding in the batch.
#[test]
fn recomputed_backward_matches_the_ordinary_backward() {
    for tie in [true, false] {
        let cfg = tiny_config("qwen2", tie);
        let (varmap, model) = random_model(&cfg, DType::F32);
        let input = ids(&[&[1, 5, 9, 13, 2, 7], &[3, 4, 8, 0, 0, 0]]);
        let mask = Tensor::new(&[[1f32, 1., 1., 1., 1., 1.], [1., 1., 1., 0., 0., 0.]], &Device::Cpu).unwrap();
        let weights = Tensor::randn(0f32, 1.0, (2, 6, 64), &Device::Cpu).unwrap();
        let loss_of = |logits: &Tensor| (logits * &weights)?.sum_all();
        let plain_loss = loss_of(&model.forward(&input, Some(&mask)).unwrap()).unwrap();
        let plain = plain_loss.backward().unwrap();
        let (loss, recomputed) = model.backward_recomputed(&input, Some(&mask), None, &mut |l| loss_of(l)).unwrap();
        assert!(max_abs_diff(&loss, &plain_loss) < 1e-4, "tie={tie}: loss");
        assert_same_gradients(&varmap, &plain, &recomputed, &format!("tie={tie}"));

        // Logits at chosen rows only (as log-probs of completions take them): the same rows of
        // the full forward, and the same gradients whether recomputed or not.
        let rows = Tensor::new(&[1u32, 4, 7, 8], &Device::Cpu).unwrap();
        let selected = model.forward_rows(&input, Some(&mask), &rows).unwrap();
        let full = model.forward(&input, Some(&mask)).unwrap().reshape((12, 64)).unwrap();
        assert!(max_abs_diff(&selected, &full.index_select(&rows, 0).unwrap()) < 1e-5, "tie={tie}: rows");
        let row_weights = Tensor::randn(0f32, 1.0, (4, 64), &Device::Cpu).unwrap();
        let row_loss_of = |logits: &Tensor| (logits * &row_weights)?.sum_all();
        let plain = row_loss_of(&selected).unwrap().backward().unwrap();
        let (_, recomputed) =
            model.backward_recomputed(&input, Some(&mask), Some(&rows), &mut |l| row_loss_of(l)).unwrap();
        assert_same_gradients(&varmap, &plain, &recomputed, &format!("tie={tie}, rows"));
    }
}

fn assert_same_gradients(
    varmap: &VarMap,
    plain: &candle_core::backprop::GradStore,
    recomputed: &candle_core::backprop::GradStore,
    what: &str,
) {
    for (name, var) in varmap.data().lock().unwrap().iter() {
        let (a, b) = (plain.get(var.as_tensor()), recomputed.get(var.as_tensor()));
        let (Some(a), Some(b)) = (a, b) else { panic!("{what}: {name} has a gradient in only one pass") };
        let scale = a.abs().unwrap().max_keepdim(0).unwrap().flatten_all().unwrap().max(0).unwrap();
        let scale = f64::from(scale.to_scalar::<f32>().unwrap()).max(1.0);
        // The recomputed pass adds the contributions to a tensor's gradient in another order;
        // the norm weights' sums over rows cancel enough to show that at ~1e-5 of the largest
        // entry. A wrong gradient differs at the scale of the entries themselves.
        assert!(max_abs_diff(a, b) / scale < 1e-4, "{what}: {name} differs by {} at scale {scale}", max_abs_diff(a, b));
    }
}

/// LoRA: a freshly adapted model equals its base (B starts at zero); once the adapters move, the
/// merged Hugging Face weights give the adapted model's logits, and only adapters are variables.
#[test]
fn lora_adapters_start_neutral_and_merge_exactly() {
    use srl::policy::model::lora::LoraConfig;
    let cfg = tiny_config("llama", true);
    let (varmap, model) = random_model(&cfg, DType::F32);
    let base = named_tensors(&varmap);
    let vb = VarBuilder::from_tensors(base.clone(), DType::F32, &Device::Cpu);
    let mut adapted = Model::new(&cfg, vb).unwrap();
    let adapters = VarMap::new();
    let lora = LoraConfig { rank: 2, alpha: 4.0, targets: vec!["q_proj".into(), "down_proj".into()] };
    adapted.attach_lora(&lora, &VarBuilder::from_varmap(&adapters, DType::F32, &Device::Cpu)).unwrap();
    // 2 layers x (q_proj + down_proj) x (A + B)
    assert_eq!(adapters.all_vars().len(), 8);
    let input = ids(&[&[3, 1, 4, 1, 5, 9]]);
    let before = model.forward(&input, None).unwrap();
    assert!(max_abs_diff(&before, &adapted.forward(&input, None).unwrap()) < 1e-6);
    for var in adapters.all_vars() {
        var.set(&Tensor::randn(0f32, 0.3, var.shape(), &Device::Cpu).unwrap()).unwrap();
    }
    let moved = adapted.forward(&input, None).unwrap();
    assert!(max_abs_diff(&before, &moved) > 1e-3, "the adapters change nothing");
    let mut merged = base;
    merged.extend(adapted.merged_weights().unwrap());
    let plain = Model::new(&cfg, VarBuilder::from_tensors(merged, DType::F32, &Device::Cpu)).unwrap();
    assert!(max_abs_diff(&moved, &plain.forward(&input, None).unwrap()) < 1e-4);
    let bad = LoraConfig { rank: 2, alpha: 4.0, targets: vec!["qproj".into()] };
    let err = adapted.attach_lora(&bad, &VarBuilder::from_varmap(&adapters, DType::F32, &Device::Cpu));
    assert!(err.unwrap_err().to_string().contains("qproj"));
}

/// Int8 sampling copies: the cached forward stays close to the f32 one, follows the weights
/// when they are refreshed after a change, and is exact again once switched off.
#[test]
fn quantized_sampling_stays_close_and_follows_the_weights() {
    let cfg = tiny_config("qwen2", true);
    let (varmap, mut model) = random_model(&cfg, DType::F32);
    fix_weights(&varmap);
    let input = ids(&[&[5, 9, 2, 33, 63, 0, 17], &[1, 4, 4, 8, 40, 41, 2]]);
    let cached = |model: &Model| token_by_token(model, &input, None);
    let exact = model.forward(&input, None).unwrap();
    let scale = exact.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap() as f64;
    model.set_quantized_sampling(true).unwrap();
    let quantized = max_abs_diff(&exact, &cached(&model));
    println!("int8 sampling: max |Δ logit| {quantized:.2e} (largest logit {scale:.2})");
    assert!(quantized > 0.0 && quantized < 0.05 * scale, "{quantized} vs {scale}");
    // Change a weight: stale until refreshed.
    let var = varmap.data().lock().unwrap()["model.layers.0.self_attn.q_proj.weight"].clone();
    var.set(&(var.as_tensor() * 3.0).unwrap()).unwrap();
    let changed = model.forward(&input, None).unwrap();
    let stale = max_abs_diff(&changed, &cached(&model));
    model.refresh_sampling_weights().unwrap();
    let fresh = max_abs_diff(&changed, &cached(&model));
    // Tripling q_proj sharpens the attention, which magnifies the weights' rounding: the bound
    // is relative to the changed model's logits, and staleness costs far more than rounding.
    let changed_scale =
        changed.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap() as f64;
    println!("after the change: refreshed {fresh:.2e}, stale {stale:.2e}, largest logit {changed_scale:.2}");
    assert!(fresh < stale / 3.0 && fresh < 0.1 * changed_scale, "refreshed {fresh}, stale {stale}");
    model.set_quantized_sampling(false).unwrap();
    assert!(max_abs_diff(&changed, &cached(&model)) <= 1e-4);
}

/// bf16 activations of f32 weights: sampling reads the weights cast once (not at every step),
/// computes what the training forward computes, and follows the weights when refreshed.
#[test]
fn half_float_sampling_reads_weights_cast_once_and_refreshed() {
    let cfg = tiny_config("qwen2", true);
    let (varmap, mut model) = random_model(&cfg, DType::F32);
    fix_weights(&varmap);
    model.set_compute_dtype(DType::BF16);
    let input = ids(&[&[5, 9, 2, 33, 63, 0, 17], &[1, 4, 4, 8, 40, 41, 2]]);
    // A prefill through the cache runs the same kernels on the same bf16 weights as `forward`.
    let prefill = |model: &Model| model.forward_cached(&input, None, &mut model.new_cache()).unwrap();
    let training = model.forward(&input, None).unwrap();
    assert_eq!(training.dtype(), DType::F32);
    assert!(max_abs_diff(&training, &prefill(&model)) < 1e-6);
    // Change a weight: the sampling copy is stale until refreshed, then exact again.
    let var = varmap.data().lock().unwrap()["model.layers.1.mlp.down_proj.weight"].clone();
    var.set(&(var.as_tensor() * 3.0).unwrap()).unwrap();
    let changed = model.forward(&input, None).unwrap();
    assert!(max_abs_diff(&changed, &training) > 0.1, "the change must show in the logits");
    assert!(max_abs_diff(&training, &prefill(&model)) < 1e-6, "sampling must read the copy");
    model.refresh_sampling_weights().unwrap();
    assert!(max_abs_diff(&changed, &prefill(&model)) < 1e-6);
}
