//! Backward passes with activation checkpointing: the forward pass keeps only each decoder
//! layer's input, and the backward pass recomputes one layer's activations at a time.
//!
//! candle's autograd keeps every activation of the graph alive until `backward` returns, and
//! this model's attention stores its scores and probabilities, `[b, heads, L, L]` tensors,
//! for every layer: SmolLM2-135M needed over 20 GB for one sequence of 1,100 tokens. Recomputing costs one extra forward pass per update and bounds memory by one
//! layer's activations plus the layers' inputs.

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

use super::{attention_bias, host_mask, select_rows, token_positions, Model, Positions};

impl Model {
    /// Runs the model on `input_ids` (`[b, t]`, with an optional 0/1 `attention_mask`), applies
    /// `head_loss` to the logits (`[b, t, vocab]`, or `[n, vocab]` at `rows` as in
    /// `forward_rows`), and returns the scalar loss with the gradients of every weight.
    /// Numerically the same as `head_loss(forward(..)).backward()`.
    pub fn backward_recomputed(
        &self,
        input_ids: &Tensor,
        attention_mask: Option<&Tensor>,
        rows: Option<&Tensor>,
        head_loss: &mut dyn FnMut(&Tensor) -> Result<Tensor>,
    ) -> Result<(Tensor, GradStore)> {
        let (b, t) = input_ids.dims2()?;
        let mask = host_mask(attention_mask, b, t)?;
        let (positions, _) = token_positions(&mask, &vec![0; b], t);
        let (cos, sin) = self.rotary.at(&positions, b, t, self.compute)?;
        let key_mask = Tensor::from_vec(mask, (b, t), self.device())?;
        let bias = attention_bias(&key_mask, 0, t)?;
        let pos = Positions { cos, sin, bias, sampling: false };

        // Forward: no graph kept between layers, only their inputs.
        let mut inputs = Vec::with_capacity(self.layers.len());
        let mut xs = self.embed(input_ids)?.detach();
        for layer in &self.layers {
            inputs.push(xs.clone());
            xs = layer.forward(&xs, &pos, None)?.detach();
        }

        // The head: final norm, output projection and the caller's loss.
        let last = Var::from_tensor(&xs)?;
        let selected = match rows {
            Some(rows) => select_rows(last.as_tensor(), rows)?,
            None => last.as_tensor().clone(),
        };
        let loss = head_loss(&self.head(&selected, false)?)?;
        let mut grads = loss.backward()?;
        let mut upstream = take(&mut grads, last.as_tensor())?;

        // Layers in reverse: recompute, then back-propagate the upstream gradient through them.
        for (layer, input) in self.layers.iter().zip(inputs).rev() {
            let input = Var::from_tensor(&input)?;
            let output = layer.forward(input.as_tensor(), &pos, None)?;
            let mut layer_grads = (output * &upstream)?.sum_all()?.backward()?;
            upstream = take(&mut layer_grads, input.as_tensor())?;
            grads.extend(layer_grads)?;
        }
        let embedded = self.embed(input_ids)?;
        grads.extend((embedded * &upstream)?.sum_all()?.backward()?)?;
        Ok((loss.detach(), grads))
    }
}

fn take(grads: &mut GradStore, tensor: &Tensor) -> Result<Tensor> {
    match grads.remove(tensor) {
        Some(grad) => Ok(grad),
        // The loss does not depend on this tensor at all.
        None => tensor.zeros_like(),
    }
}
