//! The Llama / Qwen2 decoder family (SmolLM2, Llama 2/3 without rope scaling, Qwen2/2.5),
//! written to be trained: every weight comes from the `VarBuilder` (a `VarMap` in practice, so
//! `varmap.all_vars()` are the parameters) and every op on the forward path has a backward.
//! RoPE (HF half-split layout), the attention softmax and RMSNorm run as candle-nn's single
//! kernels; on the training path `fused` gives them the backward candle-nn leaves out.
//!
//! [`Model::forward`] returns logits for every position of a batch; an optional 0/1 attention
//! mask `[b, t]` marks padding, left or right, and each sequence's positions count only its real
//! tokens, so a padded row gets the same logits as the sequence alone. [`Model::forward_cached`]
//! is the incremental form for sampling: same weights, a [`Cache`] of past keys and values.
//!
//! Mixed precision: the weights keep the `VarBuilder` dtype (f32 master weights when training)
//! and [`Model::set_compute_dtype`] picks the dtype of the activations (bf16 on a GPU). On the
//! training path each weight is cast where it is used, so gradients flow back through the cast
//! to the f32 weights; sampling reads copies cast once per weight change.
//! RMSNorm statistics and the attention softmax run in at least f32 whatever the compute dtype;
//! logits of half-float activations come back as f32.
//!
//! Deliberately absent: rope scaling (Llama 3.1 `rope_scaling`), sliding-window attention,
//! MLP biases, and anything about prompts, tokens or training.

use candle_core::{bail, DType, Device, Module, Result, Tensor};
use candle_nn::{Embedding, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

mod adapt;
mod cache;
mod fused;
mod masks;
mod recompute;

pub use cache::Cache;
use masks::{attention_bias, host_mask, token_positions};

use super::lora::Projection;

/// A projection named by its Hugging Face key prefix, for adapters and merged export.
fn projection(base: Linear, vb: &VarBuilder, name: &str) -> Projection {
    Projection::new(base, format!("{}.{name}", vb.prefix()))
}

/// A projection on the training path, or on the sampling path (int8 weights when enabled).
fn apply(proj: &Projection, xs: &Tensor, sampling: bool) -> Result<Tensor> {
    if sampling {
        proj.forward_sampling(xs)
    } else {
        proj.forward(xs)
    }
}

/// The fields of a Hugging Face `config.json` this family needs; unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    /// Absent in old Llama configs, which means one key/value head per query head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_key_value_heads: Option<usize>,
    /// Absent in most configs, which means `hidden_size / num_attention_heads`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<usize>,
    pub rms_norm_eps: f64,
    #[serde(default = "default_rope_theta")]
    pub rope_theta: f64,
    #[serde(default = "default_max_position_embeddings")]
    pub max_position_embeddings: usize,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    /// Llama's switch for biases on q/k/v/o; Qwen2 has q/k/v biases without saying so.
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default = "default_model_type")]
    pub model_type: String,
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    /// Kept only to refuse checkpoints that need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_scaling: Option<serde_json::Value>,
}

fn default_rope_theta() -> f64 {
    10_000.0
}

fn default_max_position_embeddings() -> usize {
    2048
}

fn default_model_type() -> String {
    "llama".to_string()
}

fn default_hidden_act() -> String {
    "silu".to_string()
}

impl Config {
    pub fn num_kv_heads(&self) -> usize {
        self.num_key_value_heads.unwrap_or(self.num_attention_heads)
    }

    pub fn head_dim(&self) -> usize {
        self.head_dim.unwrap_or(self.hidden_size / self.num_attention_heads.max(1))
    }

    fn is_qwen2(&self) -> bool {
        self.model_type == "qwen2"
    }

    fn qkv_bias(&self) -> bool {
        self.attention_bias || self.is_qwen2()
    }

    fn o_bias(&self) -> bool {
        self.attention_bias && !self.is_qwen2()
    }

    /// Refuses what this file does not implement rather than computing something else.
    pub fn validate(&self) -> Result<()> {
        if !matches!(self.model_type.as_str(), "llama" | "qwen2") {
            bail!("model_type {:?} is not supported (llama or qwen2)", self.model_type)
        }
        if self.hidden_act != "silu" {
            bail!("hidden_act {:?} is not supported (silu)", self.hidden_act)
        }
        if self.rope_scaling.as_ref().is_some_and(|v| !v.is_null()) {
            bail!("rope_scaling is not supported")
        }
        let (heads, kv_heads) = (self.num_attention_heads, self.num_kv_heads());
        if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 {
            bail!("num_attention_heads {heads} must be a positive multiple of num_key_value_heads {kv_heads}")
        }
        if self.head_dim() == 0 || !self.head_dim().is_multiple_of(2) {
            bail!("head_dim {} must be positive and even for rotary embeddings", self.head_dim())
        }
        Ok(())
    }
}

/// RMSNorm; the statistics are taken in f32 whatever the activations' dtype.
struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn new(size: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        let weight = vb.get_with_hints(size, "weight", candle_nn::Init::Const(1.0))?;
        Ok(Self { weight, eps })
    }

    /// `sampling` (no backward needed) skips recording the backward.
    fn forward(&self, xs: &Tensor, sampling: bool) -> Result<Tensor> {
        let weight = self.weight.to_dtype(xs.dtype())?;
        if sampling {
            return candle_nn::ops::rms_norm(&xs.contiguous()?, &weight, self.eps as f32);
        }
        fused::rms_norm(xs, &weight, self.eps)
    }
}

/// Cos/sin tables `[max_position_embeddings, head_dim / 2]` for the HF half-split rotation.
struct Rotary {
    cos: Tensor,
    sin: Tensor,
}

impl Rotary {
    fn new(cfg: &Config, dtype: DType, dev: &Device) -> Result<Self> {
        let half = cfg.head_dim() / 2;
        let inv_freq: Vec<f64> =
            (0..half).map(|i| 1.0 / cfg.rope_theta.powf(2.0 * i as f64 / cfg.head_dim() as f64)).collect();
        let positions = cfg.max_position_embeddings;
        let angles: Vec<f64> = (0..positions).flat_map(|p| inv_freq.iter().map(move |f| p as f64 * f)).collect();
        let angles = Tensor::from_vec(angles, (positions, half), dev)?;
        Ok(Self { cos: angles.cos()?.to_dtype(dtype)?, sin: angles.sin()?.to_dtype(dtype)? })
    }

    /// Tables at `positions` (`b * t` of them, row-major), shaped `[b, t, head_dim / 2]`, in
    /// `dtype`.
    fn at(&self, positions: &[u32], b: usize, t: usize, dtype: DType) -> Result<(Tensor, Tensor)> {
        let limit = self.cos.dim(0)?;
        if let Some(p) = positions.iter().find(|&&p| p as usize >= limit) {
            bail!("position {p} is beyond max_position_embeddings {limit}")
        }
        let index = Tensor::from_slice(positions, positions.len(), self.cos.device())?;
        let half = self.cos.dim(1)?;
        let cos = self.cos.index_select(&index, 0)?.reshape((b, t, half))?.to_dtype(dtype)?;
        let sin = self.sin.index_select(&index, 0)?.reshape((b, t, half))?.to_dtype(dtype)?;
        Ok((cos, sin))
    }
}

/// `x * cos + rotate_half(x) * sin` on `[b, heads, t, head_dim]`, as in HF `apply_rotary_pos_emb`.
fn apply_rope(xs: &Tensor, pos: &Positions) -> Result<Tensor> {
    if pos.sampling {
        return candle_nn::rotary_emb::rope(&xs.contiguous()?, &pos.cos, &pos.sin);
    }
    fused::rope(xs, &pos.cos, &pos.sin)
}

/// What every layer needs for one call: rope tables at each token's position (`[b, t, half]`,
/// compute dtype), the additive attention bias `[b, 1, t, past + t]` (f32), and whether the call
/// is the cached sampling path, which never back-propagates.
struct Positions {
    cos: Tensor,
    sin: Tensor,
    bias: Tensor,
    sampling: bool,
}

struct Attention {
    q_proj: Projection,
    k_proj: Projection,
    v_proj: Projection,
    o_proj: Projection,
    n_heads: usize,
    n_kv_heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let (hidden, head_dim) = (cfg.hidden_size, cfg.head_dim());
        let (n_heads, n_kv_heads) = (cfg.num_attention_heads, cfg.num_kv_heads());
        let qkv_bias = cfg.qkv_bias();
        Ok(Self {
            q_proj: projection(
                candle_nn::linear_b(hidden, n_heads * head_dim, qkv_bias, vb.pp("q_proj"))?,
                &vb,
                "q_proj",
            ),
            k_proj: projection(
                candle_nn::linear_b(hidden, n_kv_heads * head_dim, qkv_bias, vb.pp("k_proj"))?,
                &vb,
                "k_proj",
            ),
            v_proj: projection(
                candle_nn::linear_b(hidden, n_kv_heads * head_dim, qkv_bias, vb.pp("v_proj"))?,
                &vb,
                "v_proj",
            ),
            o_proj: projection(
                candle_nn::linear_b(n_heads * head_dim, hidden, cfg.o_bias(), vb.pp("o_proj"))?,
                &vb,
                "o_proj",
            ),
            n_heads,
            n_kv_heads,
            head_dim,
        })
    }

    /// `[b, t, hidden]` → `[b, heads, t, head_dim]`.
    fn project(&self, proj: &Projection, xs: &Tensor, heads: usize, sampling: bool) -> Result<Tensor> {
        let (b, t, _) = xs.dims3()?;
        apply(proj, xs, sampling)?.reshape((b, t, heads, self.head_dim))?.transpose(1, 2)
    }

    fn forward(&self, xs: &Tensor, pos: &Positions, cache: Option<&mut Option<(Tensor, Tensor)>>) -> Result<Tensor> {
        let (b, t, _) = xs.dims3()?;
        let q = apply_rope(&self.project(&self.q_proj, xs, self.n_heads, pos.sampling)?, pos)?;
        let k = apply_rope(&self.project(&self.k_proj, xs, self.n_kv_heads, pos.sampling)?, pos)?;
        let v = self.project(&self.v_proj, xs, self.n_kv_heads, pos.sampling)?;
        let (k, v) = match cache {
            None => (k, v),
            Some(slot) => {
                let (k, v) = match slot.take() {
                    None => (k, v),
                    Some((past_k, past_v)) => (Tensor::cat(&[&past_k, &k], 2)?, Tensor::cat(&[&past_v, &v], 2)?),
                };
                *slot = Some((k.detach(), v.detach()));
                (k, v)
            }
        };
        // Grouped-query attention without copying keys and values per query head: query head
        // `kv * n_rep + r` uses kv head `kv`, so the queries are viewed as `[b, kv, n_rep * t, d]`.
        let (n_rep, kv_heads, d, total) = (self.n_heads / self.n_kv_heads, self.n_kv_heads, self.head_dim, k.dim(2)?);
        // The scale goes on the queries, `d / (heads t total)` of the work it takes on the scores.
        let q = (q.contiguous()? * (1.0 / (d as f64).sqrt()))?.reshape((b, kv_heads, n_rep * t, d))?;
        let scores = q.matmul(&k.contiguous()?.t()?)?.reshape((b, kv_heads, n_rep, t, total))?;
        // The softmax runs in f32 or wider (sums lose mass in half floats).
        let wide = if matches!(scores.dtype(), DType::F16 | DType::BF16) { DType::F32 } else { scores.dtype() };
        let bias = pos.bias.to_dtype(wide)?.unsqueeze(1)?;
        let scores = scores.to_dtype(wide)?.broadcast_add(&bias)?;
        let probs =
            if pos.sampling { candle_nn::ops::softmax_last_dim(&scores)? } else { fused::softmax_last_dim(&scores)? };
        let probs = probs.to_dtype(v.dtype())?.reshape((b, kv_heads, n_rep * t, total))?;
        let out = probs.matmul(&v.contiguous()?)?.reshape((b, self.n_heads, t, d))?;
        apply(&self.o_proj, &out.transpose(1, 2)?.reshape((b, t, self.n_heads * d))?, pos.sampling)
    }
}

/// SwiGLU: `down(silu(gate(x)) * up(x))`.
struct Mlp {
    gate_proj: Projection,
    up_proj: Projection,
    down_proj: Projection,
}

impl Mlp {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        let (hidden, inter) = (cfg.hidden_size, cfg.intermediate_size);
        Ok(Self {
            gate_proj: projection(candle_nn::linear_no_bias(hidden, inter, vb.pp("gate_proj"))?, &vb, "gate_proj"),
            up_proj: projection(candle_nn::linear_no_bias(hidden, inter, vb.pp("up_proj"))?, &vb, "up_proj"),
            down_proj: projection(candle_nn::linear_no_bias(inter, hidden, vb.pp("down_proj"))?, &vb, "down_proj"),
        })
    }

    fn forward(&self, xs: &Tensor, sampling: bool) -> Result<Tensor> {
        let gated = (apply(&self.gate_proj, xs, sampling)?.silu()? * apply(&self.up_proj, xs, sampling)?)?;
        apply(&self.down_proj, &gated, sampling)
    }
}

struct DecoderLayer {
    self_attn: Attention,
    mlp: Mlp,
    input_layernorm: RmsNorm,
    post_attention_layernorm: RmsNorm,
}

impl DecoderLayer {
    fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            self_attn: Attention::new(cfg, vb.pp("self_attn"))?,
            mlp: Mlp::new(cfg, vb.pp("mlp"))?,
            input_layernorm: RmsNorm::new(cfg.hidden_size, cfg.rms_norm_eps, vb.pp("input_layernorm"))?,
            post_attention_layernorm: RmsNorm::new(
                cfg.hidden_size,
                cfg.rms_norm_eps,
                vb.pp("post_attention_layernorm"),
            )?,
        })
    }

    fn forward(&self, xs: &Tensor, pos: &Positions, cache: Option<&mut Option<(Tensor, Tensor)>>) -> Result<Tensor> {
        let attended = self.self_attn.forward(&self.input_layernorm.forward(xs, pos.sampling)?, pos, cache)?;
        let xs = (xs + attended)?;
        let mixed = self.mlp.forward(&self.post_attention_layernorm.forward(&xs, pos.sampling)?, pos.sampling)?;
        xs + mixed
    }
}

/// A decoder-only language model: token ids in, next-token logits out.
pub struct Model {
    embed_tokens: Embedding,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    lm_head: Projection,
    rotary: Rotary,
    cfg: Config,
    /// The dtype of activations; weights are cast to it where they are used.
    compute: DType,
    /// Sampling on a CPU reads int8 copies of the projections (`set_quantized_sampling`).
    quantized_sampling: bool,
}

impl Model {
    /// Builds the model from `vb`; tensor names are the Hugging Face checkpoint keys.
    pub fn new(cfg: &Config, vb: VarBuilder) -> Result<Self> {
        cfg.validate()?;
        let embed_tokens = candle_nn::embedding(cfg.vocab_size, cfg.hidden_size, vb.pp("model.embed_tokens"))?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| DecoderLayer::new(cfg, vb.pp("model.layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        let norm = RmsNorm::new(cfg.hidden_size, cfg.rms_norm_eps, vb.pp("model.norm"))?;
        let lm_head = if cfg.tie_word_embeddings {
            Linear::new(embed_tokens.embeddings().clone(), None)
        } else {
            candle_nn::linear_no_bias(cfg.hidden_size, cfg.vocab_size, vb.pp("lm_head"))?
        };
        let lm_head = Projection::new(lm_head, "lm_head".to_string());
        // The tables are built in f32 and cast per call, so that half-float positions stay exact.
        let rotary = Rotary::new(cfg, DType::F32, vb.device())?;
        Ok(Self {
            embed_tokens,
            layers,
            norm,
            lm_head,
            rotary,
            cfg: cfg.clone(),
            compute: vb.dtype(),
            quantized_sampling: false,
        })
    }

    /// Runs activations in `dtype` (bf16 or f16 for mixed precision; the weights' own dtype
    /// by default). The weights, and so what the optimizer updates and saves, are unchanged;
    /// sampling casts each weight to `dtype` once and keeps the copy until
    /// `refresh_sampling_weights`.
    pub fn set_compute_dtype(&mut self, dtype: DType) {
        self.compute = dtype;
    }

    pub fn compute_dtype(&self) -> DType {
        self.compute
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn device(&self) -> &Device {
        self.embed_tokens.embeddings().device()
    }

    /// The dtype of the weights.
    pub fn dtype(&self) -> DType {
        self.embed_tokens.embeddings().dtype()
    }

    /// Token embeddings `[b, t, hidden]` in the compute dtype.
    fn embed(&self, input_ids: &Tensor) -> Result<Tensor> {
        self.embed_tokens.forward(input_ids)?.to_dtype(self.compute)
    }

    /// Final norm and output projection; logits of half-float activations come back as f32.
    fn head(&self, xs: &Tensor, sampling: bool) -> Result<Tensor> {
        let logits = apply(&self.lm_head, &self.norm.forward(xs, sampling)?, sampling)?;
        if matches!(logits.dtype(), DType::F16 | DType::BF16) {
            logits.to_dtype(DType::F32)
        } else {
            Ok(logits)
        }
    }

    /// Logits `[b, t, vocab]` for every position of `input_ids` (`[b, t]`, u32). With an
    /// `attention_mask` (`[b, t]`, 1 = token, 0 = padding, any dtype) padded rows get the same
    /// logits at their real positions as the sequence alone; logits at padding are meaningless.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: Option<&Tensor>) -> Result<Tensor> {
        self.run(input_ids, attention_mask, None, Outputs::Every)
    }

    /// As `forward`, but logits `[n, vocab]` only at `rows` (`[n]`, u32) of the flattened
    /// positions (`s * t + k` is position `k` of sequence `s`). The output projection is the
    /// largest product of a small model; log-probs of completions need it only where a
    /// completion token is predicted, not over the whole prompt.
    pub fn forward_rows(&self, input_ids: &Tensor, attention_mask: Option<&Tensor>, rows: &Tensor) -> Result<Tensor> {
        self.run(input_ids, attention_mask, None, Outputs::Rows(rows))
    }

    /// An empty cache for [`Model::forward_cached`].
    pub fn new_cache(&self) -> Cache {
        Cache { layers: vec![None; self.layers.len()], key_mask: None, next_positions: Vec::new() }
    }

    /// Feeds `input_ids` (`[b, t]`) after what `cache` already holds and returns the logits of
    /// the new positions `[b, t, vocab]`. The mask marks which new tokens are real; a batch must
    /// keep its size across calls. Meant for sampling: the cache is detached from the graph.
    pub fn forward_cached(
        &self,
        input_ids: &Tensor,
        attention_mask: Option<&Tensor>,
        cache: &mut Cache,
    ) -> Result<Tensor> {
        self.run(input_ids, attention_mask, Some(cache), Outputs::Every)
    }

    /// As `forward_cached`, but returns only the last position's logits `[b, vocab]`: what a
    /// sampler needs, without projecting every prompt position onto the vocabulary.
    pub fn forward_cached_last(
        &self,
        input_ids: &Tensor,
        attention_mask: Option<&Tensor>,
        cache: &mut Cache,
    ) -> Result<Tensor> {
        let mut step = || self.run(input_ids, attention_mask, Some(cache), Outputs::Last)?.squeeze(1);
        if !self.device().is_cpu() {
            return step();
        }
        // On a CPU, run the whole step on a worker of the thread pool: the parallel products
        // inside it (`q8`, candle's GEMM) then split their work by stealing, where a call from
        // outside the pool would hand each one to the pool and sleep until it is done (two
        // context switches per product, hundreds of products per token).
        rayon::scope(|_| step())
    }

    fn run(
        &self,
        input_ids: &Tensor,
        attention_mask: Option<&Tensor>,
        mut cache: Option<&mut Cache>,
        outputs: Outputs,
    ) -> Result<Tensor> {
        let (b, t) = input_ids.dims2()?;
        let new_mask = host_mask(attention_mask, b, t)?;
        let (past_len, past_mask, start) = match cache.as_deref() {
            Some(c) if c.past_len() > 0 => (c.past_len(), c.key_mask.clone(), c.next_positions.clone()),
            _ => (0, None, vec![0; b]),
        };
        if start.len() != b {
            bail!("the cache holds a batch of {} sequences, the input has {b}", start.len())
        }
        let (positions, next_positions) = token_positions(&new_mask, &start, t);
        let (cos, sin) = self.rotary.at(&positions, b, t, self.compute)?;
        let new_mask = Tensor::from_vec(new_mask, (b, t), self.device())?;
        let key_mask = match past_mask {
            Some(past) => Tensor::cat(&[&past, &new_mask], 1)?,
            None => new_mask,
        };
        let bias = attention_bias(&key_mask, past_len, t)?;
        // The cached path is for sampling only: it never back-propagates.
        let pos = Positions { cos, sin, bias, sampling: cache.is_some() };
        let mut xs = self.embed(input_ids)?;
        for (i, layer) in self.layers.iter().enumerate() {
            let slot = cache.as_deref_mut().and_then(|c| c.layers.get_mut(i));
            xs = layer.forward(&xs, &pos, slot)?;
            if cache.is_some() {
                // Sampling never back-propagates: without this, the weights being variables
                // would keep every layer's activations alive until the logits are dropped.
                xs = xs.detach();
            }
        }
        if let Some(c) = cache {
            c.key_mask = Some(key_mask);
            c.next_positions = next_positions;
        }
        let xs = match outputs {
            Outputs::Every => xs,
            Outputs::Last => xs.narrow(1, t - 1, 1)?,
            Outputs::Rows(rows) => select_rows(&xs, rows)?,
        };
        self.head(&xs, pos.sampling)
    }
}

/// The positions that get logits.
enum Outputs<'a> {
    Every,
    Last,
    /// Rows of the flattened `[b * t]` positions.
    Rows(&'a Tensor),
}

/// Rows `rows` of `xs` `[b, t, hidden]` seen as `[b * t, hidden]`.
fn select_rows(xs: &Tensor, rows: &Tensor) -> Result<Tensor> {
    let (b, t, hidden) = xs.dims3()?;
    xs.reshape((b * t, hidden))?.contiguous()?.index_select(rows, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qwen2_config_infers_qkv_bias() {
        let text = r#"{"model_type": "qwen2", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
            "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1,
            "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "max_position_embeddings": 32,
            "tie_word_embeddings": true, "sliding_window": 32}"#;
        let cfg: Config = serde_json::from_str(text).unwrap();
        assert!(cfg.qkv_bias() && !cfg.o_bias());
        assert_eq!((cfg.head_dim(), cfg.num_kv_heads()), (4, 1));
        cfg.validate().unwrap();
    }

    #[test]
    fn rope_scaling_is_refused() {
        let text = r#"{"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
            "num_attention_heads": 2, "rms_norm_eps": 1e-6, "rope_scaling": {"rope_type": "llama3"}}"#;
        let cfg: Config = serde_json::from_str(text).unwrap();
        assert!(!cfg.qkv_bias());
        assert!(cfg.validate().unwrap_err().to_string().starts_with("rope_scaling is not supported"));
    }
}
