//! Loading the student model from disk into trainable `Var`s, and saving it back.
//!
//! Two sources: a Hugging Face directory (`config.json` + `model.safetensors` or a sharded
//! `model.safetensors.index.json`) and a llama.cpp GGUF file, whose tensors are dequantized to
//! floats, renamed to Hugging Face keys and, for the `llama` architecture, have their q/k rows
//! un-permuted from llama.cpp's interleaved rotary layout back to the half-split one the model
//! uses. Either way every tensor the model asks for becomes a `Var` in one `VarMap`, so
//! `varmap.all_vars()` are exactly the model's parameters. [`save_hf`] writes the Hugging Face
//! layout that transformers and vLLM load.
//!
//! Deliberately not here: tokenizers (the GGUF vocabulary is only counted), quantized
//! inference, and model families other than [`crate::policy::model::llama`].

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use candle_core::quantized::gguf_file;
use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{VarBuilder, VarMap};

use crate::atomic::AtomicFile;
use crate::policy::model::{Config, Model};

/// Where a model was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    HfDir(PathBuf),
    Gguf(PathBuf),
}

/// A model whose weights are the `Var`s of `varmap`.
pub struct LoadedModel {
    pub model: Model,
    pub varmap: VarMap,
    pub config: Config,
    pub source: ModelSource,
}

/// Loads a Hugging Face directory or a `.gguf` file, with weights in `dtype` on `dev`.
pub fn load(path: &Path, dtype: DType, dev: &Device) -> Result<LoadedModel> {
    if path.is_dir() {
        load_hf_dir(path, dtype, dev)
    } else if path.extension().is_some_and(|e| e == "gguf") {
        load_gguf(path, dtype, dev)
    } else {
        bail!("{} is neither a Hugging Face model directory nor a .gguf file", path.display())
    }
}

/// Loads `config.json` and the safetensors weights of a Hugging Face model directory.
pub fn load_hf_dir(dir: &Path, dtype: DType, dev: &Device) -> Result<LoadedModel> {
    let config_path = dir.join("config.json");
    let text = fs::read_to_string(&config_path).with_context(|| format!("failed to read {}", config_path.display()))?;
    let config: Config =
        serde_json::from_str(&text).with_context(|| format!("failed to parse {}", config_path.display()))?;
    let files = safetensors_files(dir)?;
    // SAFETY: the files are memory-mapped read-only; like every safetensors reader we assume
    // nobody truncates them while the model loads (the tensors are copied into Vars).
    let tensors = unsafe { MmapedSafetensors::multi(&files) }
        .with_context(|| format!("failed to read safetensors in {}", dir.display()))?;
    let origin = dir.display().to_string();
    build(config, TensorSource::Safetensors(tensors), origin, dtype, dev, ModelSource::HfDir(dir.to_path_buf()))
}

/// `model.safetensors`, or the shards named by `model.safetensors.index.json`.
fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index_path = dir.join("model.safetensors.index.json");
    if !index_path.is_file() {
        bail!("{} has neither model.safetensors nor model.safetensors.index.json", dir.display())
    }
    let text = fs::read_to_string(&index_path).with_context(|| format!("failed to read {}", index_path.display()))?;
    let index: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("failed to parse {}", index_path.display()))?;
    let Some(weight_map) = index.get("weight_map").and_then(|m| m.as_object()) else {
        bail!("{} has no \"weight_map\" object", index_path.display())
    };
    let mut shards: Vec<String> = weight_map.values().filter_map(|v| v.as_str().map(str::to_string)).collect();
    shards.sort();
    shards.dedup();
    if shards.is_empty() {
        bail!("{} names no shard files", index_path.display())
    }
    Ok(shards.into_iter().map(|name| dir.join(name)).collect())
}

/// Loads a llama.cpp GGUF file (architectures `llama` and `qwen2`), dequantizing every tensor.
pub fn load_gguf(path: &Path, dtype: DType, dev: &Device) -> Result<LoadedModel> {
    let mut file = fs::File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let content = gguf_file::Content::read(&mut file)
        .with_context(|| format!("failed to read GGUF header of {}", path.display()))?;
    let config = gguf_config(&content).with_context(|| format!("unsupported GGUF metadata in {}", path.display()))?;
    let mut tensors = HashMap::new();
    for name in content.tensor_infos.keys() {
        let Some(hf) = hf_name(name) else {
            bail!("{}: tensor {name} has no Hugging Face counterpart in the llama family", path.display())
        };
        let quantized = content
            .tensor(&mut file, name, &Device::Cpu)
            .with_context(|| format!("failed to read tensor {name} from {}", path.display()))?;
        let mut tensor = quantized.dequantize(&Device::Cpu)?;
        if config.model_type == "llama" {
            tensor = unpermute_llama_rows(&hf, tensor, &config)
                .with_context(|| format!("{}: tensor {name} has an unexpected shape", path.display()))?;
        }
        tensors.insert(hf, tensor);
    }
    let source = TensorSource::Tensors(Mutex::new(tensors));
    build(config, source, path.display().to_string(), dtype, dev, ModelSource::Gguf(path.to_path_buf()))
}

/// The model configuration a GGUF file's metadata describes.
fn gguf_config(content: &gguf_file::Content) -> Result<Config> {
    let meta = &content.metadata;
    let arch = meta.get("general.architecture").context("missing key general.architecture")?.to_string()?.clone();
    if !matches!(arch.as_str(), "llama" | "qwen2") {
        bail!("architecture {arch:?} is not supported (llama or qwen2)")
    }
    let key = |suffix: &str| format!("{arch}.{suffix}");
    let int = |suffix: &str| -> Result<usize> {
        let k = key(suffix);
        meta.get(&k).and_then(value_usize).with_context(|| format!("missing or non-integer key {k}"))
    };
    let float = |suffix: &str| meta.get(&key(suffix)).and_then(value_f64);
    let heads = int("attention.head_count")?;
    let vocab_size = match meta.get("tokenizer.ggml.tokens").and_then(|v| v.to_vec().ok()) {
        Some(tokens) => tokens.len(),
        None => int("vocab_size")?,
    };
    Ok(Config {
        vocab_size,
        hidden_size: int("embedding_length")?,
        intermediate_size: int("feed_forward_length")?,
        num_hidden_layers: int("block_count")?,
        num_attention_heads: heads,
        num_key_value_heads: Some(int("attention.head_count_kv").unwrap_or(heads)),
        head_dim: int("attention.key_length").ok(),
        rms_norm_eps: float("attention.layer_norm_rms_epsilon")
            .with_context(|| format!("missing key {}", key("attention.layer_norm_rms_epsilon")))?,
        rope_theta: float("rope.freq_base").unwrap_or(10_000.0),
        max_position_embeddings: int("context_length")?,
        tie_word_embeddings: !content.tensor_infos.contains_key("output.weight"),
        attention_bias: false,
        model_type: arch,
        hidden_act: "silu".to_string(),
        rope_scaling: None,
    })
}

fn value_usize(value: &gguf_file::Value) -> Option<usize> {
    use gguf_file::Value as V;
    let n: i128 = match *value {
        V::U8(v) => v.into(),
        V::I8(v) => v.into(),
        V::U16(v) => v.into(),
        V::I16(v) => v.into(),
        V::U32(v) => v.into(),
        V::I32(v) => v.into(),
        V::U64(v) => v.into(),
        V::I64(v) => v.into(),
        _ => return None,
    };
    usize::try_from(n).ok()
}

fn value_f64(value: &gguf_file::Value) -> Option<f64> {
    match *value {
        gguf_file::Value::F32(v) => Some(v.into()),
        gguf_file::Value::F64(v) => Some(v),
        _ => None,
    }
}

/// The Hugging Face key of a llama.cpp tensor name (`blk.3.attn_q.weight` →
/// `model.layers.3.self_attn.q_proj.weight`).
fn hf_name(gguf_name: &str) -> Option<String> {
    let (stem, kind) = gguf_name.rsplit_once('.')?;
    if !matches!(kind, "weight" | "bias") {
        return None;
    }
    let hf_stem = match stem {
        "token_embd" => "model.embed_tokens".to_string(),
        "output_norm" => "model.norm".to_string(),
        "output" => "lm_head".to_string(),
        _ => {
            let (layer, part) = stem.strip_prefix("blk.")?.split_once('.')?;
            let layer: usize = layer.parse().ok()?;
            let module = match part {
                "attn_q" => "self_attn.q_proj",
                "attn_k" => "self_attn.k_proj",
                "attn_v" => "self_attn.v_proj",
                "attn_output" => "self_attn.o_proj",
                "ffn_gate" => "mlp.gate_proj",
                "ffn_up" => "mlp.up_proj",
                "ffn_down" => "mlp.down_proj",
                "attn_norm" => "input_layernorm",
                "ffn_norm" => "post_attention_layernorm",
                _ => return None,
            };
            format!("model.layers.{layer}.{module}")
        }
    };
    Some(format!("{hf_stem}.{kind}"))
}

/// llama.cpp's converter permutes the rows of q/k (weights and biases) of `llama` models so that
/// each head's rotary pairs are interleaved; this undoes it for the HF half-split layout.
fn unpermute_llama_rows(hf: &str, tensor: Tensor, config: &Config) -> Result<Tensor> {
    let n_head = if hf.contains(".self_attn.q_proj.") {
        config.num_attention_heads
    } else if hf.contains(".self_attn.k_proj.") {
        config.num_kv_heads()
    } else {
        return Ok(tensor);
    };
    unpermute_rows(&tensor, n_head)
}

/// `w.reshape(n_head, rows/n_head/2, 2, ...).transpose(1, 2).reshape(w.shape)`: the inverse of
/// llama.cpp's `permute`.
fn unpermute_rows(tensor: &Tensor, n_head: usize) -> Result<Tensor> {
    let dims = tensor.dims().to_vec();
    let rows = dims.first().copied().unwrap_or(0);
    if n_head == 0 || rows % (2 * n_head) != 0 {
        bail!("{rows} rows do not split into {n_head} heads of rotary pairs")
    }
    let mut split = vec![n_head, rows / n_head / 2, 2];
    split.extend_from_slice(&dims[1..]);
    Ok(tensor.reshape(split)?.transpose(1, 2)?.contiguous()?.reshape(dims)?)
}

/// Builds the model from `source`, turning each tensor it asks for into a `Var`.
fn build(
    config: Config,
    source: TensorSource,
    origin: String,
    dtype: DType,
    dev: &Device,
    kind: ModelSource,
) -> Result<LoadedModel> {
    let varmap = VarMap::new();
    let backend = VarMapLoader { source, origin, varmap: varmap.clone() };
    let vb = VarBuilder::from_backend(Box::new(backend), dtype, dev.clone());
    let model = Model::new(&config, vb).with_context(|| format!("failed to build the model from {}", kind.path()))?;
    Ok(LoadedModel { model, varmap, config, source: kind })
}

impl ModelSource {
    pub fn path(&self) -> String {
        match self {
            ModelSource::HfDir(p) | ModelSource::Gguf(p) => p.display().to_string(),
        }
    }
}

/// Checkpoint tensors by Hugging Face name.
enum TensorSource {
    Safetensors(MmapedSafetensors),
    /// Taken out as they are used, so their memory goes as the `Var`s are made.
    Tensors(Mutex<HashMap<String, Tensor>>),
}

/// A `VarBuilder` backend that copies each requested checkpoint tensor into a new `Var` of
/// `varmap`; a tensor the model does not ask for never becomes a parameter, and a missing one
/// is an error naming the checkpoint (never a silent random init).
struct VarMapLoader {
    source: TensorSource,
    origin: String,
    varmap: VarMap,
}

impl VarMapLoader {
    fn take(&self, name: &str) -> candle_core::Result<Option<Tensor>> {
        match &self.source {
            TensorSource::Safetensors(st) => match st.get(name) {
                Ok(_) => st.load(name, &Device::Cpu).map(Some),
                Err(_) => Ok(None),
            },
            TensorSource::Tensors(map) => Ok(map.lock().map_err(|_| poisoned())?.remove(name)),
        }
    }
}

fn poisoned() -> candle_core::Error {
    candle_core::Error::Msg("a thread panicked while holding the checkpoint tensors".to_string())
}

impl SimpleBackend for VarMapLoader {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        _: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let mut vars = self.varmap.data().lock().map_err(|_| poisoned())?;
        if let Some(var) = vars.get(name) {
            return Ok(var.as_tensor().clone());
        }
        let Some(tensor) = self.take(name)? else { candle_core::bail!("{}: missing tensor {name}", self.origin) };
        if tensor.shape() != &shape {
            candle_core::bail!(
                "{}: tensor {name} has shape {:?}, the config implies {:?}",
                self.origin,
                tensor.dims(),
                shape
            )
        }
        let var = Var::from_tensor(&tensor.to_dtype(dtype)?.to_device(dev)?)?;
        let tensor = var.as_tensor().clone();
        vars.insert(name.to_string(), var);
        Ok(tensor)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        match self.take(name)? {
            Some(tensor) => tensor.to_dtype(dtype)?.to_device(dev),
            None => candle_core::bail!("{}: missing tensor {name}", self.origin),
        }
    }

    fn contains_tensor(&self, name: &str) -> bool {
        match &self.source {
            TensorSource::Safetensors(st) => st.get(name).is_ok(),
            TensorSource::Tensors(map) => map.lock().is_ok_and(|m| m.contains_key(name)),
        }
    }
}

/// Writes `model.safetensors` (Hugging Face keys, `dtype` = f32, bf16 or f16) and `config.json`
/// into `dir`, each through a temporary file renamed into place.
pub fn save_hf(varmap: &VarMap, config: &Config, dir: &Path, dtype: DType) -> Result<()> {
    let tensors = {
        let vars = varmap.data().lock().map_err(|_| poisoned())?;
        vars.iter().map(|(name, var)| (name.clone(), var.as_tensor().detach())).collect()
    };
    save_hf_tensors(tensors, config, dir, dtype)
}

/// As `save_hf`, from named tensors (Hugging Face keys).
pub fn save_hf_tensors(tensors: HashMap<String, Tensor>, config: &Config, dir: &Path, dtype: DType) -> Result<()> {
    let torch_dtype = match dtype {
        DType::F32 => "float32",
        DType::BF16 => "bfloat16",
        DType::F16 => "float16",
        other => bail!("cannot save weights as {other:?}; use f32, bf16 or f16"),
    };
    fs::create_dir_all(dir).with_context(|| format!("failed to create directory {}", dir.display()))?;
    let mut converted = HashMap::new();
    for (name, tensor) in tensors {
        converted.insert(name, tensor.to_dtype(dtype)?.to_device(&Device::Cpu)?);
    }
    let tensors = converted;
    let weights_path = dir.join("model.safetensors");
    let temp_path = dir.join(format!(".model.safetensors.tmp{}", std::process::id()));
    candle_core::safetensors::save(&tensors, &temp_path)
        .with_context(|| format!("failed to write {}", temp_path.display()))?;
    fs::rename(&temp_path, &weights_path)
        .with_context(|| format!("failed to move weights into {}", weights_path.display()))?;
    let config_path = dir.join("config.json");
    let mut file = AtomicFile::create(&config_path)?;
    let text = serde_json::to_string_pretty(&hf_config_json(config, torch_dtype)?)?;
    file.write_all(text.as_bytes()).with_context(|| format!("failed to write {}", config_path.display()))?;
    file.commit()
}

/// `config.json` as transformers expects it: our fields plus `architectures` and `torch_dtype`.
fn hf_config_json(config: &Config, torch_dtype: &str) -> Result<serde_json::Value> {
    let mut json = serde_json::to_value(config)?;
    let architecture = if config.model_type == "qwen2" { "Qwen2ForCausalLM" } else { "LlamaForCausalLM" };
    if let Some(object) = json.as_object_mut() {
        object.insert("architectures".to_string(), serde_json::json!([architecture]));
        object.insert("torch_dtype".to_string(), serde_json::json!(torch_dtype));
        object.insert("num_key_value_heads".to_string(), serde_json::json!(config.num_kv_heads()));
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_name(gguf: &str, want: Option<&str>) {
        assert_eq!(hf_name(gguf).as_deref(), want, "hf_name({gguf:?})");
    }

    #[test]
    fn gguf_names_map_to_hf_keys() {
        check_name("token_embd.weight", Some("model.embed_tokens.weight"));
        check_name("output_norm.weight", Some("model.norm.weight"));
        check_name("output.weight", Some("lm_head.weight"));
        check_name("blk.0.attn_q.weight", Some("model.layers.0.self_attn.q_proj.weight"));
        check_name("blk.12.attn_k.bias", Some("model.layers.12.self_attn.k_proj.bias"));
        check_name("blk.3.attn_output.weight", Some("model.layers.3.self_attn.o_proj.weight"));
        check_name("blk.3.ffn_down.weight", Some("model.layers.3.mlp.down_proj.weight"));
        check_name("blk.3.attn_norm.weight", Some("model.layers.3.input_layernorm.weight"));
        check_name("blk.3.ffn_norm.weight", Some("model.layers.3.post_attention_layernorm.weight"));
        check_name("rope_freqs.weight", None);
        check_name("blk.x.attn_q.weight", None);
        check_name("blk.0.attn_q.scale", None);
    }

    #[test]
    fn unpermute_inverts_llama_cpp_permute() {
        // llama.cpp: w.reshape(n_head, 2, rows/n_head/2, in).swapaxes(1, 2).reshape(w.shape)
        let (n_head, rows, cols) = (2, 8, 3);
        let w = Tensor::arange(0f32, (rows * cols) as f32, &Device::Cpu).unwrap().reshape((rows, cols)).unwrap();
        let permuted =
            w.reshape((n_head, 2, rows / n_head / 2, cols)).unwrap().transpose(1, 2).unwrap().reshape((rows, cols));
        let back = unpermute_rows(&permuted.unwrap(), n_head).unwrap();
        assert_eq!(back.to_vec2::<f32>().unwrap(), w.to_vec2::<f32>().unwrap());
        let bias = Tensor::arange(0f32, rows as f32, &Device::Cpu).unwrap();
        let permuted = bias.reshape((n_head, 2, rows / n_head / 2)).unwrap().transpose(1, 2).unwrap().flatten_all();
        assert_eq!(
            unpermute_rows(&permuted.unwrap(), n_head).unwrap().to_vec1::<f32>().unwrap(),
            bias.to_vec1::<f32>().unwrap()
        );
        assert!(unpermute_rows(&w, 3).is_err());
    }
}
