//! A tiny random Llama-family model with a byte-level tokenizer, written by the tests that
//! train (`train_cli`) or need a training run to look at (`view`).

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use srl::policy::load::save_hf;
use srl::policy::model::{Config, Model};

/// GPT-2's byte → printable character table, so a BPE with no merges covers any text.
fn byte_chars() -> Vec<char> {
    let mut printable: Vec<u32> = (b'!'..=b'~').chain(0xa1..=0xac).chain(0xae..=0xff).map(u32::from).collect();
    let mut chars = vec!['\0'; 256];
    let mut extra = 0;
    for byte in 0..256u32 {
        let c = if printable.contains(&byte) {
            byte
        } else {
            extra += 1;
            255 + extra
        };
        chars[byte as usize] = char::from_u32(c).unwrap();
    }
    printable.clear();
    chars
}

pub fn write_tiny_model(dir: &std::path::Path) {
    let mut vocab = serde_json::Map::new();
    for (id, c) in byte_chars().iter().enumerate() {
        vocab.insert(c.to_string(), id.into());
    }
    let special = |id: u32, content: &str| serde_json::json!({"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true});
    let tokenizer = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [special(256, "<|im_start|>"), special(257, "<|im_end|>")],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null,
                  "fuse_unk": false, "byte_fallback": false, "vocab": vocab, "merges": []}
    });
    std::fs::create_dir_all(dir).unwrap();
    let tokenizer_text = tokenizer.to_string();
    std::fs::write(dir.join("tokenizer.json"), tokenizer_text).unwrap();
    let config = serde_json::json!({"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "chat_template": "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"});
    std::fs::write(dir.join("tokenizer_config.json"), config.to_string()).unwrap();
    let cfg: Config = serde_json::from_value(serde_json::json!({
        "vocab_size": 258, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "max_position_embeddings": 6144,
        "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "tie_word_embeddings": true
    }))
    .unwrap();
    let varmap = VarMap::new();
    Model::new(&cfg, VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu)).unwrap();
    save_hf(&varmap, &cfg, dir, DType::F32).unwrap();
}
