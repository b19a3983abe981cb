#!/usr/bin/env bash
# Whole-program comparison: `true` jobs/s end to end with the SQLite store on against the same corrald
# keeping everything in memory ([store] backend = "memory"), in one run with interleaved rounds.
# Two ways in: one batch request of N jobs, and N requests one after another on one connection (each
# acknowledged only once it is durable). Prints a Markdown table; ratios, not absolute times.
#   CORRAL_BIN=build/release/apps N=2000 ROUNDS=3 bash bench/store_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${CORRAL_BIN:-$root/build/release/apps}
n=${N:-2000}
rounds=${ROUNDS:-3}
scratch=$(mktemp -d)
trap 'p=$(cat "$scratch/pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; wait; rm -rf "$scratch"' EXIT

{ printf '{"jobs": ['; for ((i = 0; i < n; i++)); do printf '%s{"command": ["/bin/true"]}' "$([ $i -gt 0 ] && echo ,)"; done; printf ']}'; } >"$scratch/batch.json"
# One curl, N requests on one kept-alive connection: the client costs little, each reply waits for its commit.
for ((i = 0; i < n; i++)); do
    [ $i -gt 0 ] && echo next
    echo "unix-socket = \"$scratch/corral.sock\""  # per request: \`next\` resets it
    echo 'url = "http://localhost/api/v1/jobs"'
    echo 'header = "Content-Type: application/json"'
    echo 'data = "{\"command\": [\"/bin/true\"]}"'
    echo 'output = "/dev/null"'
done >"$scratch/singles.curl"

start() {  # $1: sqlite or memory
    rm -rf "$scratch/state"
    cat >"$scratch/corral.toml" <<TOML
[pod]
state_dir = "$scratch/state"
log_level = "warn"
[jobs]
concurrency = 2
max_finished = 100000
[store]
backend = "$1"
[[http]]
label = "cli"
listen = "unix:$scratch/corral.sock"
TOML
    "$bin/corrald/corrald" run -c "$scratch/corral.toml" 2>"$scratch/log" &
    echo $! >"$scratch/pid"
    for _ in $(seq 500); do [ -S "$scratch/corral.sock" ] && break; sleep 0.01; done
}
stop() {
    kill -TERM "$(cat "$scratch/pid")"
    wait "$(cat "$scratch/pid")" || true
    rm -f "$scratch/pid"
}
idle() {
    until curl -s --unix-socket "$scratch/corral.sock" 'localhost/api/v1/idle?wait=60' | grep -q '"idle":true'; do :; done
}
now() { date +%s.%N; }
rate() { echo "$n / ($2 - $1)" | bc -l; }

declare -A batch singles
for ((r = 0; r < rounds; r++)); do
    for mode in memory sqlite; do
        start "$mode"
        t0=$(now)
        curl -s --unix-socket "$scratch/corral.sock" -o /dev/null localhost/api/v1/jobs/batch \
            -H 'Content-Type: application/json' --data-binary @"$scratch/batch.json"
        idle
        t1=$(now)
        batch[$mode,$r]=$(rate "$t0" "$t1")
        t0=$(now)
        curl -s -K "$scratch/singles.curl"
        idle
        t1=$(now)
        singles[$mode,$r]=$(rate "$t0" "$t1")
        stop
    done
done
echo "| round | batch: memory jobs/s | batch: SQLite jobs/s | ratio | one request per job: memory | SQLite | ratio |"
echo "|---|---|---|---|---|---|---|"
for ((r = 0; r < rounds; r++)); do
    printf '| %d | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n' "$r" \
        "${batch[memory,$r]}" "${batch[sqlite,$r]}" "$(echo "${batch[sqlite,$r]} / ${batch[memory,$r]}" | bc -l)" \
        "${singles[memory,$r]}" "${singles[sqlite,$r]}" "$(echo "${singles[sqlite,$r]} / ${singles[memory,$r]}" | bc -l)"
done
