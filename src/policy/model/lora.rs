//! Low-rank adapters (LoRA): a projection `y = x·Wᵀ (+ b)` becomes `y + (α/r)·(x·Aᵀ)·Bᵀ` with
//! trainable `A [r, in]` (Kaiming-uniform, as PEFT initialises it) and `B [out, r]` (zeros, so an
//! adapted model starts identical to its base). The base weights are plain tensors, not
//! variables, so back-propagation computes no gradient for them. `merged` folds the adapters back
//! into Hugging Face weights for export. A projection may also hold a copy of its base weight
//! for sampling: int8 on a CPU (`q8`), or already cast to the activations' dtype (bf16 on a GPU).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{Init, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::q8::Q8Matrix;

/// Which projections get adapters, and their shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoraConfig {
    /// 0 = no adapters: every weight is trained.
    pub rank: usize,
    pub alpha: f64,
    /// Projection names (`q_proj`, `k_proj`, `v_proj`, `o_proj`, `gate_proj`, `up_proj`, `down_proj`).
    pub targets: Vec<String>,
}

impl Default for LoraConfig {
    fn default() -> Self {
        LoraConfig { rank: 0, alpha: 16.0, targets: ["q_proj", "v_proj"].map(String::from).to_vec() }
    }
}

pub const PROJECTIONS: [&str; 7] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

struct Adapter {
    a: Tensor,
    b: Tensor,
    scale: f64,
}

/// A copy of a base weight that sampling reads in place of the weight itself.
enum SamplingCopy {
    /// int8 blocks, for f32 activations on a CPU (`Model::set_quantized_sampling`).
    Int8(Q8Matrix),
    /// The weight and bias in the activations' dtype, made at the first sampling step that
    /// needs it, so that half-float sampling does not cast every weight at every step.
    Cast(Linear),
}

/// A linear projection, optionally with a low-rank adapter. `name` is its Hugging Face key
/// prefix (`model.layers.3.self_attn.q_proj`).
pub struct Projection {
    pub(super) base: Linear,
    name: String,
    adapter: Option<Adapter>,
    sampling: RwLock<Option<Arc<SamplingCopy>>>,
}

fn poisoned<T>(_: T) -> candle_core::Error {
    candle_core::Error::Msg("a sampling weight lock is poisoned".into())
}

impl Projection {
    pub(super) fn new(base: Linear, name: String) -> Projection {
        Projection { base, name, adapter: None, sampling: RwLock::new(None) }
    }

    /// Makes the int8 copy of the base weight with `on` (CPU weights whose width is a multiple
    /// of 32), and drops any other copy: the weights may have changed.
    pub(super) fn refresh_sampling_copy(&self, on: bool) -> Result<()> {
        let weight = self.base.weight();
        let copy = match on && weight.device().is_cpu() && weight.dim(1)?.is_multiple_of(32) {
            true => Some(Arc::new(SamplingCopy::Int8(Q8Matrix::quantize(weight)?))),
            false => None,
        };
        *self.sampling.write().map_err(poisoned)? = copy;
        Ok(())
    }

    /// The copy `forward_sampling` reads for `xs`, if any: the int8 one for small f32 CPU
    /// inputs, or the weight cast to `xs`'s dtype (made now when missing).
    fn sampling_copy(&self, xs: &Tensor) -> Result<Option<Arc<SamplingCopy>>> {
        let current = self.sampling.read().map_err(poisoned)?.clone();
        match current.as_deref() {
            Some(SamplingCopy::Int8(_)) => {
                let rows = xs.elem_count() / xs.dim(candle_core::D::Minus1)?.max(1);
                let usable = xs.dtype() == DType::F32 && xs.device().is_cpu() && rows <= Q8Matrix::MAX_ROWS;
                return Ok(current.filter(|_| usable));
            }
            Some(SamplingCopy::Cast(cast)) if cast.weight().dtype() == xs.dtype() => return Ok(current),
            _ => {}
        }
        let dtype = xs.dtype();
        if self.base.weight().dtype() == dtype {
            return Ok(None);
        }
        let bias = self.base.bias().map(|b| Ok::<_, candle_core::Error>(b.to_dtype(dtype)?.detach())).transpose()?;
        let cast = Arc::new(SamplingCopy::Cast(Linear::new(self.base.weight().to_dtype(dtype)?.detach(), bias)));
        *self.sampling.write().map_err(poisoned)? = Some(cast.clone());
        Ok(Some(cast))
    }

    /// As `forward`, through the sampling copy of the base weight when there is one for `xs`:
    /// for sampling only, it has no backward.
    pub(super) fn forward_sampling(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = match self.sampling_copy(xs)?.as_deref() {
            Some(SamplingCopy::Int8(q8)) => {
                let ys = q8.forward(xs)?;
                match self.base.bias() {
                    Some(bias) => ys.broadcast_add(bias)?,
                    None => ys,
                }
            }
            Some(SamplingCopy::Cast(cast)) => cast.forward(xs)?,
            None => return self.forward(xs),
        };
        self.add_adapter(xs, ys)
    }

    fn add_adapter(&self, xs: &Tensor, ys: Tensor) -> Result<Tensor> {
        let Some(adapter) = &self.adapter else { return Ok(ys) };
        let dtype = xs.dtype();
        let (a, b) = (adapter.a.to_dtype(dtype)?, adapter.b.to_dtype(dtype)?);
        let low = xs.broadcast_matmul(&a.t()?)?.broadcast_matmul(&b.t()?)?;
        ys + (low * adapter.scale)?
    }

    /// The projection's short name (`q_proj`).
    pub(super) fn kind(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// Adds an adapter whose variables live in `vb` under `<name>.lora_A.weight` / `lora_B`.
    pub(super) fn adapt(&mut self, cfg: &LoraConfig, vb: &VarBuilder) -> Result<()> {
        let (out_dim, in_dim) = self.base.weight().dims2()?;
        let vb = vb.pp(&self.name);
        let a = vb.get_with_hints((cfg.rank, in_dim), "lora_A.weight", candle_nn::init::DEFAULT_KAIMING_UNIFORM)?;
        let b = vb.get_with_hints((out_dim, cfg.rank), "lora_B.weight", Init::Const(0.0))?;
        self.adapter = Some(Adapter { a, b, scale: cfg.alpha / cfg.rank as f64 });
        Ok(())
    }

    /// `W + (α/r)·B·A` under the Hugging Face weight key, when adapted.
    pub(super) fn merged(&self, out: &mut HashMap<String, Tensor>) -> Result<()> {
        if let Some(adapter) = &self.adapter {
            let delta = (adapter.b.matmul(&adapter.a)? * adapter.scale)?;
            let merged = (self.base.weight() + delta.to_dtype(self.base.weight().dtype())?)?;
            out.insert(format!("{}.weight", self.name), merged.detach());
        }
        Ok(())
    }
}

/// Weights are cast to the input's dtype (a no-op unless the model computes in half floats).
impl Module for Projection {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let dtype = xs.dtype();
        let ys = if self.base.weight().dtype() == dtype {
            self.base.forward(xs)?
        } else {
            let bias = self.base.bias().map(|b| b.to_dtype(dtype)).transpose()?;
            Linear::new(self.base.weight().to_dtype(dtype)?, bias).forward(xs)?
        };
        self.add_adapter(xs, ys)
    }
}
