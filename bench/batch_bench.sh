#!/usr/bin/env bash
# Whole-program comparison: N `true` jobs submitted in one batch request and run to completion by
# corrald, against the same N spawned (2 at once, like corrald's 2 slots) and reaped with posix_spawn by the harness's spawnbench helper
# (../shared/bench/src/spawnbench.c), in one run with interleaved rounds. Also reports corrald's
# idle RSS. Prints a Markdown table; ratios, not absolute times.
#   CORRAL_BIN=build/release/apps N=2000 ROUNDS=3 bash bench/batch_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${CORRAL_BIN:-$root/build/release/apps}
n=${N:-2000}
rounds=${ROUNDS:-3}
scratch=$(mktemp -d)
# Two SIGTERMs: corrald's second signal stops its jobs and exits at once (status 130).
trap 'p=$(cat "$scratch/pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; wait; rm -rf "$scratch"' EXIT
cc -O2 -I"$root/../shared/bench/src" -o "$scratch/spawnbench" "$root/../shared/bench/src/spawnbench.c" -lm

cat >"$scratch/corral.toml" <<TOML
[pod]
state_dir = "$scratch/state"
log_level = "warn"
[jobs]
concurrency = 2
max_finished = 100000
[[http]]
label = "cli"
listen = "unix:$scratch/corral.sock"
TOML
"$bin/corrald/corrald" run -c "$scratch/corral.toml" 2>"$scratch/log" &
echo $! >"$scratch/pid"
for _ in $(seq 500); do [ -S "$scratch/corral.sock" ] && break; sleep 0.01; done
sleep 0.5
idle_rss=$(awk '/VmRSS/ {print $2}' /proc/"$(cat "$scratch/pid")"/status)

body=$scratch/batch.json
{ printf '{"jobs": ['; for ((i = 0; i < n; i++)); do printf '%s{"command": ["/bin/true"]}' "$([ $i -gt 0 ] && echo ,)"; done; printf ']}'; } >"$body"

now() { date +%s.%N; }
raw=() ours=()
for ((r = 0; r < rounds; r++)); do
    t0=$(now)
    "$scratch/spawnbench" "$n" 2 /bin/true >/dev/null
    t1=$(now)
    raw+=("$(echo "$n / ($t1 - $t0)" | bc -l)")
    t0=$(now)
    curl -s --unix-socket "$scratch/corral.sock" -o /dev/null localhost/api/v1/jobs/batch \
        -H 'Content-Type: application/json' --data-binary @"$body"
    # One long-poll until idle: polling with a process per check would steal a core from the jobs.
    until curl -s --unix-socket "$scratch/corral.sock" 'localhost/api/v1/idle?wait=30' | grep -q '"idle":true'; do :; done
    t1=$(now)
    ours+=("$(echo "$n / ($t1 - $t0)" | bc -l)")
done
busy_rss=$(awk '/VmRSS/ {print $2}' /proc/"$(cat "$scratch/pid")"/status)
echo "| round | posix_spawn+wait jobs/s | corrald batch jobs/s | ratio |"
echo "|---|---|---|---|"
for ((r = 0; r < rounds; r++)); do
    printf '| %d | %.0f | %.0f | %.2f |\n' "$r" "${raw[r]}" "${ours[r]}" "$(echo "${ours[r]} / ${raw[r]}" | bc -l)"
done
echo
echo "corrald idle RSS: $((idle_rss / 1024)).$(((idle_rss % 1024) * 10 / 1024)) MiB; after $((n * rounds)) jobs: $((busy_rss / 1024)) MiB"
