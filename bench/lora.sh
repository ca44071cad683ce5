#!/usr/bin/env bash
# LoRA vs full fine-tuning on a ~20M-parameter GPT-2-shaped model: step time (forward + backward + AdamW)
# and peak resident memory, each method in its own process, alternating rounds; the JSON gives the ratios.
# Usage: bench/lora.sh [extra `farabi lora bench` options, e.g. --threads 1 --steps 5 --rounds 2 --batch 8 --seq 128]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Farabi.Cli -c Release -v quiet -nologo >/dev/null
mkdir -p bench/out
nice -n 10 src/Farabi.Cli/bin/Release/net10.0/linux-x64/Farabi.Cli lora bench --out bench/out/lora.json "$@"
