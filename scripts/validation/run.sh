#!/bin/sh
# The validation protocol of issue 13 (docs/validation.md): calibrate specsim on one live run
# of `none` on a real website, predict other configurations, run them live, compare.
#
#   scripts/validation/run.sh                # the full protocol on python3-doc (nginx)
#   scripts/validation/run.sh --quick        # 2 configurations, 6 sessions, short latencies
#   scripts/validation/run.sh --quick --site standin --measurements tests/fixtures/thefastest/measurements.jsonl \
#       --target-model zeta/slow-2 --draft-model acme/fast-1
#
# Steps: (1) the site: python3-doc behind nginx (scripts/validation/site.sh), or with
# `--site standin` serve-site's own HTML of tests/fixtures/live/standin.json; (2) crawl it
# (`specsim crawl`); (3) live run of `none` through a delaying proxy (`serve-site --upstream`,
# the HAR document-fetch profile) against serve-llm replaying recorded latencies of a target
# and a draft model (thefastest.ai); (4) calibrate a scenario from that run alone
# (`specsim fit` on its trace, the walker from its paths); (5) predict every configuration
# (`specsim run`) and write the predictions; (6) run each live, each with fresh servers;
# (7) compare into summary.csv.
#
# Options:
#   --quick               reduced grid (2 configurations), 6 sessions, LLM x0.05, fetch x0.1
#   --site python-doc|standin
#   --sessions N          sessions per live run (full: 30)
#   --jobs N              live runs at the same time (default 1)
#   --out DIR             results (full: traces/validation; quick: the work directory)
#   --work DIR            work directory (default target/validation/run or .../quick)
#   --measurements FILE   thefastest.ai measurements.jsonl (default ../shared/data/...)
#   --target-model TEXT   --draft-model TEXT   models replayed (and the draft's fitted profile)
#   --llm-scale F         every replayed LLM latency x F (full: 1)
#   --fetch-scale F       every page delay x F (full: 1)
#   --speeds LIST         LLM speeds, comma-separated factors on top of --llm-scale; the first
#                         is the calibration run's (full: 1,0.5)
#   --fit empirical|aic   how `specsim fit` turns the calibration run's latencies into profiles:
#                         the measured values resampled (100 quantiles; default), or the family
#                         with the smallest AIC (docs/validation.md says why empirical)
# Environment: SPECSIM (the binary; default: cargo build --release), SPECSIM_DATA_DIR.
# Needs python3 (standard library) for the bookkeeping (scripts/validation/protocol.py).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${SPECSIM_DATA_DIR:-$repo/../shared/data}

quick=0
site=python-doc
sessions=""
jobs=1
out=""
work=""
measurements=$data/thefastest/measurements.jsonl
target_model=openai/gpt-4-turbo
draft_model=anthropic/claude-3-haiku-20240307
llm_scale=""
fetch_scale=""
speeds=""
fetch_profile=$repo/traces/validation/profiles/fetch_har_documents.json
fit=empirical

die() {
    echo "run.sh: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --site) site=$2; shift ;;
    --sessions) sessions=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --out) out=$2; shift ;;
    --work) work=$2; shift ;;
    --measurements) measurements=$2; shift ;;
    --target-model) target_model=$2; shift ;;
    --draft-model) draft_model=$2; shift ;;
    --llm-scale) llm_scale=$2; shift ;;
    --fetch-scale) fetch_scale=$2; shift ;;
    --speeds) speeds=$2; shift ;;
    --fit) fit=$2; shift ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//;/^set -eu/d'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done

if [ $quick = 1 ]; then
    grid=quick
    : "${sessions:=6}" "${llm_scale:=0.05}" "${fetch_scale:=0.1}" "${speeds:=1}"
    : "${work:=$repo/target/validation/quick}"
    : "${out:=$work}"
else
    grid=full
    : "${sessions:=30}" "${llm_scale:=1}" "${fetch_scale:=1}" "${speeds:=1,0.5}"
    : "${work:=$repo/target/validation/run}"
    : "${out:=$repo/traces/validation}"
fi
case "$site" in python-doc | standin) ;; *) die "--site: python-doc or standin, got $site" ;; esac
case "$fit" in empirical) fit_flag=--empirical ;; aic) fit_flag="" ;; *) die "--fit: empirical or aic, got $fit" ;; esac
[ -f "$measurements" ] || die "--measurements: $measurements not found (set SPECSIM_DATA_DIR or --measurements)"
command -v python3 >/dev/null 2>&1 || die "python3 is needed (scripts/validation/protocol.py)"
if [ -z "${SPECSIM:-}" ]; then
    (cd "$repo" && cargo build --release --quiet) || die "cargo build --release failed"
    SPECSIM=$repo/target/release/specsim
fi
[ -x "$SPECSIM" ] || die "SPECSIM=$SPECSIM is not an executable"
protocol() { python3 "$here/protocol.py" "$@"; }
first_speed=${speeds%%,*}
mul() { python3 -c "import sys; print(f'{float(sys.argv[1]) * float(sys.argv[2]):.6g}')" "$1" "$2"; }

rm -rf "$work"
mkdir -p "$work/live" "$work/fit" "$work/servers" "$out"
pids=$work/servers/pids
: >"$pids"
cleanup() {
    # Only the long-lived servers this script started (the stand-in site), by their ids;
    # each live run stops its own servers.
    if [ -f "$pids" ]; then
        while read -r p; do kill "$p" 2>/dev/null || true; done <"$pids"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME ARGS...: starts `specsim ARGS... --port 0`, echoes its pid and the URL it prints.
start() {
    name=$1
    shift
    "$SPECSIM" "$@" --port 0 >"$work/servers/$name.url" 2>"$work/servers/$name.log" &
    pid=$!
    i=0
    while [ ! -s "$work/servers/$name.url" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$work/servers/$name.log" >&2
            echo "run.sh: $name did not start" >&2
            exit 2
        fi
        i=$((i + 1))
        if [ $i -gt 300 ]; then
            kill "$pid" 2>/dev/null || true
            echo "run.sh: $name printed no URL within 30 s" >&2
            exit 2
        fi
        sleep 0.1
    done
    echo "$pid $(head -n 1 "$work/servers/$name.url")"
}

echo "run.sh: (1) the site ($site)" >&2
if [ "$site" = python-doc ]; then
    upstream=$("$here/site.sh" start | head -n 1)
else
    set -- $(start upstream serve-site "$repo/tests/fixtures/live/standin.json" --latency '{"dist":"constant","value":0}')
    [ $# = 2 ] || die "the stand-in site did not start"
    echo "$1" >>"$pids"
    upstream=$2
fi
upstream=${upstream%/}

echo "run.sh: (2) crawl $upstream/" >&2
"$SPECSIM" crawl "$upstream/" --out "$work/graph.json" --buttons "$work/buttons.json" \
    --config "$here/live.json" --delay 0 --max-pages 5000 --progress 0
cp "$here/standin.json" "$work/standin.json"

# live NAME CONFIG SPEED: one live run with fresh servers (delays and replays start over).
# Run it in a subshell: its EXIT trap stops its servers whatever happens.
live() {
    name=$1 config=$2 speed=$3
    scale=$(mul "$llm_scale" "$speed")
    own=""
    trap 'for p in $own; do kill "$p" 2>/dev/null || true; done' EXIT
    set -- $(start "$name.site" serve-site --upstream "$upstream" --profile "$fetch_profile" \
        --latency-scale "$fetch_scale" --seed 5)
    [ $# = 2 ] || die "$name: the delaying proxy did not start"
    own="$1" site_url=$2
    set -- $(start "$name.llm" serve-llm "$work/standin.json" --buttons "$work/buttons.json" \
        --target-replay "$measurements" --target-replay-model "$target_model" \
        --draft-replay "$measurements" --draft-replay-model "$draft_model" --replay-scale "$scale")
    [ $# = 2 ] || die "$name: serve-llm did not start"
    own="$own $1" llm_url=$2
    status=0
    "$SPECSIM" live "$config" -o "$work/live/$name.jsonl" --sessions "$sessions" \
        --site "$site_url" --llm "${llm_url}v1" -q 2>"$work/live/$name.log" || status=$?
    tail -n 1 "$work/live/$name.log" | sed "s/^/run.sh: $name: /" >&2
    [ $status = 0 ] || die "$name: specsim live exited $status (see $work/live/$name.log)"
}

echo "run.sh: (3) live run of none (calibration)" >&2
(live "none-llm$first_speed" "$here/live.json" "$first_speed") || exit $?

echo "run.sh: (4) calibrate from that run alone" >&2
none_trace=$work/live/none-llm$first_speed.jsonl
"$SPECSIM" fit "$none_trace" --field fetch_s --skip-missing $fit_flag --out "$work/fit/fetch.json" >/dev/null
"$SPECSIM" fit "$none_trace" --field target.latency_s --skip-missing $fit_flag --out "$work/fit/target.json" >/dev/null
"$SPECSIM" fit --from thefastest "$measurements" --model "$draft_model" $fit_flag --out "$work/fit/draft.json" >/dev/null
accuracy=$(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['drafts'][0]['accuracy']['cumulative']))" "$work/standin.json")
max_rounds=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['max_rounds'])" "$here/live.json")
protocol calibrate --trace "$none_trace" --graph "$work/graph.json" --fetch "$work/fit/fetch.json" \
    --target "$work/fit/target.json" --draft "$work/fit/draft.json" \
    --draft-scale "$(mul "$llm_scale" "$first_speed")" --accuracy "$accuracy" \
    --max-rounds "$max_rounds" --out "$work/calibrated.json" --facts "$work/calibration.json"

echo "run.sh: (5) predict before running" >&2
protocol plan --base "$work/calibrated.json" --live "$here/live.json" --grid "$grid" --speeds "$speeds" --dir "$work"
while read -r name speed; do
    "$SPECSIM" run "$work/predict/$name.json" --json --out "$work/predict/$name.report.json" >/dev/null 2>"$work/predict/$name.log" ||
        die "$name: specsim run failed (see $work/predict/$name.log)"
done <"$work/runs.txt"
protocol predictions --dir "$work" --out "$work/predictions.csv"
echo "run.sh: predictions written to $work/predictions.csv" >&2

echo "run.sh: (6) live runs ($jobs at a time)" >&2
# A batch of live runs at a time; every run of a batch is waited for before a failure stops.
failed=0
wait_all() {
    for p in $running; do wait "$p" || failed=1; done
    running=""
    n=0
    [ $failed = 0 ] || die "a live run failed (see $work/live/*.log)"
}
running=""
n=0
while read -r name speed; do
    [ "$name" = "none-llm$first_speed" ] && continue
    (live "$name" "$work/live/$name.config.json" "$speed") </dev/null &
    running="$running $!"
    n=$((n + 1))
    [ $n -lt "$jobs" ] || wait_all
done <"$work/runs.txt"
wait_all

echo "run.sh: (7) compare" >&2
protocol summary --dir "$work" --out "$work/summary.csv" --ci "$work/summary_ci.csv" \
    --calibration-check "$work/calibration_check.csv"
if [ "$out" != "$work" ]; then
    mkdir -p "$out/live"
    for f in predictions.csv summary.csv summary_ci.csv calibration_check.csv calibration.json calibrated.json graph.json configs.tsv; do
        cp "$work/$f" "$out/$f"
    done
    # The calibrated scenario names the graph beside it.
    python3 -c "import json,sys; p=sys.argv[1]; d=json.load(open(p)); d['site']['path']='graph.json'; open(p,'w').write(json.dumps(d, indent=2)+'\n')" "$out/calibrated.json"
    for t in "$work"/live/*.jsonl; do gzip -9n <"$t" >"$out/live/$(basename "$t").gz"; done
fi
# The figure needs matplotlib: the first python3 that has it (Debian's python3-matplotlib is
# installed for the full protocol when missing).
plot_python=""
for py in python3 /usr/bin/python3; do
    if "$py" -c "import matplotlib" 2>/dev/null; then plot_python=$py; break; fi
done
if [ -z "$plot_python" ] && [ $quick = 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-matplotlib >&2 &&
        /usr/bin/python3 -c "import matplotlib" 2>/dev/null && plot_python=/usr/bin/python3
fi
if [ -n "$plot_python" ]; then
    if [ $quick = 1 ]; then figures=$out; else figures=$repo/figures/validation; fi
    for ext in svg png; do
        "$plot_python" "$here/protocol.py" figure --summary "$work/summary.csv" --ci "$work/summary_ci.csv" \
            --out "$figures/predicted_vs_live.$ext"
    done
else
    echo "run.sh: no matplotlib: figure skipped (apt-get install python3-matplotlib)" >&2
fi
echo "run.sh: done: $out/summary.csv" >&2
