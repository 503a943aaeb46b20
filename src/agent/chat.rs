//! The seam between the agent loop and a student: chat messages in, one reply out, with what
//! it cost. Every model kind (`model`: local candle, scripted; `openai`: a server) implements
//! [`ChatModel`]; this file depends on none of them, so they depend on it one way.

use anyhow::Result;

use crate::steps::Message;

/// Sampling settings shared by every model kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// 0 means greedy.
    pub temperature: f64,
    pub max_tokens: usize,
    /// Text that ends a reply (not included in it).
    pub stop: Vec<String>,
}

/// One call: which turn of which episode, so that sampling is seeded per call and a scripted
/// model knows which reply is next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub seed: u64,
    /// 0-based index of this reply in its episode.
    pub turn: usize,
}

/// One reply of the model and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The whole response: the response prefix, then what the model generated.
    pub text: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// The exact ids and log-probs, when the model is local (what RL trains on).
    pub tokens: Option<TurnTokens>,
}

/// A local model's turn as tokens: the encoded prompt (response prefix included), the sampled
/// ids (stop token included) and each sampled id's log-probability under the sampling
/// distribution.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TurnTokens {
    pub prompt_ids: Vec<u32>,
    pub completion_ids: Vec<u32>,
    pub logprobs: Vec<f32>,
}

/// The seam between the agent loop and a student.
pub trait ChatModel: Send + Sync {
    /// The name written to predictions (`model_name_or_path`).
    fn name(&self) -> &str;

    fn reply(
        &self,
        messages: &[Message],
        sampling: &Sampling,
        call: Call,
    ) -> impl std::future::Future<Output = Result<Reply>> + Send;
}
