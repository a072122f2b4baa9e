#!/bin/sh
# Peak memory of a long run (README, Performance): the default scenario scaled to about
# 10 M iterations per policy (200 replications x 7,265 sessions x ~6.9 iterations, five
# policies: ~50 M iterations in all), run by the release binary under /usr/bin/time -v.
# Usage, from the project root: benches/memory.sh [THREADS] (default 2).
set -eu
THREADS=${1:-2}
cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
jq '.replications = 200 | .sessions = 7265' scenarios/default.json > "$dir/long.json"
/usr/bin/time -v target/release/specsim run "$dir/long.json" --threads "$THREADS" --json \
    > "$dir/report.json" 2> "$dir/time.txt"
jq -r '.policies[] | "\(.policy): \(.iterations) iterations, p50 \(.iter_latency_p50_s) s, p99 \(.iter_latency_p99_s) s"' "$dir/report.json"
grep -E "Maximum resident|Elapsed|User time|System time" "$dir/time.txt"
