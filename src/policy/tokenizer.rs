//! Tokenizers for the student: from a Hugging Face `tokenizer.json`, or rebuilt from a GGUF
//! file's metadata (byte-level BPE: `tokenizer.ggml.tokens` + `tokenizer.ggml.merges`).
//!
//! Special tokens (control tokens, `token_type == 3`) become special added tokens, and the
//! BOS/EOS/stop ids come from the model's metadata, never from constants. For GGUF the
//! pre-tokenizer is Digits(individual) + ByteLevel without a prefix space: candle's own GGUF
//! tokenizer adds a prefix space for SmolLM2 (`pre = "smollm"`), which shifts every prompt by a
//! token (see shared/recipes/cuda.md). Only byte-level BPE GGUF vocabularies (`gpt2` model, as
//! Llama-3, SmolLM2 and Qwen2 use) are supported; SentencePiece (`llama`) GGUF vocabularies are
//! refused with a clear error.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::quantized::gguf_file;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, Tokenizer};

/// A tokenizer plus the special ids a sampler needs.
pub struct TextTokenizer {
    inner: Tokenizer,
    pub bos_id: Option<u32>,
    pub eos_id: Option<u32>,
    /// Tokens that end a reply: EOS plus the chat template's end-of-turn token when it has one.
    pub stop_ids: BTreeSet<u32>,
    /// The chat template shipped with the model (Jinja source), when it has one.
    pub chat_template: Option<String>,
}

/// End-of-turn tokens of the chat formats we render (ChatML / Qwen, Llama 3).
const END_OF_TURN: [&str; 3] = ["<|im_end|>", "<|eot_id|>", "<|endoftext|>"];

impl TextTokenizer {
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self.inner.encode(text, false).map_err(|e| anyhow::anyhow!("cannot tokenize: {e}"))?;
        Ok(encoding.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| anyhow::anyhow!("cannot decode token ids: {e}"))
    }

    /// The token that ends an assistant turn: the chat format's end-of-turn token when it is a
    /// stop token, else EOS.
    pub fn end_of_turn_id(&self) -> Option<u32> {
        END_OF_TURN[..2]
            .iter()
            .filter_map(|t| self.inner.token_to_id(t))
            .find(|id| self.stop_ids.contains(id))
            .or(self.eos_id)
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// From a Hugging Face directory or file: `tokenizer.json`, plus `tokenizer_config.json`
    /// (special tokens, chat template) when it sits beside it.
    pub fn from_hf(path: &Path) -> Result<TextTokenizer> {
        let (file, dir) = if path.is_dir() {
            (path.join("tokenizer.json"), path.to_path_buf())
        } else {
            (path.to_path_buf(), path.parent().map(Path::to_path_buf).unwrap_or_default())
        };
        let inner = Tokenizer::from_file(&file).map_err(|e| anyhow::anyhow!("cannot load {}: {e}", file.display()))?;
        let config: serde_json::Value = std::fs::read_to_string(dir.join("tokenizer_config.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        let token_id = |key: &str| -> Option<u32> {
            let token = match &config[key] {
                serde_json::Value::String(s) => s.clone(),
                other => other["content"].as_str()?.to_string(),
            };
            inner.token_to_id(&token)
        };
        let (bos_id, eos_id) = (token_id("bos_token"), token_id("eos_token"));
        let chat_template = config["chat_template"].as_str().map(str::to_string);
        Ok(TextTokenizer::finish(inner, bos_id, eos_id, chat_template))
    }

    /// From the metadata of a GGUF file.
    pub fn from_gguf(path: &Path) -> Result<TextTokenizer> {
        let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let content =
            gguf_file::Content::read(&mut file).with_context(|| format!("{} is not a GGUF file", path.display()))?;
        from_gguf_metadata(&content.metadata).with_context(|| format!("{}: cannot build its tokenizer", path.display()))
    }

    /// Writes `tokenizer.json` and `tokenizer_config.json` (BOS/EOS tokens, chat template) into
    /// `dir`, so a saved checkpoint is a complete Hugging Face model directory.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let json = self.inner.to_string(false).map_err(|e| anyhow::anyhow!("cannot serialize the tokenizer: {e}"))?;
        crate::atomic::write_file(&dir.join("tokenizer.json"), json.as_bytes())?;
        let name = |id: Option<u32>| id.and_then(|id| self.inner.id_to_token(id));
        let mut config = serde_json::json!({ "bos_token": name(self.bos_id), "eos_token": name(self.eos_id) });
        if let Some(template) = &self.chat_template {
            config["chat_template"] = serde_json::Value::String(template.clone());
        }
        crate::atomic::write_file(&dir.join("tokenizer_config.json"), serde_json::to_string_pretty(&config)?.as_bytes())
    }

    fn finish(
        inner: Tokenizer,
        bos_id: Option<u32>,
        eos_id: Option<u32>,
        chat_template: Option<String>,
    ) -> TextTokenizer {
        let mut stop_ids: BTreeSet<u32> = eos_id.into_iter().collect();
        let template = chat_template.as_deref().unwrap_or("");
        for token in END_OF_TURN {
            if let Some(id) = inner.token_to_id(token).filter(|_| template.contains(token) || template.is_empty()) {
                stop_ids.insert(id);
            }
        }
        TextTokenizer { inner, bos_id, eos_id, stop_ids, chat_template }
    }
}

type Metadata = std::collections::HashMap<String, gguf_file::Value>;

fn strings(metadata: &Metadata, key: &str) -> Result<Vec<String>> {
    let values = metadata.get(key).with_context(|| format!("missing metadata key {key}"))?;
    let list = values.to_vec().with_context(|| format!("{key} is not a list"))?;
    list.iter().map(|v| v.to_string().cloned().with_context(|| format!("{key} holds a non-string"))).collect()
}

fn from_gguf_metadata(metadata: &Metadata) -> Result<TextTokenizer> {
    let model = metadata.get("tokenizer.ggml.model").and_then(|v| v.to_string().ok()).map(String::as_str).unwrap_or("");
    if model != "gpt2" {
        bail!("tokenizer.ggml.model is {model:?}; only byte-level BPE (\"gpt2\") vocabularies are supported");
    }
    let tokens = strings(metadata, "tokenizer.ggml.tokens")?;
    let merges: Vec<(String, String)> = strings(metadata, "tokenizer.ggml.merges")?
        .iter()
        .filter_map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect();
    let vocab: tokenizers::models::bpe::Vocab =
        tokens.iter().enumerate().map(|(id, token)| (token.clone(), id as u32)).collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| anyhow::anyhow!("invalid BPE vocabulary: {e}"))?;
    let mut inner = Tokenizer::new(bpe);
    let digits = Digits::new(true);
    let byte_level = ByteLevel::new(false, true, true);
    inner.with_pre_tokenizer(Some(Sequence::new(vec![digits.into(), byte_level.into()])));
    inner.with_decoder(Some(ByteLevel::default()));
    let types: Vec<i32> = match metadata.get("tokenizer.ggml.token_type").and_then(|v| v.to_vec().ok()) {
        Some(list) => list.iter().map(|v| v.to_i32().unwrap_or(1)).collect(),
        None => Vec::new(),
    };
    let specials: Vec<AddedToken> = tokens
        .iter()
        .zip(&types)
        .filter(|(_, kind)| **kind == 3)
        .map(|(token, _)| AddedToken::from(token.clone(), true))
        .collect();
    inner.add_special_tokens(specials).map_err(|e| anyhow::anyhow!("cannot add the special tokens: {e}"))?;
    let id = |key: &str| metadata.get(key).and_then(|v| v.to_u32().ok());
    let template = metadata.get("tokenizer.chat_template").and_then(|v| v.to_string().ok()).cloned();
    Ok(TextTokenizer::finish(inner, id("tokenizer.ggml.bos_token_id"), id("tokenizer.ggml.eos_token_id"), template))
}
