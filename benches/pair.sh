#!/bin/sh
# The ratio of two workloads' speeds per event, read on a noisy host (README, Performance):
# the engine benchmark times one unit of A (every replication of the workload), then one
# of B, alternately, for SECONDS, and prints the median of the paired ratios (B over A) with
# its interquartile range, and each workload's median and best unit in M events/s. A unit
# takes milliseconds and this VM's speed drifts over seconds to minutes, so the two halves
# of a pair run at the same host speed.
# Usage, from the project root: benches/pair.sh [A,B] [SECONDS]
# (default: default,sessions400 for 20 s; workloads as in benches/engine.rs).
set -eu
pair=${1:-default,sessions400}
secs=${2:-20}
bin=$("$(dirname "$0")/engine-bin.sh")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
SPECSIM_BENCH_PAIR="$pair:$secs" "$bin"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
