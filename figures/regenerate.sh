#!/usr/bin/env bash
# Regenerates every figure in figures/ from the example scenarios (a minute on two cores).
# Usage, from the crate root:  bash figures/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/specsim
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -rf figures/default figures/paper-grid figures/draft-latency
"$bin" run --out "$work/default.json" > /dev/null
"$bin" plot "$work/default.json" --out figures/default

"$bin" sweep scenarios/paper-grid.json --out "$work/paper-grid" --quiet
"$bin" plot "$work/paper-grid" --out figures/paper-grid \
  --axis width --second-axis cache.capacity --at 'drafts[0].accuracy.top1=0.6'

# The draft-latency study's sweep, drawn here with every metric (docs/plots.md). The study
# figures and tables in figures/studies/ come from scripts/studies/run.sh (docs/studies.md).
"$bin" sweep scenarios/studies/draft-latency.json --out "$work/draft-latency" --quiet
"$bin" plot "$work/draft-latency" --out figures/draft-latency \
  --second-axis target.latency.median
