//! The model being trained: every weight trainable, or a frozen base plus LoRA adapters. Knows
//! which variables the optimizer owns and how to write itself as a Hugging Face checkpoint
//! (adapters merged in, plus `adapter.safetensors` so a LoRA run can resume).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Tensor};
use candle_nn::{VarBuilder, VarMap};

use crate::policy::device::Placement;
use crate::policy::load::{load, save_hf_tensors};
use crate::policy::model::lora::LoraConfig;
use crate::policy::model::{Config, Model};

pub struct Student {
    pub model: Model,
    /// The variables the optimizer updates: every weight, or only the adapters.
    pub trainable: VarMap,
    pub config: Config,
    /// With LoRA, the frozen base weights (plain tensors) by Hugging Face key.
    base: Option<HashMap<String, Tensor>>,
}

const ADAPTERS: &str = "adapter.safetensors";

impl Student {
    /// The student of a run: from `checkpoint` when resuming without LoRA; with LoRA, the base
    /// is always `model` (it never changes) and the adapters come from `checkpoint`.
    /// Weights are f32 on the placement's device whatever its precision (the activations' dtype).
    pub fn load(model: &Path, lora: &LoraConfig, checkpoint: Option<&Path>, placement: &Placement) -> Result<Student> {
        let dev = &placement.device.open()?;
        if lora.rank == 0 {
            let mut loaded = load(checkpoint.unwrap_or(model), DType::F32, dev)?;
            placement.configure(&mut loaded.model)?;
            return Ok(Student { model: loaded.model, trainable: loaded.varmap, config: loaded.config, base: None });
        }
        let loaded = load(model, DType::F32, dev)?;
        let base: HashMap<String, Tensor> = {
            let vars =
                loaded.varmap.data().lock().map_err(|_| anyhow::anyhow!("the model's variables are poisoned"))?;
            vars.iter().map(|(name, var)| (name.clone(), var.as_tensor().detach())).collect()
        };
        let mut frozen = Model::new(&loaded.config, VarBuilder::from_tensors(base.clone(), DType::F32, dev))?;
        let mut adapters = VarMap::new();
        frozen.attach_lora(lora, &VarBuilder::from_varmap(&adapters, DType::F32, dev))?;
        placement.configure(&mut frozen)?;
        if let Some(dir) = checkpoint {
            let path = dir.join(ADAPTERS);
            adapters
                .load(&path)
                .with_context(|| format!("cannot restore the LoRA adapters from {}", path.display()))?;
        }
        Ok(Student { model: frozen, trainable: adapters, config: loaded.config, base: Some(base) })
    }

    /// Number of trainable parameters.
    pub fn trainable_parameters(&self) -> usize {
        self.trainable.all_vars().iter().map(|v| v.elem_count()).sum()
    }

    /// Writes `model.safetensors` + `config.json` (adapters merged) and, with LoRA, the adapters.
    pub fn save(&self, dir: &Path) -> Result<()> {
        match &self.base {
            None => crate::policy::load::save_hf(&self.trainable, &self.config, dir, DType::F32),
            Some(base) => {
                let mut tensors = base.clone();
                tensors.extend(self.model.merged_weights()?);
                save_hf_tensors(tensors, &self.config, dir, DType::F32)?;
                let path = dir.join(ADAPTERS);
                self.trainable.save(&path).with_context(|| format!("cannot write {}", path.display()))
            }
        }
    }
}
