#!/bin/sh
# Runs the studies of docs/studies.md: sweeps into target/studies/ (not committed), figures
# into figures/studies/. Usage: scripts/studies/run.sh [STUDY...] from the project root, with
# STUDY one of draft-latency draft-fetch cache-width shared-sessions cost real-graphs
# (default: all). SPECSIM names the binary (default: target/release/specsim, else specsim on
# PATH). Study real-graphs needs the public data in ../shared/data (SPECSIM_DATA_DIR).
set -eu
SPECSIM=${SPECSIM:-target/release/specsim}
[ -x "$SPECSIM" ] || SPECSIM=specsim
DATA=${SPECSIM_DATA_DIR:-../shared/data}
OUT=target/studies
FIG=figures/studies
mkdir -p "$OUT" "$FIG"

sweep() { # STUDY: a fresh sweep of scenarios/studies/STUDY.json into $OUT/STUDY
    rm -rf "$OUT/$1"
    "$SPECSIM" sweep "scenarios/studies/$1.json" --out "$OUT/$1" --quiet
}
plot() { # RESULTS FIGDIR ARGS...: PNG + SVG figures
    r=$1; d=$2; shift 2
    rm -rf "$d"
    "$SPECSIM" plot "$r" --out "$d" "$@" >/dev/null
}

study_draft_latency() {
    sweep draft-latency
    for m in speedup hit_rate; do
        plot "$OUT/draft-latency" "$FIG/draft-latency/$m" --metric $m \
            --axis 'drafts[0].latency.latency.median' --second-axis target.latency.median
    done
    rm -f "$FIG"/draft-latency/hit_rate/heatmap_*
}
study_draft_fetch() {
    sweep draft-fetch
    for m in speedup hit_rate; do
        plot "$OUT/draft-fetch" "$FIG/draft-fetch/$m" --metric $m \
            --axis 'drafts[0].latency.latency.median' --second-axis fetch.median
    done
    rm -f "$FIG"/draft-fetch/hit_rate/heatmap_*
}
study_cache_width() {
    sweep cache-width
    for p in random speccache; do
        plot "$OUT/cache-width" "$FIG/cache-width/$p" --metric hit_rate --policy $p \
            --axis width --second-axis cache.capacity
    done
}
study_shared_sessions() {
    sweep shared-sessions
    for p in speccache cache; do
        plot "$OUT/shared-sessions" "$FIG/shared-sessions/$p" --metric speedup --policy $p \
            --axis fetcher.slots --second-axis arrivals.gap.scale
    done
}
study_cost() {
    sweep cost
    plot "$OUT/cost" "$FIG/cost" --metric speedup \
        --axis width --second-axis 'drafts[0].accuracy.top1'
    jq -r -s -f scripts/studies/cost.jq "$OUT/cost/results.jsonl" > "$OUT/cost/cost.md"
    echo "cost table: $OUT/cost/cost.md"
}
study_real_graphs() {
    if [ ! -d "$DATA/wikispeedia" ] || [ ! -f "$DATA/wiki_speedrun/benchmark_results.jsonl" ]; then
        echo "skipped real-graphs: data not found at $DATA" >&2
        return 0
    fi
    # The first 2,000 Wikispeedia paths with the real link graph; think times from the scenario.
    "$SPECSIM" import wikispeedia "$DATA/wikispeedia" --out "$OUT/wikispeedia.jsonl" \
        --no-durations --max-paths 2000
    # The 315 games of the 9 LLM agents; 81 links per page (not recorded); the recorded
    # seconds per click (LLM and fetch together) are removed so think times come from the
    # scenario, as for Wikispeedia.
    agents=""
    for a in claude-haiku-4.5 claude-sonnet-4.5 deepseek-v3.2 gemini-2.0-flash-001 \
        gemini-3-flash-preview gpt-4o-mini gpt-5-mini gpt-5-nano gpt-5.2; do
        agents="$agents --agent llm-$a"
    done
    # shellcheck disable=SC2086
    "$SPECSIM" import wiki-speedrun "$DATA/wiki_speedrun/benchmark_results.jsonl" \
        --out "$OUT/speedrun-raw.jsonl" --out-degree 81 $agents
    jq -c 'if .type == "header" then .meta.target_latency = "removed with jq del(.target): think times come from the scenario" else del(.target) end' \
        "$OUT/speedrun-raw.jsonl" > "$OUT/speedrun.jsonl"
    sweep real-graphs
    for t in wikispeedia speedrun; do
        mkdir -p "$OUT/real-graphs-$t"
        jq -c --arg t "$t" 'select(.axes["trajectories.trace"] | test($t))' \
            "$OUT/real-graphs/results.jsonl" > "$OUT/real-graphs-$t/results.jsonl"
        for m in speedup hit_rate; do
            plot "$OUT/real-graphs-$t/results.jsonl" "$FIG/real-graphs/$t/$m" --metric $m --axis width
        done
    done
}

[ $# -gt 0 ] || set -- draft-latency draft-fetch cache-width shared-sessions cost real-graphs
for s in "$@"; do
    case $s in
        draft-latency | draft-fetch | cache-width | shared-sessions | cost | real-graphs)
            echo "study $s" >&2
            "study_$(echo "$s" | tr - _)" ;;
        *) echo "unknown study: $s (known: draft-latency draft-fetch cache-width shared-sessions cost real-graphs)" >&2; exit 2 ;;
    esac
done
