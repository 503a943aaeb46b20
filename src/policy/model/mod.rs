//! Student model families, one file each, written for training in candle (every op has a
//! backward, every weight is a `Var`). A family is one new file here plus its `pub mod` line.
//!
//! Only the Llama/Qwen2 family exists so far; the loaders in `policy::load` build it.

pub mod llama;
pub mod lora;
pub mod q8;

pub use llama::{Cache, Config, Model};
