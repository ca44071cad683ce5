#!/usr/bin/env python3
"""Checks that a LoRA adapter folder follows Hugging Face PEFT's on-disk layout, with the standard library only.

Usage: bench/peft_check.py ADAPTER_DIR BASE_CONFIG_JSON

ADAPTER_DIR holds adapter_config.json and adapter_model.safetensors (as `farabi lora train` or LoraModel.SaveAdapter
write them); BASE_CONFIG_JSON is the Hugging Face config.json of the base model (GPT-2 or LLaMA). The script reads the
safetensors header (8-byte little-endian length, then JSON) and checks what PEFT's loader relies on:

- the config: peft_type LORA, r, lora_alpha, target_modules, fan_in_fan_out (true when GPT-2's Conv1D layers are
  adapted), modules_to_save, use_rslora/use_dora flags of the right type;
- every tensor key is `base_model.model.<module path>.<suffix>` with a module path of the HF model
  (transformer.h.N.attn.c_attn, model.layers.N.self_attn.q_proj, ...), suffix lora_A.weight / lora_B.weight /
  lora_magnitude_vector / lora_embedding_A / lora_embedding_B, or a modules_to_save module's own weight;
- shapes: lora_A [r, in], lora_B [out, r] (for GPT-2's Conv1D too, whose weight is stored [in, out]),
  lora_embedding_A [r, num_embeddings], lora_embedding_B [dim, r], lora_magnitude_vector [out], with r from
  rank_pattern where it matches;
- every adapted module is named by target_modules and has both factors; the file's byte ranges are consistent.

It does NOT run PEFT: loading in Python PEFT itself needs torch + peft, which this machine does not have.
Exit code 0 when the adapter passes, 1 with one line per problem otherwise.
"""
import json
import re
import struct
import sys
from pathlib import Path

DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
SUFFIXES = ("lora_A.weight", "lora_B.weight", "lora_magnitude_vector", "lora_embedding_A", "lora_embedding_B")
PREFIX = "base_model.model."


def read_header(path):
    data = path.read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    return header, len(data) - 8 - n


def modules_of(config):
    """Module path -> ("linear", in, out) or ("embedding", num, dim) for the adaptable layers of an HF model."""
    kind = config.get("model_type")
    m = {}
    if kind == "gpt2":
        n, layers, vocab = config["n_embd"], config["n_layer"], config["vocab_size"]
        inner = config.get("n_inner") or 4 * n
        m["transformer.wte"] = ("embedding", vocab, n)
        m["transformer.wpe"] = ("embedding", config["n_positions"], n)
        for i in range(layers):
            p = f"transformer.h.{i}."
            m[p + "attn.c_attn"] = ("linear", n, 3 * n)
            m[p + "attn.c_proj"] = ("linear", n, n)
            m[p + "mlp.c_fc"] = ("linear", n, inner)
            m[p + "mlp.c_proj"] = ("linear", inner, n)
        m["lm_head"] = ("linear", n, vocab)
    elif kind == "llama":
        h, layers, vocab = config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]
        heads = config["num_attention_heads"]
        kv = config.get("num_key_value_heads") or heads
        head_dim = config.get("head_dim") or h // heads
        inter = config["intermediate_size"]
        m["model.embed_tokens"] = ("embedding", vocab, h)
        for i in range(layers):
            p = f"model.layers.{i}."
            m[p + "self_attn.q_proj"] = ("linear", h, heads * head_dim)
            m[p + "self_attn.k_proj"] = ("linear", h, kv * head_dim)
            m[p + "self_attn.v_proj"] = ("linear", h, kv * head_dim)
            m[p + "self_attn.o_proj"] = ("linear", heads * head_dim, h)
            m[p + "mlp.gate_proj"] = ("linear", h, inter)
            m[p + "mlp.up_proj"] = ("linear", h, inter)
            m[p + "mlp.down_proj"] = ("linear", inter, h)
        m["lm_head"] = ("linear", h, vocab)
    else:
        raise ValueError(f"model_type '{kind}' is neither gpt2 nor llama")
    return m


def hidden_of(config):
    return config.get("n_embd") or config.get("hidden_size")


def targeted(path, targets):
    if isinstance(targets, str):
        return re.fullmatch(targets, path) is not None
    leaf = path.split(".")[-1]
    return any(path == t or path.endswith("." + t) or leaf == t for t in targets)


def rank_for(path, config):
    for key, r in (config.get("rank_pattern") or {}).items():
        if re.fullmatch(rf"(.*\.)?{key}", path):
            return r
    return config["r"]


def check(adapter_dir, base_config_path):
    problems = []
    adapter_dir = Path(adapter_dir)
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    base = json.loads(Path(base_config_path).read_text(encoding="utf-8"))
    header, data_bytes = read_header(adapter_dir / "adapter_model.safetensors")
    modules = modules_of(base)

    if config.get("peft_type") != "LORA":
        problems.append(f"adapter_config.json: peft_type is {config.get('peft_type')!r}, not 'LORA'")
    for key, kind in (("r", int), ("lora_alpha", (int, float)), ("lora_dropout", (int, float)), ("fan_in_fan_out", bool),
                      ("use_rslora", bool), ("use_dora", bool), ("bias", str)):
        if not isinstance(config.get(key), kind) or (kind is int and isinstance(config.get(key), bool)):
            problems.append(f"adapter_config.json: {key} is {config.get(key)!r}, expected {kind}")
    targets = config.get("target_modules")
    if not (isinstance(targets, str) or (isinstance(targets, list) and all(isinstance(t, str) for t in targets) and targets)):
        problems.append(f"adapter_config.json: target_modules is {targets!r}, expected a regex string or a list of names")
        targets = []
    to_save = config.get("modules_to_save") or []

    factors = {}
    end = 0
    for key, entry in sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0]):
        shape, (start, stop) = entry["shape"], entry["data_offsets"]
        size = DTYPE_BYTES.get(entry["dtype"])
        if size is None:
            problems.append(f"{key}: dtype {entry['dtype']} is not a safetensors dtype")
        elif (stop - start) != size * _product(shape):
            problems.append(f"{key}: {stop - start} bytes for shape {shape} of {entry['dtype']}")
        if start != end:
            problems.append(f"{key}: data starts at byte {start}, expected {end} (tensors must be packed in order)")
        end = stop
        if not key.startswith(PREFIX):
            problems.append(f"{key}: does not start with '{PREFIX}'")
            continue
        rest = key[len(PREFIX):]
        suffix = next((s for s in SUFFIXES if rest.endswith("." + s)), None)
        if suffix is None:
            owner = next((m for m in to_save if rest == f"{m}.weight" or rest == f"{m}.bias" or rest.endswith(f".{m}.weight") or rest.endswith(f".{m}.bias")), None)
            if owner is None:
                problems.append(f"{key}: neither a LoRA tensor ({', '.join(SUFFIXES)}) nor a modules_to_save weight")
            elif owner == "score" and rest == "score.weight" and shape[1:] != [hidden_of(base)]:
                problems.append(f"{key}: shape {shape}, expected [num_labels, {hidden_of(base)}]")
            continue
        path = rest[: -len(suffix) - 1]
        if path not in modules:
            problems.append(f"{key}: '{path}' is not a module of this {base['model_type']} (e.g. {next(iter(modules))})")
            continue
        if not targeted(path, targets):
            problems.append(f"{key}: module '{path}' is not named by target_modules {targets}")
        factors.setdefault(path, {})[suffix] = shape
    if end != data_bytes:
        problems.append(f"adapter_model.safetensors: tensors cover {end} bytes of {data_bytes}")

    conv1d = False
    for path, got in factors.items():
        kind, a, b = modules[path]
        r = rank_for(path, config)
        if kind == "linear":
            conv1d |= base["model_type"] == "gpt2" and path != "lm_head"
            expected = {"lora_A.weight": [r, a], "lora_B.weight": [b, r]}
            if config.get("use_dora"):
                expected["lora_magnitude_vector"] = [b]
        else:
            expected = {"lora_embedding_A": [r, a], "lora_embedding_B": [b, r]}
        for suffix, shape in expected.items():
            if suffix not in got:
                problems.append(f"{PREFIX}{path}.{suffix}: missing")
            elif got[suffix] != shape:
                problems.append(f"{PREFIX}{path}.{suffix}: shape {got[suffix]}, expected {shape}")
        for suffix in got.keys() - expected.keys():
            problems.append(f"{PREFIX}{path}.{suffix}: unexpected for a {kind} layer")
    if not factors:
        problems.append("adapter_model.safetensors: no LoRA tensors")
    if conv1d and config.get("fan_in_fan_out") is not True:
        problems.append("adapter_config.json: fan_in_fan_out must be true when GPT-2's Conv1D layers are adapted")
    return problems, len(factors)


def _product(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        problems, count = check(argv[1], argv[2])
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"ok: {count} adapted modules follow PEFT's key names and shapes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
