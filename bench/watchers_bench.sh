#!/usr/bin/env bash
# Whole-program comparison for live watchers (bench/watchers_bench.cpp), against a private corrald:
#   - submit -> first output byte at a WebSocket watcher, against posix_spawn -> first byte read;
#   - a job writing BYTES with WATCHERS WebSocket watchers, against the same job unwatched.
# Rounds are interleaved with their baselines; read the ratios. Needs a release build.
#   ROUNDS=5 TTFB_ROUNDS=50 BYTES=$((64 << 20)) WATCHERS=100 bash bench/watchers_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${CORRAL_BUILD:-$PWD/build/release}
rounds=${ROUNDS:-5}
ttfb_rounds=${TTFB_ROUNDS:-50}
bytes=${BYTES:-$((64 << 20))}
watchers=${WATCHERS:-100}
scratch=$(mktemp -d)
# Two SIGTERMs: corrald's second signal stops its jobs and exits at once (status 130).
trap 'p=$(cat "$scratch/pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; wait; rm -rf "$scratch"' EXIT

cat >"$scratch/corral.toml" <<TOML
[pod]
state_dir = "$scratch/state"
log_level = "info"
[jobs]
concurrency = 2
[[http]]
label = "web"
listen = "127.0.0.1:0"
TOML
"$build/apps/corrald/corrald" run -c "$scratch/corral.toml" 2>"$scratch/log" &
echo $! >"$scratch/pid"
port=
for _ in $(seq 500); do
    port=$(sed -n 's|.*(web) started: http://127.0.0.1:\([0-9]*\).*|\1|p' "$scratch/log")
    [ -n "$port" ] && break
    sleep 0.01
done
[ -n "$port" ] || { echo "corrald did not start:" >&2; cat "$scratch/log" >&2; exit 1; }
CORRAL_TOKEN=$(cat "$scratch/state/admin.token")  # TCP requests show a token (docs/security.md)
export CORRAL_TOKEN

figures=$({
    "$build/bench/watchers_bench" ttfb "$port" "$ttfb_rounds"
    "$build/bench/watchers_bench" fanout "$port" "$build/tests/fake_child" "$bytes" "$watchers" "$rounds"
})
get() { awk -v k="$1" '$1 == k {print $2}' <<<"$figures"; }

echo "| figure | baseline | corral | ratio | target |"
echo "|---|---|---|---|---|"
echo "| submit → first output byte at a WebSocket watcher (\`/bin/echo x\`, median of $ttfb_rounds) | posix_spawn → first byte: $(get ttfb.bare_ms) ms | $(get ttfb.corral_ms) ms | $(get ttfb.ratio) × | ≤ 3 × |"
echo "| job writing $((bytes >> 20)) MiB: its own throughput with $watchers WebSocket watchers vs none (median of $rounds) | unwatched: $(get fanout.alone_mbs) MB/s | watched: $(get fanout.watched_mbs) MB/s | $(get fanout.ratio) | ≥ 0.8 |"
echo
echo "Each round against its own unwatched baseline (median of the $rounds ratios): $(get fanout.paired_ratio)."
echo "Every watcher received all $bytes bytes in order, no loss, no disconnect (checked each round)."
echo "Delivered to the watchers together: $(get fanout.delivered_mbs) MB/s (median)."
echo "Rounds (unwatched → watched MB/s): $(awk '$1 ~ /^fanout.round/ {printf "%s%s → %s", sep, $2, $3; sep = "; "}' <<<"$figures")."
