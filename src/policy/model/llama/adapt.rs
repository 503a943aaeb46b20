//! Changing a loaded model's projections: LoRA adapters (attach, merge for export) and the
//! int8 copies used for sampling on a CPU.

use candle_core::{bail, Result, Tensor};
use candle_nn::VarBuilder;

use super::super::lora::{LoraConfig, Projection, PROJECTIONS};
use super::Model;

impl Model {
    fn projections_mut(&mut self) -> impl Iterator<Item = &mut Projection> {
        self.layers.iter_mut().flat_map(|l| {
            let a = &mut l.self_attn;
            let m = &mut l.mlp;
            [
                &mut a.q_proj,
                &mut a.k_proj,
                &mut a.v_proj,
                &mut a.o_proj,
                &mut m.gate_proj,
                &mut m.up_proj,
                &mut m.down_proj,
            ]
        })
    }

    /// Adds LoRA adapters (variables created in `vb`) to the projections `cfg.targets` names.
    pub fn attach_lora(&mut self, cfg: &LoraConfig, vb: &VarBuilder) -> Result<()> {
        if let Some(bad) = cfg.targets.iter().find(|t| !PROJECTIONS.contains(&t.as_str())) {
            bail!("unknown LoRA target {bad:?}; the projections are {}", PROJECTIONS.join(", "));
        }
        if cfg.rank == 0 {
            bail!("a LoRA rank must be at least 1");
        }
        for projection in self.projections_mut() {
            if cfg.targets.iter().any(|t| t == projection.kind()) {
                projection.adapt(cfg, vb)?;
            }
        }
        Ok(())
    }

    /// With `on`, sampling on a CPU (the cached forward) multiplies by int8 copies of the
    /// projection and output weights: a quarter of the memory traffic of f32, at the cost of
    /// the weights' rounding (`q8`). Training never uses them. The copies go stale when the
    /// weights change: call `refresh_sampling_weights` after each optimizer step.
    pub fn set_quantized_sampling(&mut self, on: bool) -> Result<()> {
        self.quantized_sampling = on;
        self.refresh_sampling_weights()
    }

    /// Remakes the sampling copies from the current weights: the int8 ones when they are on,
    /// and drops the half-float casts (remade at the next sampling step). Call it after every
    /// change of the weights.
    pub fn refresh_sampling_weights(&self) -> Result<()> {
        let on = self.quantized_sampling;
        self.lm_head.refresh_sampling_copy(on)?;
        for l in &self.layers {
            let (a, m) = (&l.self_attn, &l.mlp);
            for p in [&a.q_proj, &a.k_proj, &a.v_proj, &a.o_proj, &m.gate_proj, &m.up_proj, &m.down_proj] {
                p.refresh_sampling_copy(on)?;
            }
        }
        Ok(())
    }

    /// The adapted projections' weights with their adapters folded in, by Hugging Face key.
    pub fn merged_weights(&self) -> Result<std::collections::HashMap<String, Tensor>> {
        let mut out = std::collections::HashMap::new();
        for l in &self.layers {
            let (a, m) = (&l.self_attn, &l.mlp);
            for p in [&a.q_proj, &a.k_proj, &a.v_proj, &a.o_proj, &m.gate_proj, &m.up_proj, &m.down_proj] {
                p.merged(&mut out)?;
            }
        }
        Ok(out)
    }
}
