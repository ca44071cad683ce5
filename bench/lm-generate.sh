#!/usr/bin/env bash
# Generation tokens/s with and without the KV cache, on random GPT-2 and LLaMA models of the same size,
# measured in one process (so the ratio holds even on a busy machine). Prints a table; writes
# bench/out/lm-generate.json. Extra arguments go to `farabi lm bench-generate` (see --help), e.g.
#   bench/lm-generate.sh --layers 4 --width 128 --new-tokens 128
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
mkdir -p bench/out
exec nice -n 10 ./farabi lm bench-generate --out bench/out/lm-generate.json "$@"
