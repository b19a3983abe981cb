#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang with ASan and UBSan) and runs each one: first
# over its saved corpus and every past crash (tests/fuzz/corpus/NAME, tests/fuzz/regressions/NAME),
# then fuzzing for SECONDS (default 20) with new inputs kept in a scratch directory, not the repo.
# Exits non-zero on the first crash, leak or timeout, leaving the input that caused it in build/fuzz.
#   scripts/fuzz.sh [SECONDS] [FUZZER...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
shift || true
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

fuzzers=("$@")
if [ ${#fuzzers[@]} -eq 0 ]; then
    fuzzers=(http_request_fuzz job_request_fuzz task_args_fuzz result_parser_fuzz pattern_fuzz
             line_view_fuzz config_fuzz acons_rpc_fuzz asexor_frame_fuzz asexor_message_fuzz
             wamp_session_fuzz long_poll_fuzz console_fuzz schedule_fuzz http_reply_fuzz)
fi
out=build/fuzz/runs
mkdir -p "$out"
for f in "${fuzzers[@]}"; do
    bin=build/fuzz/tests/fuzz/$f
    name=${f%_fuzz}
    corpus=tests/fuzz/corpus/$name
    regressions=tests/fuzz/regressions/$name
    scratch=$(mktemp -d)
    seeds=()
    for d in "$corpus" "$regressions"; do
        [ -d "$d" ] && seeds+=("$d")
    done
    echo "=== $f: ${seeds[*]:-no seeds}, then ${seconds}s"
    # Every saved input first: a past crash that comes back fails here, named.
    if [ ${#seeds[@]} -gt 0 ]; then
        "$bin" -runs=0 "${seeds[@]}" >"$out/$f.replay.log" 2>&1 ||
            { tail -40 "$out/$f.replay.log"; echo "fuzz: $f fails on a saved input"; exit 1; }
    fi
    (cd "$out" && "$OLDPWD/$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 "$scratch" "${seeds[@]/#/$OLDPWD/}" >"$f.log" 2>&1) ||
        { tail -60 "$out/$f.log"; echo "fuzz: $f found a problem (the input is in $out)"; exit 1; }
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$f.log" | tr '\n' ' '
    echo
    rm -rf "$scratch"
done
echo "fuzz: ${#fuzzers[@]} passed, 0 failed"
