//! The student behind the agent: chat messages in, one reply out, with exact token counts.
//!
//! `--model` names one of three kinds, the seam being [`ChatModel`]:
//! - a local candle model, a `.gguf` file or a Hugging Face directory, sampled with the same
//!   tokenizer, chat template, response prefix and sampler as training (`policy`); a trained
//!   checkpoint's prefix comes from its `output_contract.json` unless one is given; prompt
//!   tokens are the encoded prompt (prefix included), completion tokens the generated ids;
//! - `openai:http[s]://HOST:PORT/v1#MODEL`, any OpenAI-compatible chat completions server
//!   (`openai`), counting the tokens its `usage` reports;
//! - `scripted:FILE`, a JSON list of replies returned in order in every episode: the
//!   deterministic policy the tests drive the loop with (it has no tokenizer, so it counts 0).
//!
//! Every kind returns the whole response under the output contract (`reward::format`): the
//! response prefix followed by what was generated, ended at the first complete action.
//!
//! Deliberately absent: prompt building (the agent's `episode` does it) and any sandbox.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use candle_core::DType;

pub use super::chat::{Call, ChatModel, Reply, Sampling, TurnTokens};
use super::openai::{OpenAiClient, OpenAiOptions};
use crate::policy::chat::{Template, Turn};
use crate::policy::contract::{self, Origin};
use crate::policy::device::Placement;
use crate::policy::load::load;
use crate::policy::model::Model;
use crate::policy::sample::{generate, SamplingConfig};
use crate::policy::tokenizer::TextTokenizer;
use crate::reward::format::OutputContract;
use crate::steps::Message;

/// A model of any kind, so the loop picks one at run time without `dyn`.
pub enum AnyModel {
    Local(LocalModel),
    OpenAi(Box<OpenAiClient>),
    Scripted(ScriptedModel),
}

impl AnyModel {
    /// Loads or connects to the model `spec` names (see the module doc for the forms).
    /// `local` matters only for a local model; `response_prefix` overrides a checkpoint's;
    /// `revision` picks the snapshot of a Hub id.
    pub fn open(
        spec: &str,
        local: Placement,
        openai: &OpenAiOptions,
        response_prefix: Option<&str>,
        revision: Option<&str>,
    ) -> Result<AnyModel> {
        if let Some(rest) = spec.strip_prefix("openai:") {
            if response_prefix.is_some_and(|p| !p.is_empty()) {
                bail!(
                    "--response-prefix: a chat completions server cannot be prefilled (the API has no portable way \
                     to start the assistant's reply); serve the model locally or train it without a prefix"
                );
            }
            return Ok(AnyModel::OpenAi(Box::new(OpenAiClient::new(rest, openai)?)));
        }
        if let Some(path) = spec.strip_prefix("scripted:") {
            let prefix = response_prefix.unwrap_or_default();
            return Ok(AnyModel::Scripted(ScriptedModel::load(Path::new(path), OutputContract::new(prefix))?));
        }
        if spec.starts_with("http://") || spec.starts_with("https://") {
            bail!(
                "--model {spec}: a server is given as openai:URL#MODEL (e.g. openai:http://127.0.0.1:8080/v1#smollm2)"
            );
        }
        let path = crate::policy::hub::resolve(Path::new(spec), revision)
            .map_err(|e| anyhow::anyhow!("--model {spec}: {e:#} (other forms: openai:URL#MODEL, scripted:FILE)"))?;
        Ok(AnyModel::Local(LocalModel::load(&path, local, response_prefix)?))
    }

    /// The contract this model is held to and where its parts came from, for run summaries.
    pub fn contract_summary(&self) -> serde_json::Value {
        let (prefix, origin, template) = match self {
            AnyModel::Local(m) => (m.contract.response_prefix.as_str(), m.prefix_origin, Some(m.template_name)),
            AnyModel::OpenAi(_) => ("", Origin::Default, None),
            AnyModel::Scripted(m) => {
                let origin = if m.contract.response_prefix.is_empty() { Origin::Default } else { Origin::Given };
                (m.contract.response_prefix.as_str(), origin, None)
            }
        };
        serde_json::json!({
            "response_prefix": prefix,
            "response_prefix_from": origin,
            "chat_template": template.unwrap_or("the server's"),
            "stop": "after the first complete action",
        })
    }
}

impl ChatModel for AnyModel {
    fn name(&self) -> &str {
        match self {
            AnyModel::Local(m) => m.name(),
            AnyModel::OpenAi(m) => m.name(),
            AnyModel::Scripted(m) => m.name(),
        }
    }

    async fn reply(&self, messages: &[Message], sampling: &Sampling, call: Call) -> Result<Reply> {
        match self {
            AnyModel::Local(m) => m.reply(messages, sampling, call).await,
            AnyModel::OpenAi(m) => m.reply(messages, sampling, call).await,
            AnyModel::Scripted(m) => m.reply(messages, sampling, call).await,
        }
    }
}

/// A candle model on this machine. Sampling holds the lock, so episodes running in parallel
/// take turns at the model while their sandboxes work.
pub struct LocalModel {
    name: String,
    contract: OutputContract,
    prefix_origin: Origin,
    template_name: &'static str,
    inner: Arc<Mutex<LocalInner>>,
}

struct LocalInner {
    model: Model,
    tokenizer: TextTokenizer,
    template: Template,
}

impl LocalModel {
    /// Loads the model at `path`; its response prefix is `response_prefix` when given, else the
    /// one saved with a trained checkpoint, else none.
    pub fn load(path: &Path, options: Placement, response_prefix: Option<&str>) -> Result<LocalModel> {
        let (prefix, prefix_origin) = contract::resolve_prefix(response_prefix, path)?;
        let mut loaded = load(path, DType::F32, &options.device.open()?)?;
        options.configure(&mut loaded.model)?;
        let tokenizer = if path.is_dir() { TextTokenizer::from_hf(path)? } else { TextTokenizer::from_gguf(path)? };
        let template = Template::detect(tokenizer.chat_template.as_deref())
            .with_context(|| format!("{}: cannot render its chat template", path.display()))?;
        let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        let inner = LocalInner { model: loaded.model, tokenizer, template };
        Ok(LocalModel {
            name,
            contract: OutputContract::new(prefix),
            prefix_origin,
            template_name: template.name(),
            inner: Arc::new(Mutex::new(inner)),
        })
    }
}

impl ChatModel for LocalModel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn reply(&self, messages: &[Message], sampling: &Sampling, call: Call) -> Result<Reply> {
        let inner = Arc::clone(&self.inner);
        let messages = messages.to_vec();
        let sampling = sampling.clone();
        let contract = self.contract.clone();
        // Sampling is seconds of CPU work: it must not stall the runtime that drives the sandboxes.
        tokio::task::spawn_blocking(move || {
            let inner = inner.lock().map_err(|_| anyhow::anyhow!("the model lock was poisoned by a failed call"))?;
            sample_reply(&inner.model, &inner.tokenizer, inner.template, &contract, &messages, &sampling, call)
        })
        .await
        .context("the sampling task failed")?
    }
}

/// One reply of a candle model: the chat prompt rendered and encoded as training does, the
/// response prefix prefilled, sampled with `sampling` until the first complete action (or a stop
/// sequence); exact ids and log-probs kept.
pub fn sample_reply(
    model: &Model,
    tokenizer: &TextTokenizer,
    template: Template,
    contract: &OutputContract,
    messages: &[Message],
    sampling: &Sampling,
    call: Call,
) -> Result<Reply> {
    let turns: Vec<Turn> = messages.iter().map(|m| Turn { role: &m.role, content: &m.content }).collect();
    let prompt = tokenizer.encode(&format!("{}{}", template.render(&turns), contract.response_prefix))?;
    let positions = model.config().max_position_embeddings;
    if prompt.len() + sampling.max_tokens > positions {
        bail!(
            "a prompt of {} tokens plus {} new ones exceeds the model's {positions} positions",
            prompt.len(),
            sampling.max_tokens
        );
    }
    let cfg = SamplingConfig {
        temperature: sampling.temperature,
        top_p: 1.0,
        top_k: 0,
        max_new_tokens: sampling.max_tokens,
        seed: call.seed,
    };
    let stop_ids: Vec<u32> = tokenizer.stop_ids.iter().copied().collect();
    let mut is_done = |_: usize, ids: &[u32]| {
        reply_is_complete(tokenizer, contract, ids)
            || (!sampling.stop.is_empty()
                && tokenizer.decode(ids).is_ok_and(|text| sampling.stop.iter().any(|s| text.contains(s.as_str()))))
    };
    let completion = generate(model, std::slice::from_ref(&prompt), &cfg, &stop_ids, &mut is_done)?
        .pop()
        .context("the sampler returned no completion")?;
    let kept: Vec<u32> = completion.token_ids.iter().copied().filter(|id| !stop_ids.contains(id)).collect();
    let generated = tokenizer.decode(&kept)?;
    let text = contract.response(&cut_at_stop(contract.cut(&generated), &sampling.stop));
    Ok(Reply {
        text,
        prompt_tokens: prompt.len() as u64,
        completion_tokens: completion.token_ids.len() as u64,
        tokens: Some(TurnTokens {
            prompt_ids: prompt,
            completion_ids: completion.token_ids,
            logprobs: completion.logprobs,
        }),
    })
}

/// Whether the sampled `ids` (after the response prefix) hold a complete action, so sampling
/// stops there. Decoding the whole text only when the last token could close an action keeps
/// this cheap enough to run after every token.
pub fn reply_is_complete(tokenizer: &TextTokenizer, contract: &OutputContract, ids: &[u32]) -> bool {
    let Some(last) = ids.last() else { return false };
    match tokenizer.decode(std::slice::from_ref(last)) {
        Ok(text) if text.contains('>') || text.contains('`') => {}
        _ => return false,
    }
    tokenizer.decode(ids).is_ok_and(|text| contract.reply_end(&text).is_some())
}

/// `text` up to the first stop sequence, as an OpenAI server returns it.
pub fn cut_at_stop(text: &str, stop: &[String]) -> String {
    let end = stop.iter().filter(|s| !s.is_empty()).filter_map(|s| text.find(s.as_str())).min();
    text[..end.unwrap_or(text.len())].to_string()
}

/// Replies read from a JSON list of strings, the same list in every episode.
pub struct ScriptedModel {
    name: String,
    path: PathBuf,
    replies: Vec<String>,
    /// A scripted reply is what a model generated after this contract's prefix.
    contract: OutputContract,
}

impl ScriptedModel {
    pub fn load(path: &Path, contract: OutputContract) -> Result<ScriptedModel> {
        let text = std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))?;
        let replies: Vec<String> = serde_json::from_str(&text)
            .with_context(|| format!("{}: expected a JSON list of reply strings", path.display()))?;
        let name = path.file_stem().map_or_else(|| "scripted".to_string(), |s| s.to_string_lossy().into_owned());
        Ok(ScriptedModel { name, path: path.to_path_buf(), replies, contract })
    }
}

impl ChatModel for ScriptedModel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn reply(&self, _messages: &[Message], _sampling: &Sampling, call: Call) -> Result<Reply> {
        let Some(text) = self.replies.get(call.turn) else {
            bail!(
                "{} has {} replies; turn {} asked for another",
                self.path.display(),
                self.replies.len(),
                call.turn + 1
            )
        };
        Ok(Reply { text: self.contract.response(text), prompt_tokens: 0, completion_tokens: 0, tokens: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, stop: &[&str], expect: &str) {
        let stop: Vec<String> = stop.iter().map(|s| s.to_string()).collect();
        assert_eq!(cut_at_stop(text, &stop), expect);
    }

    #[test]
    fn replies_end_before_the_first_stop_sequence() {
        check("a</function>b<x>", &["<x>", "</function>"], "a");
        check("abc", &[], "abc");
        check("abc", &[""], "abc");
    }

    #[test]
    fn bad_specs_name_the_problem() {
        let options = OpenAiOptions::for_tests();
        let missing = AnyModel::open("models/nope.gguf", Placement::default(), &options, None, None).err().unwrap();
        assert!(format!("{missing:#}").contains("--model models/nope.gguf: no such file or directory"));
        let bare_url =
            AnyModel::open("http://127.0.0.1:1/v1", Placement::default(), &options, None, None).err().unwrap();
        assert!(format!("{bare_url:#}").contains("openai:URL#MODEL"));
        let prefilled =
            AnyModel::open("openai:http://127.0.0.1:1/v1#m", Placement::default(), &options, Some("<think>\n"), None);
        assert!(format!("{:#}", prefilled.err().unwrap()).contains("cannot be prefilled"));
    }
}
