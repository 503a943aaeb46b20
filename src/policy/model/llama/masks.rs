//! Padding and causality: each token's rotary position from a 0/1 mask, and the additive
//! attention bias that hides future keys and padding.

use candle_core::{bail, DType, Result, Tensor};

/// The additive attention bias of a masked key; finite so that no op sees `-inf * 0`.
const MASKED: f32 = -1e9;

/// The mask as row-major f32 0/1 values, all ones when absent.
pub(super) fn host_mask(mask: Option<&Tensor>, b: usize, t: usize) -> Result<Vec<f32>> {
    let Some(mask) = mask else { return Ok(vec![1.0; b * t]) };
    if mask.dims() != [b, t] {
        bail!("attention mask has shape {:?}, the input ids have [{b}, {t}]", mask.dims())
    }
    let values = mask.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    Ok(values.into_iter().map(|v| if v > 0.5 { 1.0 } else { 0.0 }).collect())
}

/// Each token's rotary position: the count of real tokens before it in its sequence, starting
/// from `start`. Padding takes the position of the next real token (it is never attended).
/// Returns the positions and each sequence's next position.
pub(super) fn token_positions(mask: &[f32], start: &[u32], t: usize) -> (Vec<u32>, Vec<u32>) {
    let mut positions = Vec::with_capacity(mask.len());
    let mut next = start.to_vec();
    for (row, next_pos) in next.iter_mut().enumerate() {
        for &m in &mask[row * t..(row + 1) * t] {
            positions.push(*next_pos);
            if m > 0.5 {
                *next_pos += 1;
            }
        }
    }
    (positions, next)
}

/// Additive bias `[b, 1, t, past + t]` (f32): query `i` (at cache index `past + i`) sees key `j`
/// when `j <= past + i` and key `j` is a real token. A query always sees itself, so a padding
/// query's row is never fully masked.
pub(super) fn attention_bias(key_mask: &Tensor, past: usize, t: usize) -> Result<Tensor> {
    let (b, total) = key_mask.dims2()?;
    let mut causal = Vec::with_capacity(t * total);
    let mut off_diagonal = Vec::with_capacity(t * total);
    for i in 0..t {
        for j in 0..total {
            causal.push(if j <= past + i { 0.0f32 } else { MASKED });
            off_diagonal.push(if j == past + i { 0.0f32 } else { 1.0 });
        }
    }
    let dev = key_mask.device();
    let causal = Tensor::from_vec(causal, (1, 1, t, total), dev)?;
    let off_diagonal = Tensor::from_vec(off_diagonal, (1, 1, t, total), dev)?;
    let padding = key_mask.to_dtype(DType::F32)?.affine(-(MASKED as f64), MASKED as f64)?.reshape((b, 1, 1, total))?;
    causal.broadcast_add(&padding.broadcast_mul(&off_diagonal)?)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    fn check_positions(mask: &[f32], start: &[u32], t: usize, want: &[u32], want_next: &[u32]) {
        let (positions, next) = token_positions(mask, start, t);
        assert_eq!(positions, want, "positions of mask {mask:?} from {start:?}");
        assert_eq!(next, want_next, "next positions of mask {mask:?} from {start:?}");
    }

    #[test]
    fn positions_count_only_real_tokens() {
        check_positions(&[1., 1., 1.], &[0], 3, &[0, 1, 2], &[3]);
        check_positions(&[0., 0., 1., 1.], &[0], 4, &[0, 0, 0, 1], &[2]);
        check_positions(&[1., 1., 0., 0.], &[0], 4, &[0, 1, 2, 2], &[2]);
        check_positions(&[1., 0., 1., 1.], &[5, 2], 2, &[5, 6, 2, 3], &[6, 4]);
    }

    #[test]
    fn bias_masks_future_and_padding_but_never_the_diagonal() {
        let key_mask = Tensor::new(&[[0f32, 1., 1.]], &Device::Cpu).unwrap();
        let bias = attention_bias(&key_mask, 0, 3).unwrap().squeeze(0).unwrap().squeeze(0).unwrap();
        let seen: Vec<Vec<bool>> =
            bias.to_vec2::<f32>().unwrap().iter().map(|row| row.iter().map(|&v| v == 0.0).collect()).collect();
        let want = vec![vec![true, false, false], vec![false, true, false], vec![false, true, true]];
        assert_eq!(seen, want);
    }
}
