#!/usr/bin/env bash
# Runs the shared peer harness (../shared/bench/run.sh) with corral in its "ours" column, beside the
# kernel floor, task-spooler and GNU parallel, and writes the table to bench/results/peers.md.
# Needs a release build: cmake --preset release && cmake --build --preset release
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
harness=${BENCH_HARNESS:-$root/../shared/bench/run.sh}
export CORRAL_BIN=${CORRAL_BIN:-$root/build/release/apps}
export CORRAL_BENCH_DIR=${TMPDIR:-/tmp}/corral-bench-$$
export CORRAL_SOCKET=$CORRAL_BENCH_DIR/corral.sock
hooks=$root/bench/corral-hooks.sh
cli=$CORRAL_BIN/corral/corral

export OURS_NAME=corral
export OURS_START="$hooks start"
export OURS_STOP="$hooks stop"
export OURS_SLOTS="$hooks slots"
export OURS_SUBMIT="$cli submit --"
export OURS_WAIT="$cli wait -q"
export OURS_WAIT_ALL="$cli wait --all -q"
export OURS_PID="$cli show --field pid"
export OURS_KILL="$cli kill"
export OURS_CAT="$cli tail -f"
export OURS_RUN="$cli run --"
export OURS_DAEMON_PID="$hooks pid"
export BENCH_OUT=${BENCH_OUT:-$root/bench/results/peers.md}
exec bash "$harness"
