#!/usr/bin/env bash
# On a GPU machine with an engine and weights at hand: `makegreen serve` against the real engine, then one solve.
#
#   MODEL=/models/Qwen3-8B ENGINE=vllm benchmarks/serve_gpu_check.sh
#
# Prints the engine's command line, seconds until /v1/models answered, and the solve's summary for examples/roman
# (thinking budget 4000). CI never runs this: no GPU or weights there.
set -euo pipefail
: "${MODEL:?set MODEL to a local model path or name the engine can load}"
ENGINE="${ENGINE:-vllm}"
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

makegreen serve "$MODEL" --engine "$ENGINE" --dry-run
start=$(date +%s.%N)
makegreen serve "$MODEL" --engine "$ENGINE" --ready-timeout 1200 > "$work/url" &
server=$!
until [ -s "$work/url" ]; do kill -0 "$server" || { echo "serve failed"; exit 3; }; sleep 1; done
ready=$(date +%s.%N)
url=$(head -n 1 "$work/url")
echo "ready after $(echo "$ready - $start" | bc) s at $url"

cp -r "$here/examples/roman" "$work/roman" && cd "$work/roman"
git init -q && git add -A && git -c user.name=check -c user.email=check@example.invalid commit -qm tests
OPENAI_BASE_URL="$url" OPENAI_API_KEY=unused makegreen solve --model "$MODEL" --think-budget 4000 \
  --sandbox "${SANDBOX:-docker}" --json || true
