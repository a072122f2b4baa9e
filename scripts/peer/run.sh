#!/bin/sh
# The peer benchmark (README, Performance): specsim against an independent SimPy model of
# docs/model.md on one scenario. Checks that the two agree on the metrics within sampling
# error, then prints iterations per CPU-second of each and the ratio.
# Usage, from the project root: scripts/peer/run.sh [SCENARIO] [compare.py options]
# (default scenarios/default.json). The Python environment is a venv in target/peer-venv
# with the pinned scripts/peer/requirements.txt; specsim is built with cargo --release.
set -eu
SCENARIO=${1:-scenarios/default.json}
[ $# -gt 0 ] && shift
VENV=target/peer-venv
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet -r scripts/peer/requirements.txt
fi
cargo build --release --quiet
exec "$VENV/bin/python" scripts/peer/compare.py target/release/specsim "$SCENARIO" "$@"
