#!/usr/bin/env python3
"""Checks that Hugging Face transformers reads an srl checkpoint the way its Llama/Qwen2
loaders would: AutoConfig accepts config.json, AutoTokenizer loads the tokenizer files, and
the safetensors hold exactly the tensor names, shapes and dtypes those loaders expect.
Needs transformers and safetensors, not torch (the loaders themselves need torch; the GPU
benchmark script runs AutoModelForCausalLM.from_pretrained where torch is installed).

Usage: scripts/check-transformers.py CHECKPOINT_DIR   (prints one JSON line; exit 1 on a mismatch)
"""
import glob
import json
import os
import sys

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from safetensors import safe_open  # noqa: E402
from transformers import AutoConfig, AutoTokenizer  # noqa: E402


def expected_tensors(config):
    """Name -> shape of every parameter the transformers model class loads."""
    hidden, inter = config.hidden_size, config.intermediate_size
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    out = {"model.embed_tokens.weight": [config.vocab_size, hidden], "model.norm.weight": [hidden]}
    for layer in range(config.num_hidden_layers):
        p = f"model.layers.{layer}."
        out[p + "self_attn.q_proj.weight"] = [heads * head_dim, hidden]
        out[p + "self_attn.k_proj.weight"] = [kv_heads * head_dim, hidden]
        out[p + "self_attn.v_proj.weight"] = [kv_heads * head_dim, hidden]
        out[p + "self_attn.o_proj.weight"] = [hidden, heads * head_dim]
        if config.model_type == "qwen2":
            out[p + "self_attn.q_proj.bias"] = [heads * head_dim]
            out[p + "self_attn.k_proj.bias"] = [kv_heads * head_dim]
            out[p + "self_attn.v_proj.bias"] = [kv_heads * head_dim]
        out[p + "mlp.gate_proj.weight"] = [inter, hidden]
        out[p + "mlp.up_proj.weight"] = [inter, hidden]
        out[p + "mlp.down_proj.weight"] = [hidden, inter]
        out[p + "input_layernorm.weight"] = [hidden]
        out[p + "post_attention_layernorm.weight"] = [hidden]
    if not config.tie_word_embeddings:
        out["lm_head.weight"] = [config.vocab_size, hidden]
    return out


def main():
    checkpoint = sys.argv[1]
    config = AutoConfig.from_pretrained(checkpoint)
    problems = []
    if config.model_type not in ("llama", "qwen2"):
        problems.append(f"model_type {config.model_type!r} is not llama or qwen2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    sample = tokenizer("def f(x):\n    return x")["input_ids"]
    found = {}
    for path in sorted(glob.glob(os.path.join(checkpoint, "*.safetensors"))):
        if os.path.basename(path) in ("optimizer.safetensors", "adapter.safetensors"):
            continue  # training state, not model weights
        with safe_open(path, framework="numpy") as f:
            for name in f.keys():
                piece = f.get_slice(name)
                found[name] = (list(piece.get_shape()), piece.get_dtype())
    expected = expected_tensors(config)
    for name in sorted(set(expected) - set(found)):
        problems.append(f"missing tensor {name}")
    for name in sorted(set(found) - set(expected)):
        problems.append(f"unexpected tensor {name}")
    for name in sorted(set(expected) & set(found)):
        shape, dtype = found[name]
        if shape != expected[name]:
            problems.append(f"{name}: shape {shape}, expected {expected[name]}")
        if dtype not in ("F32", "BF16", "F16"):
            problems.append(f"{name}: dtype {dtype}")
    print(json.dumps({
        "checkpoint": checkpoint, "model_type": config.model_type, "class": type(config).__name__,
        "tensors": len(found), "dtypes": sorted({d for _, d in found.values()}),
        "tokenizer": type(tokenizer).__name__, "sample_tokens": len(sample), "problems": problems,
    }))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
