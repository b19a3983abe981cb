#!/usr/bin/env bash
# Whole-program comparison for live watchers (bench/watchers_bench.cpp), against a private corrald:
#   - submit -> first output byte at a WebSocket watcher, against posix_spawn -> first byte read;
#   - a job writing BYTES with WATCHERS WebSocket watchers, against the same job unwatched;
#   - the same job with POLLS idle long-polls held on another job, against none;
#   - corrald's RSS per idle subscription, SUBSCRIPTIONS of them left behind by their connections.
# Rounds are interleaved with their baselines; read the ratios. Needs a release build.
#   ROUNDS=5 TTFB_ROUNDS=50 BYTES=$((64 << 20)) WATCHERS=100 POLLS=1000 SUBSCRIPTIONS=10000 bash bench/watchers_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${CORRAL_BUILD:-$PWD/build/release}
rounds=${ROUNDS:-5}
ttfb_rounds=${TTFB_ROUNDS:-50}
bytes=${BYTES:-$((64 << 20))}
watchers=${WATCHERS:-100}
polls=${POLLS:-1000}
subscriptions=${SUBSCRIPTIONS:-10000}
ulimit -n "$(ulimit -Hn)"  # a thousand idle long-polls hold a thousand sockets on each side
scratch=$(mktemp -d)
# Two SIGTERMs: corrald's second signal stops its jobs and exits at once (status 130).
trap 'p=$(cat "$scratch/pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; wait; rm -rf "$scratch"' EXIT

cat >"$scratch/corral.toml" <<TOML
[pod]
state_dir = "$scratch/state"
log_level = "info"
[jobs]
concurrency = 2
[api]
subscription_linger = "600s"  # the subscriptions measured stay for the whole run
[[http]]
label = "web"
listen = "127.0.0.1:0"
max_connections = 16384  # a long-poll whose client left holds its connection until its timeout
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
    # First, on the fresh daemon: memory freed by the other measurements would hide what they take.
    "$build/bench/watchers_bench" subs "$port" "$(cat "$scratch/pid")" "$subscriptions"
    "$build/bench/watchers_bench" ttfb "$port" "$ttfb_rounds"
    "$build/bench/watchers_bench" fanout "$port" "$build/tests/fake_child" "$bytes" "$watchers" "$rounds"
    "$build/bench/watchers_bench" idle "$port" "$(cat "$scratch/pid")" "$build/tests/fake_child" "$bytes" "$polls" "$rounds"
})
get() { awk -v k="$1" '$1 == k {print $2}' <<<"$figures"; }

echo "| figure | baseline | corral | ratio | target |"
echo "|---|---|---|---|---|"
echo "| submit → first output byte at a WebSocket watcher (\`/bin/echo x\`, median of $ttfb_rounds) | posix_spawn → first byte: $(get ttfb.bare_ms) ms | $(get ttfb.corral_ms) ms | $(get ttfb.ratio) × | ≤ 3 × |"
echo "| job writing $((bytes >> 20)) MiB: its own throughput with $watchers WebSocket watchers vs none (median of $rounds) | unwatched: $(get fanout.alone_mbs) MB/s | watched: $(get fanout.watched_mbs) MB/s | $(get fanout.ratio) | ≥ 0.8 |"
echo "| the same job (one watcher) with $polls idle long-polls held on another job vs none (median of $rounds paired rounds) | none: $(get idle.quiet_mbs) MB/s | $polls polls: $(get idle.polled_mbs) MB/s | $(get idle.paired_ratio) | ≥ 0.95 |"
echo "| corrald's CPU for that job: with $polls idle long-polls vs none (median of $rounds paired rounds) | none: $(get idle.quiet_cpu_ms) ms | $polls polls: $(get idle.polled_cpu_ms) ms | $(get idle.paired_cpu_ratio) | ≤ 1.05 |"
echo "| corrald's RSS per idle subscription ($subscriptions left behind by their connections) | $(get subs.rss_before_kib) KiB before | $(get subs.rss_after_kib) KiB after | $(get subs.bytes_each) bytes each | ≤ 2048 bytes |"
echo
echo "Each round against its own unwatched baseline (median of the $rounds ratios): $(get fanout.paired_ratio)."
echo "Every watcher received all $bytes bytes in order, no loss, no disconnect (checked each round)."
echo "Delivered to the watchers together: $(get fanout.delivered_mbs) MB/s (median)."
echo "Rounds (unwatched → watched MB/s): $(awk '$1 ~ /^fanout.round/ {printf "%s%s → %s", sep, $2, $3; sep = "; "}' <<<"$figures")."
