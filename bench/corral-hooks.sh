#!/usr/bin/env bash
# The shared peer harness's OURS_* hooks for corral (../shared/bench/README.md): a private corrald
# with its own state directory and socket. Used by bench/peers.sh.
#   corral-hooks.sh start         start a fresh corrald; return once it answers on its socket
#   corral-hooks.sh slots N       restart it with concurrency N (there is no runtime knob yet)
#   corral-hooks.sh stop          stop it and drop its queue
#   corral-hooks.sh pid           print its pid
set -euo pipefail
bin=${CORRAL_BIN:?set CORRAL_BIN to the directory with corrald/ and corral/}
dir=${CORRAL_BENCH_DIR:-${TMPDIR:-/tmp}/corral-bench-$UID}
export CORRAL_SOCKET=$dir/corral.sock

start() {
    local slots=${1:-0}
    mkdir -p "$dir"
    cat >"$dir/corral.toml" <<TOML
[pod]
state_dir = "$dir/state"
stop_wait = "1s"
log_level = "warn"
[jobs]
concurrency = $slots
max_finished = 100000
[[http]]
label = "cli"
listen = "unix:$CORRAL_SOCKET"
TOML
    "$bin/corrald/corrald" run -c "$dir/corral.toml" 2>>"$dir/corrald.log" &
    echo $! >"$dir/pid"
    for _ in $(seq 500); do
        "$bin/corral/corral" ls >/dev/null 2>&1 && return 0
        sleep 0.01
    done
    echo "corrald did not start; see $dir/corrald.log" >&2
    return 1
}

stop() {
    [ -f "$dir/pid" ] || return 0
    local pid
    pid=$(cat "$dir/pid")
    kill -TERM "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true  # second signal: stop now
    for _ in $(seq 500); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    slots) stop; start "$2" ;;
    stop) stop ;;
    pid) cat "$dir/pid" ;;
    *) echo "usage: $0 start|slots N|stop|pid" >&2; exit 2 ;;
esac
