#!/bin/sh
# Instruction counts of the engine benchmark's workloads (README, Performance): the figure
# that host contention does not move, where wall-clock timings on this VM vary by up to 40 %.
# Counts `runner::run_replication_with` inclusive (the replications, not building the
# workloads) under valgrind's callgrind, then divides by the events and iterations the
# benchmark binary reports.
# Usage, from the project root: benches/instructions.sh [WORKLOAD:REPLICATIONS ...]
# (default: default:20 sessions400:2; workloads as in benches/engine.rs). Needs valgrind.
set -eu
command -v valgrind > /dev/null || { echo "benches/instructions.sh: valgrind is not installed" >&2; exit 2; }
bin=$("$(dirname "$0")/engine-bin.sh")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
[ $# -gt 0 ] || set -- default:20 sessions400:2
for w in "$@"; do
    line=$(SPECSIM_BENCH_PROFILE=$w valgrind --tool=callgrind --callgrind-out-file="$out" \
        --toggle-collect='specsim::runner::run_replication_with*' "$bin" 2> /dev/null)
    ir=$(sed -n 's/^summary: //p' "$out")
    # "<name>: <n> replications, <events> events, <iterations> iterations"
    events=$(echo "$line" | sed -n 's/.*, \([0-9]*\) events,.*/\1/p')
    iterations=$(echo "$line" | sed -n 's/.*, \([0-9]*\) iterations$/\1/p')
    echo "$w: $ir instructions, $events events, $iterations iterations:" \
        "$((ir / events)) per event, $((ir / iterations)) per iteration"
done
