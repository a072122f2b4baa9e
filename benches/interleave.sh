#!/bin/sh
# Clock comparisons on a noisy host (README, Performance): runs a reference engine benchmark
# binary and this tree's, alternately, and prints each run's throughput with the ratios that
# host contention moves least, new / reference per workload between neighbouring runs. On
# this VM the same binary's speed varies by up to 40 % from one minute to the next, with no
# steal time and the load average unchanged. The ratio of two workloads within one binary
# (the 400-session target's) is read by benches/pair.sh, in alternating units of
# milliseconds: from criterion runs seconds apart it moved by 15 points for one binary.
# Usage, from the project root:
#   benches/interleave.sh REFERENCE_ENGINE_BINARY [ROUNDS] [MEASUREMENT_SECONDS]
# The reference is a copy of an earlier build's target/release/deps/engine-<hash> (the binary
# `cargo bench --bench engine --no-run` names); ROUNDS defaults to 2, seconds to 5.
set -eu
ref=${1:?usage: benches/interleave.sh REFERENCE_ENGINE_BINARY [ROUNDS] [MEASUREMENT_SECONDS]}
rounds=${2:-2}
secs=${3:-5}
[ -x "$ref" ] || { echo "benches/interleave.sh: $ref is not an executable" >&2; exit 2; }
new=$("$(dirname "$0")/engine-bin.sh")
filter='default_replications/events|default_two_replications/events|sessions400_replications/events'
# The middle estimate of each workload's events/s, in millions: "default default_two sessions400".
run() {
    "$1" --bench "$filter" --measurement-time "$secs" --noplot --discard-baseline 2>&1 | awk '
        /^[a-z0-9_]+_replications\/events$/ { name = $1 }
        /thrpt:/ && name != "" && !/%/ { v[name] = $4; name = "" }
        END {
            printf "%s %s %s\n", v["default_replications/events"],
                v["default_two_replications/events"], v["sessions400_replications/events"]
        }'
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %-9s %10s %12s %12s\n' round binary default default_two sessions400
i=1
while [ "$i" -le "$rounds" ]; do
    r=$(run "$ref")
    n=$(run "$new")
    echo "$i $r $n" | awk '{
        printf "%-5s %-9s %10s %12s %12s\n", $1, "reference", $2, $3, $4
        printf "%-5s %-9s %10s %12s %12s\n", $1, "new", $5, $6, $7
        printf "%-5s %-9s %9.1f%% %11.1f%% %11.1f%%\n", $1, "new/ref", 100 * $5 / $2, 100 * $6 / $3, 100 * $7 / $4
    }'
    i=$((i + 1))
done
echo "M events/s, criterion's middle estimate; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
