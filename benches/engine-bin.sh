#!/bin/sh
# Builds the engine benchmark (benches/engine.rs) without running it and prints its
# executable's path; for benches/instructions.sh and benches/interleave.sh. Run from the
# project root.
set -eu
bin=$(cargo bench --bench engine --no-run --message-format=json 2> /dev/null \
    | grep '"name":"engine"' | grep '"kind":\["bench"\]' \
    | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$bin" ] || { echo "benches/engine-bin.sh: no engine benchmark binary was built" >&2; exit 1; }
echo "$bin"
