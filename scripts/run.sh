#!/usr/bin/env bash
# Installs what corral needs, builds it (optimised) and runs a demo job through `corral exec`:
# a small process tree that prints for a few seconds. Ctrl-C stops the whole tree.
# Afterwards the CLI is at build/release/apps/corral/corral ('corral exec --help').
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target corral_cli

corral=$PWD/build/release/apps/corral/corral
echo
echo "corral is built: $corral"
echo "Try:   $corral exec --help"
echo "Demo:  a job that starts a background helper and counts for 5 seconds (Ctrl-C stops the whole tree)"
echo
exec "$corral" exec --verbose --shell \
    'sleep 600 & echo "started a background helper (pid $!)"; for i in 1 2 3 4 5; do echo "tick $i"; sleep 1; done; echo done'
