//! Where the student runs and how precisely: `cpu`, `cuda` or `cuda:N`, with f32 or bf16
//! activations. Weights always stay f32 (the master copy the optimizer updates); bf16 only
//! changes the dtype of the activations (see `Model::set_compute_dtype`).

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};

/// A device named on the command line or in a config, not yet opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceSpec {
    #[default]
    Cpu,
    /// A CUDA GPU by ordinal (only in builds with the `cuda` feature).
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<DeviceSpec> {
        match text {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            _ => match text.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(ordinal)) => Ok(DeviceSpec::Cuda(ordinal)),
                _ => bail!("unknown device {text:?} (expected cpu, cuda or cuda:N)"),
            },
        }
    }
}

impl TryFrom<String> for DeviceSpec {
    type Error = anyhow::Error;

    fn try_from(text: String) -> Result<DeviceSpec> {
        text.parse()
    }
}

impl From<DeviceSpec> for String {
    fn from(spec: DeviceSpec) -> String {
        spec.to_string()
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::Cuda(ordinal) => write!(f, "cuda:{ordinal}"),
        }
    }
}

impl DeviceSpec {
    pub fn open(self) -> Result<Device> {
        match self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Cuda(ordinal) if cfg!(feature = "cuda") => {
                Device::new_cuda(ordinal).with_context(|| format!("cannot open CUDA device {ordinal}"))
            }
            DeviceSpec::Cuda(_) => {
                bail!("device {self}: this srl was built without CUDA (rebuild with `--features cuda`)")
            }
        }
    }
}

/// Where and how a model runs: its device, its activation precision, and whether sampling on a
/// CPU reads int8 copies of the weights. Shared by `srl train` (the student) and `srl agent`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Placement {
    pub device: DeviceSpec,
    pub precision: Precision,
    /// `Model::set_quantized_sampling`.
    pub quantized_sampling: bool,
}

impl Placement {
    /// Sets the precision and the sampling copies of a model already on `self.device`.
    pub fn configure(&self, model: &mut crate::policy::model::Model) -> candle_core::Result<()> {
        model.set_compute_dtype(self.precision.dtype());
        model.set_quantized_sampling(self.quantized_sampling)
    }
}

/// The dtype of activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    /// bf16 activations, f32 master weights, f32 softmax and norm statistics, f32 logits.
    Bf16,
}

impl FromStr for Precision {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Precision> {
        match text {
            "f32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            _ => bail!("unknown precision {text:?} (expected f32 or bf16)"),
        }
    }
}

impl Precision {
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
        }
    }
}

/// Fixes the CPU thread count in the environment; call it first thing in `main`, before any
/// thread starts. Candle's CPU matrix product asks for its thread count on every call and,
/// unless `RAYON_NUM_THREADS` is set, counts the physical cores by reading `/proc/cpuinfo`
/// each time: about 60 reads per decoded token, a fifth of small-model decoding on a CPU
/// (`docs/benchmarks.md`). Setting the variable to the count candle would have picked keeps
/// its choice and makes asking free; rayon's pool then has that many threads too.
pub fn settle_cpu_threads() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = candle_core::utils::get_num_threads();
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_and_print_back() {
        for (text, want) in [("cpu", DeviceSpec::Cpu), ("cuda", DeviceSpec::Cuda(0)), ("cuda:3", DeviceSpec::Cuda(3))] {
            assert_eq!(text.parse::<DeviceSpec>().unwrap(), want);
        }
        assert_eq!(DeviceSpec::Cuda(2).to_string(), "cuda:2");
        for bad in ["gpu", "cuda:", "cuda:x", "CPU", "cuda:-1"] {
            let message = bad.parse::<DeviceSpec>().unwrap_err().to_string();
            assert!(message.contains(&format!("{bad:?}")), "{message}");
        }
    }

    #[test]
    fn cuda_is_refused_without_the_feature() {
        if cfg!(feature = "cuda") {
            return;
        }
        let message = format!("{:#}", DeviceSpec::Cuda(0).open().unwrap_err());
        assert!(message.contains("built without CUDA"), "{message}");
    }

    #[test]
    fn precisions_parse() {
        assert_eq!("bf16".parse::<Precision>().unwrap().dtype(), DType::BF16);
        assert_eq!("f32".parse::<Precision>().unwrap().dtype(), DType::F32);
        assert!("fp16".parse::<Precision>().unwrap_err().to_string().contains("\"fp16\""));
    }
}
