#!/usr/bin/env bash
# Encode speed of Farabi vs Microsoft.ML.Tokenizers, SharpToken and HF tokenizers (Tokenizers.DotNet),
# single-threaded, for gpt2 and cl100k_base on >=10 MB of English and of Persian from ../shared/data.
# Each run checks identical ids first; figures are best-of-RUNS MB/s. Writes bench/out/tokenizer-*.json
# and prints a summary table. Usage: bench/tokenizer.sh [RUNS]   (FARABI_SHARED_DATA overrides the data folder)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
data="${FARABI_SHARED_DATA:-../shared/data}"
en=("$data/text/en/kjv_bible.txt" "$data/text/en/tinyshakespeare.txt" "$data/text/en/wikitext2-valid.txt")
fa=("$data/text/fa/fa_news_sports_health.txt")
for f in "${en[@]}" "${fa[@]}"; do [[ -f "$f" ]] || { echo "missing $f (set FARABI_SHARED_DATA)" >&2; exit 2; }; done
mkdir -p bench/out
dotnet build src/Farabi.Cli -c Release -v quiet -nologo >/dev/null
farabi=(dotnet src/Farabi.Cli/bin/Release/net10.0/linux-x64/Farabi.Cli.dll)
summary=()
for encoding in gpt2 cl100k_base; do
  for lang in en fa; do
    if [[ $lang == en ]]; then files=("${en[@]}"); repeat=2; else files=("${fa[@]}"); repeat=1; fi
    out="bench/out/tokenizer-$encoding-$lang.json"
    echo "== $encoding on $lang (${files[*]} x$repeat)" >&2
    last=$("${farabi[@]}" tokenizer bench --encoding "$encoding" --input "${files[@]}" --repeat "$repeat" --runs "$runs" --json "$out" | tee >(cat >&2) | tail -n 1)
    summary+=("$encoding $lang ${last#ratio_vs_fastest_peer=}")
  done
done
echo
printf '%-12s %-4s %s\n' encoding lang ratio_vs_fastest_peer
for row in "${summary[@]}"; do printf '%-12s %-4s %s\n' $row; done
