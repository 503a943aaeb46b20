//! Models people already have: a Hub id resolved offline from a Hugging Face cache laid out as
//! `huggingface_hub` lays it out, for training and for the agent; a clear error listing where
//! it looked when the model is absent; and the checkpoint srl writes read by `transformers`
//! (its config class, its tokenizer, and the tensor names, shapes and dtypes its Llama loader
//! expects), when Python's transformers is installed (required in CI).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::tiny::write_tiny_model;
use support::{samples, TestContext};

/// A Hub cache holding the tiny model as `Org/Tiny` at revision `abc123` (`main`).
fn write_cache(cx: &TestContext) -> PathBuf {
    let repo = cx.path("cache/models--Org--Tiny");
    write_tiny_model(&repo.join("snapshots/abc123"));
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), "abc123").unwrap();
    cx.path("cache")
}

const SFT: &str = r#"
mode = "sft"
model = "Org/Tiny"
steps = "s.jsonl"
max_prompt_tokens = 100000
[sft]
train_steps = 1
batch_size = 1
[eval]
enabled = false
"#;

#[test]
fn a_hub_id_is_found_in_the_local_cache_and_our_checkpoint_reads_in_transformers() {
    let cx = TestContext::new();
    let cache = write_cache(&cx);
    let env = [("HF_HUB_CACHE", cache.as_path())];
    assert_eq!(cx.srl(&["import", samples().to_str().unwrap(), "-o", "t.jsonl"]).code, 0);
    let steps =
        cx.srl(&["steps", "t.jsonl", "-o", "s.jsonl", "--context-rounds", "0", "--max-observation-chars", "100"]);
    assert_eq!(steps.code, 0, "{}", steps.stderr);
    cx.write("sft.toml", SFT);
    let trained = cx.srl_with_env(&["train", "--config", "sft.toml", "--out", "run"], &env);
    assert_eq!(trained.code, 0, "{}\n{}", trained.stdout, trained.stderr);

    let instance =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/unitly/instance.json")).unwrap();
    cx.write("instances.jsonl", serde_json::from_str::<serde_json::Value>(&instance).unwrap().to_string() + "\n");
    let tasks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks");
    let agent = |model: &str, out: &str| {
        let args = ["agent", "--model", model, "--revision", "abc123", "--instances", "instances.jsonl", "-o", out];
        let rest = ["--sandbox", "local", "--repos", tasks.to_str().unwrap(), "--max-steps", "1", "--max-tokens", "4"];
        cx.srl_with_env(&[&args[..], &rest[..], &["--no-eval"]].concat(), &env)
    };
    let acted = agent("Org/Tiny", "agent");
    assert_eq!(acted.code, 0, "{}\n{}", acted.stdout, acted.stderr);
    let summary: serde_json::Value = serde_json::from_str(&cx.read("agent/summary.json")).unwrap();
    assert_eq!(summary["model"], "abc123", "the snapshot directory is the model");

    let missing = agent("Org/Missing", "missing");
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("--model Org/Missing: no such file or directory, and not in the local Hugging Face cache: looked in [TMP]/cache/models--Org--Missing/snapshots/abc123"), "{}", missing.stderr);

    let has_transformers = Command::new("python3")
        .args(["-c", "import transformers, safetensors"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_transformers {
        assert!(
            std::env::var_os("SRL_REQUIRE_TRANSFORMERS").is_none(),
            "SRL_REQUIRE_TRANSFORMERS is set but python3 cannot import transformers and safetensors"
        );
        eprintln!("skipping the transformers check: pip install transformers safetensors");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-transformers.py");
    let checked = Command::new("python3").arg(script).arg(cx.path("run/checkpoint")).output().unwrap();
    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{report}\n{}", String::from_utf8_lossy(&checked.stderr));
    let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(report["class"], "LlamaConfig", "{report}");
    assert_eq!(report["tensors"], 2 + 2 * 9, "embeddings, final norm, 9 per layer: {report}");
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
}
