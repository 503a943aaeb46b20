//! Int8 copies of projection weights for sampling on a CPU. Decoding one token reads every
//! weight once, so on a CPU it is bound by memory bandwidth: f32 weights move 4 bytes per
//! parameter, these move 1 (plus one f32 scale per 32). Each row is cut into blocks of 32
//! values scaled by the block's largest magnitude / 127 (the Q8_0 layout of GGML); activations
//! stay f32 and the weights are widened on the fly, so the only error is the weights' rounding
//! (at most half a step, 1/254 of the block's largest magnitude).
//!
//! Used only where nothing back-propagates (the sampling path); the f32 weights remain the
//! ones that are trained and saved.

use candle_core::{bail, DType, Device, Result, Tensor};
use rayon::prelude::*;

const BLOCK: usize = 32;

/// A `[rows, cols]` matrix in blocks of 32 int8 values along each row, one f32 scale per block.
pub struct Q8Matrix {
    rows: usize,
    cols: usize,
    values: Vec<i8>,
    scales: Vec<f32>,
}

impl Q8Matrix {
    /// Quantizes a `[rows, cols]` weight; `cols` must be a multiple of 32.
    pub fn quantize(weight: &Tensor) -> Result<Q8Matrix> {
        let (rows, cols) = weight.dims2()?;
        if !cols.is_multiple_of(BLOCK) {
            bail!("cannot quantize a [{rows}, {cols}] weight: {cols} is not a multiple of {BLOCK}")
        }
        let data = weight.to_dtype(DType::F32)?.to_device(&Device::Cpu)?.flatten_all()?.to_vec1::<f32>()?;
        let mut values = vec![0i8; data.len()];
        let mut scales = vec![0f32; data.len() / BLOCK];
        values.par_chunks_mut(BLOCK).zip(scales.par_iter_mut()).zip(data.par_chunks(BLOCK)).for_each(
            |((out, scale), block)| {
                let largest = block.iter().fold(0f32, |m, v| m.max(v.abs()));
                *scale = largest / 127.0;
                let inverse = if largest > 0.0 { 127.0 / largest } else { 0.0 };
                for (q, v) in out.iter_mut().zip(block) {
                    *q = (v * inverse).round().clamp(-127.0, 127.0) as i8;
                }
            },
        );
        Ok(Q8Matrix { rows, cols, values, scales })
    }

    /// Input rows from which `Projection::forward_sampling` prefers the f32 matrix product: a
    /// prompt's many rows make the product compute-bound, where a GEMM beats these dot products.
    pub const MAX_ROWS: usize = 64;

    /// `xs · Wᵀ` for f32 `xs` of shape `[..., cols]` on the CPU: `[..., rows]`.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let dims = xs.dims().to_vec();
        if dims.last() != Some(&self.cols) || xs.dtype() != DType::F32 || !xs.device().is_cpu() {
            bail!("Q8 projection of width {} got a {:?} {:?} tensor on {:?}", self.cols, dims, xs.dtype(), xs.device())
        }
        let inputs = xs.flatten_all()?.to_vec1::<f32>()?;
        let n = inputs.len() / self.cols;
        // Chunks of weight rows in parallel; each weight row meets every input row while it is in
        // cache, so the matrix is read from memory once per call whatever the batch, and each of
        // its blocks is widened once per tile of up to 8 input rows.
        // A few chunks per thread keeps both busy even on the narrow K/V projections.
        let chunk = (self.rows / (4 * rayon::current_num_threads())).clamp(8, 64);
        let vector = has_avx2_fma();
        let mut by_weight_row = vec![0f32; self.rows * n];
        by_weight_row.par_chunks_mut(chunk * n).enumerate().for_each(|(c, block)| {
            for (k, ys) in block.chunks_mut(n).enumerate() {
                self.dot_rows(c * chunk + k, &inputs, ys, vector);
            }
        });
        // `[rows, n]` to `[n, rows]`; one input row (decoding at batch 1) is already in order.
        let out = if n == 1 {
            by_weight_row
        } else {
            let mut out = vec![0f32; n * self.rows];
            for (row, ys) in by_weight_row.chunks(n).enumerate() {
                for (i, y) in ys.iter().enumerate() {
                    out[i * self.rows + row] = *y;
                }
            }
            out
        };
        let mut shape = dims;
        *shape.last_mut().expect("checked above") = self.rows;
        Tensor::from_vec(out, shape, &Device::Cpu)
    }

    /// Row `row` of the matrix times each of the `ys.len()` rows of `xs`, into `ys`; with
    /// `vector` (from `has_avx2_fma`), in tiles of 8, 4, 2 and 1 rows, each tile keeping 8
    /// accumulators busy.
    fn dot_rows(&self, row: usize, xs: &[f32], ys: &mut [f32], vector: bool) {
        let values = &self.values[row * self.cols..(row + 1) * self.cols];
        let scales = &self.scales[row * self.cols / BLOCK..(row + 1) * self.cols / BLOCK];
        let mut done = 0;
        while done < ys.len() {
            let (x, y) = (&xs[done * self.cols..], &mut ys[done..]);
            done += match (vector, y.len()) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `vector` says the CPU has AVX2 and FMA; `values` and every input row
                // have `cols` entries, a multiple of 32 (checked in `quantize` and `forward`),
                // and each tile reads `R` whole rows of `x`, which has at least `y.len()`.
                (true, rows) => unsafe {
                    match rows {
                        8.. => dot_tile_avx2::<8, 1>(values, scales, x, y),
                        4..=7 => dot_tile_avx2::<4, 2>(values, scales, x, y),
                        2 | 3 => dot_tile_avx2::<2, 4>(values, scales, x, y),
                        _ => dot_tile_avx2::<1, 4>(values, scales, x, y),
                    }
                },
                _ => {
                    y[0] = dot_scalar(values, scales, &x[..self.cols]);
                    1
                }
            };
        }
    }
}

/// Whether the AVX2 kernel can run here.
fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

fn dot_scalar(values: &[i8], scales: &[f32], x: &[f32]) -> f32 {
    values
        .chunks_exact(BLOCK)
        .zip(x.chunks_exact(BLOCK))
        .zip(scales)
        .map(|((q, x), scale)| scale * q.iter().zip(x).map(|(&q, &x)| f32::from(q) * x).sum::<f32>())
        .sum()
}

/// `R` input rows (consecutive, `values.len()` wide, at the start of `xs`) times one weight
/// row, into `ys[..R]`; returns `R`. Each block of 32 weights is widened to f32 and scaled once, then meets
/// the `R` rows; every row has `P` accumulators (one per `4 / P` of the block's four eighths)
/// so that `R * P` independent FMA chains hide the FMA latency.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_tile_avx2<const R: usize, const P: usize>(
    values: &[i8],
    scales: &[f32],
    xs: &[f32],
    ys: &mut [f32],
) -> usize {
    use std::arch::x86_64::*;
    let cols = values.len();
    let mut sums = [[_mm256_setzero_ps(); P]; R];
    for (block, &scale) in scales.iter().enumerate() {
        let q = values.as_ptr().add(block * BLOCK);
        let scale = _mm256_set1_ps(scale);
        let mut weights = [_mm256_setzero_ps(); BLOCK / 8];
        for (part, w) in weights.iter_mut().enumerate() {
            let eight = _mm_loadl_epi64(q.add(part * 8) as *const __m128i);
            *w = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(eight)), scale);
        }
        for (i, row_sums) in sums.iter_mut().enumerate() {
            let x = xs.as_ptr().add(i * cols + block * BLOCK);
            for (part, w) in weights.iter().enumerate() {
                let sum = &mut row_sums[part % P];
                *sum = _mm256_fmadd_ps(*w, _mm256_loadu_ps(x.add(part * 8)), *sum);
            }
        }
    }
    for (y, row_sums) in ys.iter_mut().zip(&sums) {
        let total = row_sums[1..].iter().fold(row_sums[0], |a, b| _mm256_add_ps(a, *b));
        let halves = _mm_add_ps(_mm256_castps256_ps128(total), _mm256_extractf128_ps(total, 1));
        let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
        *y = _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
    }
    R
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize) -> Tensor {
        let values: Vec<f32> = (0..rows * cols).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 137.0).collect();
        Tensor::from_vec(values, (rows, cols), &Device::Cpu).unwrap()
    }

    #[test]
    fn products_are_within_the_rounding_of_the_weights() {
        let w = matrix(40, 96);
        let x =
            Tensor::from_vec((0..3 * 96).map(|i| (i as f32 * 0.37).sin()).collect(), (3, 96), &Device::Cpu).unwrap();
        let exact = x.matmul(&w.t().unwrap()).unwrap().to_vec2::<f32>().unwrap();
        let q = Q8Matrix::quantize(&w).unwrap();
        let approx = q.forward(&x).unwrap().to_vec2::<f32>().unwrap();
        // Each weight is off by at most half a step (largest / 254) and |x| <= 1, so a product
        // of 96 terms is off by at most 96 * 3.65 / 254 < 1.4.
        for (a, b) in exact.iter().flatten().zip(approx.iter().flatten()) {
            assert!((a - b).abs() < 1.4, "{a} vs {b}");
        }
        let mean_error: f32 =
            exact.iter().flatten().zip(approx.iter().flatten()).map(|(a, b)| (a - b).abs()).sum::<f32>() / 120.0;
        assert!(mean_error < 0.1, "mean error {mean_error}");
    }

    #[test]
    fn the_vector_kernel_matches_the_scalar_one() {
        let q = Q8Matrix::quantize(&matrix(4, 64)).unwrap();
        // 15 input rows: one tile each of 8, 4, 2 and 1.
        let xs: Vec<f32> = (0..15 * 64).map(|i| (i as f32 * 0.11).cos()).collect();
        for row in 0..4 {
            let values = &q.values[row * 64..(row + 1) * 64];
            let mut ys = vec![0f32; 15];
            q.dot_rows(row, &xs, &mut ys, has_avx2_fma());
            for (i, y) in ys.iter().enumerate() {
                let scalar = dot_scalar(values, &q.scales[row * 2..row * 2 + 2], &xs[i * 64..(i + 1) * 64]);
                assert!((y - scalar).abs() < 1e-4 * scalar.abs().max(1.0), "row {row}, input {i}: {y} vs {scalar}");
            }
        }
    }

    #[test]
    fn bad_shapes_are_refused() {
        let refused = Q8Matrix::quantize(&matrix(4, 33)).err().expect("33 columns are refused");
        assert!(refused.to_string().contains("multiple of 32"), "{refused}");
        let q = Q8Matrix::quantize(&matrix(4, 32)).unwrap();
        assert!(q.forward(&matrix(2, 64)).is_err());
    }
}
