//! Tokenizers and chat templates: a tiny `tokenizer.json` written here, and the real SmolLM2
//! GGUF when `scripts/fetch-model.sh` has fetched it (skipped with a message otherwise).

use std::path::Path;

use srl::policy::chat::{Template, Turn};
use srl::policy::tokenizer::TextTokenizer;

const SMOLLM2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/SmolLM2-135M-Instruct.Q4_1.gguf");

#[test]
fn hf_tokenizer_json_with_special_tokens_from_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let tokenizer = serde_json::json!({
        "version": "1.0",
        "added_tokens": [
            {"id": 0, "content": "<|im_start|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 1, "content": "<|im_end|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
        ],
        "normalizer": null,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null,
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": {"<|im_start|>": 0, "<|im_end|>": 1, "hello": 2, "world": 3, "[UNK]": 4}, "unk_token": "[UNK]"}
    });
    std::fs::write(dir.path().join("tokenizer.json"), tokenizer.to_string()).unwrap();
    let config = serde_json::json!({"bos_token": "<|im_start|>", "eos_token": {"content": "<|im_end|>"}, "chat_template": "{{ '<|im_start|>' }}...<|im_end|>"});
    std::fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).unwrap();
    let tok = TextTokenizer::from_hf(dir.path()).unwrap();
    assert_eq!(tok.encode("<|im_start|>hello world<|im_end|>").unwrap(), [0, 2, 3, 1]);
    assert_eq!((tok.bos_id, tok.eos_id), (Some(0), Some(1)));
    assert_eq!(tok.stop_ids.iter().copied().collect::<Vec<_>>(), [1]);
    assert!(TextTokenizer::from_hf(Path::new("/nonexistent/dir")).is_err());
}

#[test]
fn smollm2_gguf_tokenizer_and_chatml() {
    if !Path::new(SMOLLM2).exists() {
        println!("skipping: {SMOLLM2} is missing (run scripts/fetch-model.sh)");
        return;
    }
    let tok = TextTokenizer::from_gguf(Path::new(SMOLLM2)).unwrap();
    assert_eq!(tok.vocab_size(), 49152);
    assert_eq!((tok.bos_id, tok.eos_id), (Some(1), Some(2)));
    assert!(tok.stop_ids.contains(&2));
    let template = Template::detect(tok.chat_template.as_deref()).unwrap();
    assert_eq!(template, Template::ChatMl);
    let prompt = template.render(&[
        Turn { role: "system", content: "You are a helpful AI assistant named SmolLM, trained by Hugging Face" },
        Turn { role: "user", content: "What is the capital of France?" },
    ]);
    let ids = tok.encode(&prompt).unwrap();
    // shared/recipes/cuda.md: with the pre-tokenizer fixed, ChatML prompts start [1, 9690, 198, ...]
    // (`<|im_start|>`, `system`, `\n`); candle's own GGUF tokenizer gives a prefix-space token instead.
    assert_eq!(&ids[..3], [1, 9690, 198]);
    assert_eq!(tok.decode(&ids).unwrap(), prompt, "decoding gives the prompt back exactly");
    let digits = tok.encode("2024").unwrap();
    assert_eq!(digits.len(), 4, "digits are split one by one");
}
