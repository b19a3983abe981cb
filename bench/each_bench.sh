#!/usr/bin/env bash
# Whole-program comparison: N `true` jobs submitted with `corral submit --each` (one line each, the
# CLI building the jobs and posting them 1000 at a time) against the same N posted straight to the
# batch API, 1000 a request, by one Python client on one kept-alive connection (the API's own
# rate: its bodies are made before the clock starts), in one run with interleaved rounds. corrald is in drain mode,
# so both measure submission (parse, check, record, commit, reply), not the jobs' runs. Also: a
# finished job with N dependents waiting on it, released (bench/sched_bench.cpp has the core-time
# figure). Prints a Markdown table; ratios, not absolute times.
#   CORRAL_BIN=build/release/apps N=10000 ROUNDS=3 bash bench/each_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${CORRAL_BIN:-$root/build/release/apps}
n=${N:-10000}
rounds=${ROUNDS:-3}
chunk=1000
scratch=$(mktemp -d)
trap 'p=$(cat "$scratch/pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; wait; rm -rf "$scratch"' EXIT

cat >"$scratch/corral.toml" <<TOML
[pod]
state_dir = "$scratch/state"
log_level = "warn"
[jobs]
concurrency = 2
max_queued = 1000000
[[http]]
label = "cli"
listen = "unix:$scratch/corral.sock"
TOML
"$bin/corrald/corrald" run -c "$scratch/corral.toml" 2>"$scratch/log" &
echo $! >"$scratch/pid"
for _ in $(seq 500); do [ -S "$scratch/corral.sock" ] && break; sleep 0.01; done
export CORRAL_SOCKET=$scratch/corral.sock
"$bin/corral/corral" queue --drain >/dev/null

seq 1 "$n" >"$scratch/lines"
for ((c = 0; c < n / chunk; c++)); do
    { printf '{"jobs": ['; for ((i = 0; i < chunk; i++)); do printf '%s{"command": ["true", "%d"]}' "$([ $i -gt 0 ] && echo ,)" $((c * chunk + i)); done; printf ']}'; } >"$scratch/batch-$c.json"
done

api=() each=()
for ((r = 0; r < rounds; r++)); do
    api+=("$(/usr/bin/python3 - "$scratch" $((n / chunk)) "$n" <<'PY'
import http.client, socket, sys, time
scratch, chunks, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(scratch + "/corral.sock")
bodies = [open(f"{scratch}/batch-{c}.json", "rb").read() for c in range(chunks)]
conn = Unix("localhost")
t0 = time.perf_counter()
for body in bodies:
    conn.request("POST", "/api/v1/jobs/batch", body, {"Content-Type": "application/json"})
    reply = conn.getresponse()
    reply.read()
    assert reply.status == 201, reply.status
print(n / (time.perf_counter() - t0))
PY
)")
    t0=$EPOCHREALTIME  # bash's own clock: a `date` process would add its fork and exec to the CLI's time
    "$bin/corral/corral" submit --each --from "$scratch/lines" -- true {} >/dev/null
    t1=$EPOCHREALTIME
    each+=("$(echo "$n / ($t1 - $t0)" | bc -l)")
done
echo "| round | batch API (one client) jobs/s | corral submit --each jobs/s | ratio |"
echo "|---|---|---|---|"
for ((r = 0; r < rounds; r++)); do
    printf '| %d | %.0f | %.0f | %.2f |\n' "$r" "${api[r]}" "${each[r]}" "$(echo "${each[r]} / ${api[r]}" | bc -l)"
done
