//! AdamW with a linear warm-up, whose state (moments and step count) can be saved and restored:
//! candle's own `AdamW` keeps its moments private, and an exact `--resume` needs them.
//!
//! The update is the decoupled-weight-decay AdamW of Loshchilov & Hutter, with the same defaults
//! and arithmetic order as candle-nn's: `θ ← θ·(1 − lr·λ) − lr · m̂ / (√v̂ + ε)`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use candle_nn::VarMap;

pub struct AdamW {
    /// Parameter names, sorted, so the state file is stable.
    names: Vec<String>,
    vars: Vec<Var>,
    m: Vec<Var>,
    v: Vec<Var>,
    /// Optimisation steps taken so far.
    pub steps_taken: usize,
    pub learning_rate: f64,
    pub warmup_steps: usize,
    pub weight_decay: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl AdamW {
    pub fn new(varmap: &VarMap, learning_rate: f64, warmup_steps: usize, weight_decay: f64) -> Result<AdamW> {
        let data = varmap.data().lock().map_err(|_| anyhow::anyhow!("the model's variables are poisoned"))?;
        let mut named: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let (mut names, mut vars, mut m, mut v) = (vec![], vec![], vec![], vec![]);
        for (name, var) in named {
            m.push(Var::zeros(var.shape(), var.dtype(), var.device())?);
            v.push(Var::zeros(var.shape(), var.dtype(), var.device())?);
            names.push(name);
            vars.push(var);
        }
        Ok(AdamW {
            names,
            vars,
            m,
            v,
            steps_taken: 0,
            learning_rate,
            warmup_steps,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        })
    }

    /// The learning rate of the next step: linear warm-up from lr/(warmup+1) to lr.
    pub fn current_learning_rate(&self) -> f64 {
        if self.steps_taken < self.warmup_steps {
            self.learning_rate * (self.steps_taken + 1) as f64 / (self.warmup_steps + 1) as f64
        } else {
            self.learning_rate
        }
    }

    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        let lr = self.current_learning_rate();
        self.steps_taken += 1;
        let t = self.steps_taken as i32;
        let scale_m = 1.0 / (1.0 - self.beta1.powi(t));
        let scale_v = 1.0 / (1.0 - self.beta2.powi(t));
        for ((var, m), v) in self.vars.iter().zip(&self.m).zip(&self.v) {
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            let next_m = ((m.as_tensor() * self.beta1)? + (g * (1.0 - self.beta1))?)?;
            let next_v = ((v.as_tensor() * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?;
            let m_hat = (&next_m * scale_m)?;
            let v_hat = (&next_v * scale_v)?;
            let decayed = (var.as_tensor() * (1.0 - lr * self.weight_decay))?;
            let adjusted = (m_hat / (v_hat.sqrt()? + self.eps)?)?;
            var.set(&(decayed - (adjusted * lr)?)?)?;
            m.set(&next_m)?;
            v.set(&next_v)?;
        }
        Ok(())
    }

    /// Writes the moments to `path` (safetensors); the step count goes in the trainer state.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        for ((name, m), v) in self.names.iter().zip(&self.m).zip(&self.v) {
            tensors.insert(format!("m.{name}"), m.as_tensor().detach());
            tensors.insert(format!("v.{name}"), v.as_tensor().detach());
        }
        candle_core::safetensors::save(&tensors, path).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Restores moments written by `save` for the same model.
    pub fn load(&mut self, path: &Path, steps_taken: usize) -> Result<()> {
        let device = self.vars.first().map(|v| v.device().clone()).unwrap_or(candle_core::Device::Cpu);
        let tensors = candle_core::safetensors::load(path, &device)
            .with_context(|| format!("cannot read optimizer state {}", path.display()))?;
        for ((name, m), v) in self.names.iter().zip(&self.m).zip(&self.v) {
            for (prefix, var) in [("m", m), ("v", v)] {
                let key = format!("{prefix}.{name}");
                let Some(saved) = tensors.get(&key) else {
                    bail!("{}: no tensor {key}: the state is from another model", path.display());
                };
                if saved.shape() != var.shape() {
                    bail!("{}: {key} has shape {:?}, the model wants {:?}", path.display(), saved.shape(), var.shape());
                }
                var.set(&saved.to_dtype(var.dtype())?)?;
            }
        }
        self.steps_taken = steps_taken;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device};

    use super::*;

    // One step by hand (Python): g = 2*theta for loss = theta^2, theta = 3, lr = 0.1, wd = 0.01:
    //   m = 0.1*6 = 0.6; v = 0.001*36 = 0.036; m_hat = 6; v_hat = 36
    //   theta = 3*(1 - 0.001) - 0.1 * 6 / (6 + 1e-8) = 2.997 - 0.1 = 2.897
    #[test]
    fn one_step_matches_hand_computation() {
        let varmap = VarMap::new();
        let theta = varmap.get((1,), "theta", candle_nn::Init::Const(3.0), DType::F32, &Device::Cpu).unwrap();
        let mut opt = AdamW::new(&varmap, 0.1, 0, 0.01).unwrap();
        let grads = theta.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        opt.step(&grads).unwrap();
        let got = theta.to_vec1::<f32>().unwrap()[0];
        assert!((got - 2.897).abs() < 1e-6, "{got}");
    }

    #[test]
    fn warmup_is_linear() {
        let varmap = VarMap::new();
        let mut opt = AdamW::new(&varmap, 1.0, 3, 0.0).unwrap();
        let mut rates = Vec::new();
        for _ in 0..5 {
            rates.push(opt.current_learning_rate());
            opt.steps_taken += 1;
        }
        assert_eq!(rates, vec![0.25, 0.5, 0.75, 1.0, 1.0]);
    }

    #[test]
    fn saved_state_restores_the_same_trajectory() {
        let run = |split: bool| {
            let varmap = VarMap::new();
            let theta = varmap.get((2,), "w", candle_nn::Init::Const(1.5), DType::F32, &Device::Cpu).unwrap();
            let mut opt = AdamW::new(&varmap, 0.05, 1, 0.0).unwrap();
            let dir = tempfile::tempdir().unwrap();
            for k in 0..4 {
                if split && k == 2 {
                    let path = dir.path().join("opt.safetensors");
                    opt.save(&path).unwrap();
                    let steps = opt.steps_taken;
                    opt = AdamW::new(&varmap, 0.05, 1, 0.0).unwrap();
                    opt.load(&path, steps).unwrap();
                }
                let grads = (&theta * 3.0).unwrap().sqr().unwrap().sum_all().unwrap().backward().unwrap();
                opt.step(&grads).unwrap();
            }
            theta.to_vec1::<f32>().unwrap()
        };
        assert_eq!(run(false), run(true));
    }
}
