#!/bin/sh
# The 1,000-cell bench sweep (README, Performance): wall time with 2 threads and with 1, and
# the check that both wrote byte-identical results. Usage, from the project root:
# benches/sweep.sh
set -eu
cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in 2 1; do
    /usr/bin/time -f "threads $t: %e s wall, %U s user, %S s sys, %M KB peak" \
        target/release/specsim sweep scenarios/bench-sweep.json --out "$dir/t$t" --threads "$t" --quiet
done
cmp "$dir/t1/results.jsonl" "$dir/t2/results.jsonl" && cmp "$dir/t1/results.csv" "$dir/t2/results.csv" \
    && echo "results byte-identical for 1 and 2 threads"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
