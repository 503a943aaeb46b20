//! candle's single-kernel softmax, RMSNorm and RoPE on the training path, each given the
//! backward that candle-nn leaves out.
//!
//! candle-nn runs these three as one kernel each, on a CPU and on CUDA, but records no
//! backward (`apply_op*_no_bwd`). Spelled out in primitive ops instead, every one of them is a
//! chain of full passes over its tensor, both ways: for the attention softmax that is six passes
//! over `[b, heads, L, L]` forward and more backward. Here the fused kernel computes the value,
//! and a custom op whose forward only copies that value records the input and the backward
//! below. The copy is one pass; the backward is written with candle ops, so it runs wherever
//! candle runs, and it needs no kernel of our own.
//!
//! Gradients are computed in f32 or wider, whatever the activations' dtype.

use candle_core::backend::BackendStorage;
use candle_core::{bail, CpuStorage, CustomOp2, CustomOp3, DType, Layout, Result, Shape, Tensor, D};

/// `softmax(xs)` over the last dimension, differentiable.
pub(super) fn softmax_last_dim(xs: &Tensor) -> Result<Tensor> {
    let xs = xs.contiguous()?;
    let value = candle_nn::ops::softmax_last_dim(&xs)?;
    xs.apply_op2(&value, Attached::Softmax)
}

/// RMSNorm over the last dimension with the per-channel `weight`, differentiable in both; the
/// statistics are taken in f32 or wider whatever the dtype. candle's kernel has no f64 variant:
/// f64 (tests, finite differences) takes the spelled-out form.
pub(super) fn rms_norm(xs: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    if xs.dtype() == DType::F64 {
        let mean_square = xs.sqr()?.mean_keepdim(D::Minus1)?;
        return xs.broadcast_div(&(mean_square + eps)?.sqrt()?)?.broadcast_mul(weight);
    }
    let xs = xs.contiguous()?;
    let value = candle_nn::ops::rms_norm(&xs, weight, eps as f32)?;
    xs.apply_op3(weight, &value, RmsNormGrad { eps })
}

/// The HF half-split rotation of `xs` (`[b, heads, t, head_dim]`) by the angles whose cosines
/// and sines are `cos` and `sin` (`[b, t, head_dim / 2]`), differentiable in `xs`.
pub(super) fn rope(xs: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let xs = xs.contiguous()?;
    let value = candle_nn::rotary_emb::rope(&xs, cos, sin)?;
    xs.apply_op2(&value, Attached::Rope { cos: cos.clone(), sin: sin.clone() })
}

/// The value a fused kernel computed, as a new tensor: a plain copy of its storage.
fn copy_of<S: BackendStorage>(storage: &S, layout: &Layout) -> Result<(S, Shape)> {
    // A fresh kernel output: contiguous from the start of its own buffer, so that the copy's
    // layout is the plain one for its shape.
    if layout.contiguous_offsets() != Some((0, layout.shape().elem_count())) {
        bail!("a fused value must be a fresh contiguous tensor")
    }
    Ok((storage.try_clone(layout)?, layout.shape().clone()))
}

/// Ops of one differentiable input (`arg1`) whose value (`arg2`) a fused kernel computed.
enum Attached {
    Softmax,
    /// The rotation's tables, to rotate the gradient back.
    Rope {
        cos: Tensor,
        sin: Tensor,
    },
}

impl CustomOp2 for Attached {
    fn name(&self) -> &'static str {
        match self {
            Attached::Softmax => "softmax-with-backward",
            Attached::Rope { .. } => "rope-with-backward",
        }
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout, value: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        copy_of(value, layout)
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        _: &candle_core::CudaStorage,
        _: &Layout,
        value: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        copy_of(value, layout)
    }

    fn bwd(&self, xs: &Tensor, _: &Tensor, res: &Tensor, grad: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let grad_xs = match self {
            // d xs = y * (g - sum(g * y)) along the last dimension.
            Attached::Softmax => {
                let (y, g) = (wide(res)?, wide(grad)?);
                let dot = (&g * &y)?.sum_keepdim(D::Minus1)?;
                (y * g.broadcast_sub(&dot)?)?.to_dtype(xs.dtype())?
            }
            // A rotation's transpose is the rotation by the opposite angles.
            Attached::Rope { cos, sin } => candle_nn::rotary_emb::rope(&grad.contiguous()?, cos, &sin.neg()?)?,
        };
        Ok((Some(grad_xs), None))
    }
}

/// RMSNorm's backward: inputs `xs` and `weight`, the fused value third.
struct RmsNormGrad {
    eps: f64,
}

impl CustomOp3 for RmsNormGrad {
    fn name(&self) -> &'static str {
        "rms-norm-with-backward"
    }

    fn cpu_fwd(
        &self,
        _: &CpuStorage,
        _: &Layout,
        _: &CpuStorage,
        _: &Layout,
        value: &CpuStorage,
        layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        copy_of(value, layout)
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        _: &candle_core::CudaStorage,
        _: &Layout,
        _: &candle_core::CudaStorage,
        _: &Layout,
        value: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        copy_of(value, layout)
    }

    /// With `r = 1 / sqrt(mean(x²) + eps)`, `n = x r` and `y = n w`:
    /// `d x = r (g w - n mean(g w n))` per row, and `d w = Σ_rows g n`.
    fn bwd(
        &self,
        xs: &Tensor,
        weight: &Tensor,
        _: &Tensor,
        _: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (x, g, w) = (wide(xs)?, wide(grad)?, wide(weight)?);
        let r = (x.sqr()?.mean_keepdim(D::Minus1)? + self.eps)?.sqrt()?.recip()?;
        let n = x.broadcast_mul(&r)?;
        let gw = g.broadcast_mul(&w)?;
        let along = (&gw * &n)?.mean_keepdim(D::Minus1)?;
        let grad_xs = (gw - n.broadcast_mul(&along)?)?.broadcast_mul(&r)?;
        let channels = w.elem_count();
        let grad_weight = (g * n)?.reshape(((), channels))?.sum(0)?.reshape(weight.shape())?;
        Ok((Some(grad_xs.to_dtype(xs.dtype())?), Some(grad_weight.to_dtype(weight.dtype())?), None))
    }
}

/// `xs` in f32 when it is a half float, else as it is.
fn wide(xs: &Tensor) -> Result<Tensor> {
    match xs.dtype() {
        DType::F16 | DType::BF16 => xs.to_dtype(DType::F32),
        _ => Ok(xs.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// The spelled-out forms the fused ops replace; candle differentiates these itself.
    fn rms_norm_reference(xs: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
        let wide = xs.to_dtype(DType::F64)?;
        let mean_square = wide.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = wide.broadcast_div(&(mean_square + eps)?.sqrt()?)?.to_dtype(xs.dtype())?;
        normed.broadcast_mul(weight)
    }

    fn rope_reference(xs: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let (cos, sin) = (cos.unsqueeze(1)?, sin.unsqueeze(1)?);
        let half = xs.dim(D::Minus1)? / 2;
        let (x1, x2) = (xs.narrow(D::Minus1, 0, half)?, xs.narrow(D::Minus1, half, half)?);
        let first = (x1.broadcast_mul(&cos)? - x2.broadcast_mul(&sin)?)?;
        let second = (x2.broadcast_mul(&cos)? + x1.broadcast_mul(&sin)?)?;
        Tensor::cat(&[first, second], D::Minus1)
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        let diff = (a.to_dtype(DType::F64).unwrap() - b.to_dtype(DType::F64).unwrap()).unwrap();
        diff.abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f64>().unwrap()
    }

    /// Value and gradients of `fused` and `reference` on the same inputs, under the same
    /// arbitrary upstream gradient (a weighted sum of the outputs).
    fn compare(
        inputs: &[Tensor],
        fused: impl Fn(&[Tensor]) -> Result<Tensor>,
        reference: impl Fn(&[Tensor]) -> Result<Tensor>,
    ) -> (f64, Vec<f64>) {
        let vars: Vec<Var> = inputs.iter().map(|t| Var::from_tensor(t).unwrap()).collect();
        let tensors: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let (a, b) = (fused(&tensors).unwrap(), reference(&tensors).unwrap());
        let weights = Tensor::randn(0f32, 1.0, a.shape(), a.device()).unwrap().to_dtype(a.dtype()).unwrap();
        let grads_a = (&a * &weights).unwrap().sum_all().unwrap().backward().unwrap();
        let grads_b = (&b * &weights).unwrap().sum_all().unwrap().backward().unwrap();
        let grad_diffs = tensors.iter().map(|t| max_diff(grads_a.get(t).unwrap(), grads_b.get(t).unwrap())).collect();
        (max_diff(&a, &b), grad_diffs)
    }

    #[test]
    fn fused_softmax_matches_the_spelled_out_one_with_gradients() {
        let dev = Device::Cpu;
        let xs = (Tensor::randn(0f32, 3.0, (2, 3, 5, 17), &dev).unwrap()).to_dtype(DType::F64).unwrap();
        let (value, grads) = compare(&[xs], |t| softmax_last_dim(&t[0]), |t| candle_nn::ops::softmax(&t[0], D::Minus1));
        assert!(value < 1e-12 && grads[0] < 1e-12, "{value} {grads:?}");
    }

    #[test]
    fn fused_rms_norm_matches_the_spelled_out_one_with_gradients() {
        let dev = Device::Cpu;
        let xs = Tensor::randn(0f32, 2.0, (2, 7, 24), &dev).unwrap();
        let weight = Tensor::randn(1f32, 0.5, 24, &dev).unwrap();
        let (value, grads) =
            compare(&[xs, weight], |t| rms_norm(&t[0], &t[1], 1e-5), |t| rms_norm_reference(&t[0], &t[1], 1e-5));
        assert!(value < 1e-5 && grads.iter().all(|&g| g < 1e-4), "{value} {grads:?}");
    }

    #[test]
    fn fused_rope_matches_the_spelled_out_one_with_gradients() {
        let dev = Device::Cpu;
        let xs = Tensor::randn(0f64, 1.0, (2, 3, 6, 8), &dev).unwrap();
        let angles = Tensor::randn(0f64, 2.0, (2, 6, 4), &dev).unwrap();
        let (cos, sin) = (angles.cos().unwrap(), angles.sin().unwrap());
        let (value, grads) = compare(&[xs], |t| rope(&t[0], &cos, &sin), |t| rope_reference(&t[0], &cos, &sin));
        assert!(value < 1e-12 && grads[0] < 1e-12, "{value} {grads:?}");
    }

    #[test]
    fn half_float_gradients_are_computed_wide_and_come_back_in_the_input_dtype() {
        let dev = Device::Cpu;
        let xs = Tensor::randn(0f32, 2.0, (3, 16), &dev).unwrap().to_dtype(DType::BF16).unwrap();
        let weight = Tensor::randn(1f32, 0.5, 16, &dev).unwrap().to_dtype(DType::BF16).unwrap();
        let wide_inputs = [xs.to_dtype(DType::F32).unwrap(), weight.to_dtype(DType::F32).unwrap()];
        let (value, grads) =
            compare(&[xs, weight], |t| rms_norm(&t[0], &t[1], 1e-5), |t| rms_norm_reference(&t[0], &t[1], 1e-5));
        let (_, wide_grads) =
            compare(&wide_inputs, |t| rms_norm(&t[0], &t[1], 1e-5), |t| rms_norm_reference(&t[0], &t[1], 1e-5));
        // bf16 keeps 8 bits: values and gradients of order 1 agree to a few units of 1/128.
        assert!(value < 0.05 && grads.iter().all(|&g| g < 0.1), "{value} {grads:?}");
        assert!(wide_grads.iter().all(|&g| g < 1e-4), "{wide_grads:?}");
    }

    #[test]
    fn a_strided_value_is_refused_rather_than_copied_wrong() {
        let dev = Device::Cpu;
        let xs = Tensor::randn(0f32, 1.0, (4, 6), &dev).unwrap();
        let strided = xs.t().unwrap();
        let error = xs.t().unwrap().contiguous().unwrap().apply_op2(&strided, Attached::Softmax).unwrap_err();
        assert!(error.to_string().contains("fresh contiguous"), "{error}");
    }
}
