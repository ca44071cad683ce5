#!/usr/bin/env bash
# Training throughput of `farabi lm train` for a ~5M and a ~20M parameter GPT-2 (char-level, fixed steps).
# MFU is the ratio of the model's training FLOP/s (6N + 12·L·C·T per token, nanoGPT's estimate) to the fp32
# matmul peak measured in the same process at start-up, so it stays meaningful on a busy machine.
# Usage: bench/lm-train.sh [STEPS] ; env THREADS=1 to pin libtorch's intra-op threads.
# Writes bench/out/lm-train.json and prints a table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
steps="${1:-20}"
out="$here/out"
mkdir -p "$out"
dotnet build "$root/src/Farabi.Cli" -c Release -v q -nologo >/dev/null
farabi="$root/src/Farabi.Cli/bin/Release/net10.0/linux-x64/Farabi.Cli"
threads=()
[[ -n "${THREADS:-}" ]] && threads=(--threads "$THREADS")

run() { # name layers heads embd context batch
  local name=$1
  rm -rf "$out/lm-train-$name"
  "$farabi" lm train --arch gpt2 --layers "$2" --heads "$3" --embd "$4" --context "$5" --batch-size "$6" \
    --max-steps "$steps" --warmup 2 --eval-interval "$steps" --eval-iters 1 --out "$out/lm-train-$name" "${threads[@]}" >/dev/null
}
run 5M 6 8 256 128 8
run 20M 6 8 512 128 8

python3 - "$out" "$steps" <<'PY'
import json, sys, os, datetime
out, steps = sys.argv[1], int(sys.argv[2])
rows = []
for name in ("5M", "20M"):
    s = json.load(open(os.path.join(out, f"lm-train-{name}", "summary.json")))
    rows.append({"model": name, "parameters": s["parameters"], "steps": s["steps"], "tokens_per_step": s["tokens_per_step"],
                 "tokens_per_second": s["tokens_per_second"], "mfu": s["mfu"], "matmul_peak_gflops": s["matmul_peak_flops"] / 1e9,
                 "threads": s["threads"], "train_seconds": s["train_seconds"]})
result = {"bench": "lm-train", "date": datetime.datetime.utcnow().isoformat() + "Z", "load_average": os.getloadavg(), "rows": rows}
json.dump(result, open(os.path.join(out, "lm-train.json"), "w"), indent=2)
print(f"{'model':6} {'params':>11} {'tok/step':>8} {'tokens/s':>9} {'MFU':>6} {'peak GFLOP/s':>12} {'threads':>7}")
for r in rows:
    print(f"{r['model']:6} {r['parameters']:>11,} {r['tokens_per_step']:>8} {r['tokens_per_second']:>9.0f} {r['mfu']*100:>5.1f}% {r['matmul_peak_gflops']:>12.1f} {r['threads']:>7}")
print(f"load average {result['load_average'][0]:.1f}; JSON: {os.path.join(out, 'lm-train.json')}")
PY
