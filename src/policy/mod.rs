//! The policy: the student language model that GRPO trains, and everything needed to run it.
//!
//! - [`model`]: the decoder itself (candle, trainable, with a KV cache for sampling);
//! - [`device`]: where it runs (cpu, cuda:N) and its activation precision (f32, bf16);
//! - [`load`]: building a model from a Hugging Face directory or a GGUF file, and saving a
//!   trained one back as Hugging Face safetensors.
//!
//! The policy only ever sees token ids and text: it knows nothing about sandboxes, tasks or
//! rewards.

pub mod chat;
pub mod contract;
pub mod device;
pub mod hub;
pub mod load;
pub mod logprob;
pub mod model;
pub mod sample;
pub mod tokenizer;
