#!/usr/bin/env bash
# Installs libcorral from a build tree into a scratch prefix and builds examples/ against it with
# find_package(corral), the way an embedding program would, then runs the result.
set -euo pipefail
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
# The embedder's headers and nothing of the daemon's (their code is not in libcorral).
for part in net proto pod store auth/authority.hpp; do
    if [ -e "$scratch/prefix/include/corral/$part" ]; then
        echo "check-install: include/corral/$part is installed, but libcorral has none of its code" >&2
        exit 1
    fi
done
# Every installed header compiles on its own include path (none reaches for a header left out).
headers=$(cd "$scratch/prefix/include" && find corral -name '*.hpp' | sort)
[ -n "$headers" ] || { echo "check-install: no headers installed" >&2; exit 1; }
for h in $headers; do echo "#include \"$h\""; done >"$scratch/all_headers.cpp"
${CXX:-c++} -std=c++20 -fsyntax-only -DBOOST_ASIO_SEPARATE_COMPILATION -DBOOST_ASIO_NO_DEPRECATED \
    -I"$scratch/prefix/include" "$scratch/all_headers.cpp"
echo "check-install: $(wc -l <<<"$headers") headers, each from the installed tree alone"
cmake -S "$root/examples" -B "$scratch/build" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$scratch/build" >/dev/null
output=$("$scratch/build/embed_jobs")
echo "$output"
grep -q "all 3 jobs finished" <<<"$output"
output=$("$scratch/build/embed_service")
echo "$output"
grep -q "4 jobs finished, 1 failed" <<<"$output"
output=$("$scratch/build/named_processes")
echo "$output"
grep -q "2 named processes, both stopped" <<<"$output"
echo "check-install: find_package(corral) and corral::corral work"

# The example plugins are installed beside libcorral, and the ones just built against the installed
# headers alone (corral::plugin) load into the installed corrald.
for plugin in heartbeat echo_server spool_worker; do
    [ -f "$scratch/prefix/lib/corral/plugins/libcorral_$plugin.so" ] || [ -f "$scratch/prefix/lib64/corral/plugins/libcorral_$plugin.so" ] || {
        echo "check-install: the $plugin plugin is not installed" >&2; exit 1; }
    [ -f "$scratch/build/lib/corral/plugins/libcorral_$plugin.so" ] || {
        echo "check-install: the $plugin plugin did not build against the installed corral" >&2; exit 1; }
done

# `corral` is a small front that runs the full client installed beside it (libexec/corral), wherever
# the prefix was moved to.
[ -x "$scratch/prefix/libexec/corral/corral-client" ] || {
    echo "check-install: libexec/corral/corral-client is not installed" >&2; exit 1; }
"$scratch/prefix/bin/corral" --version | grep -q '^corral ' || {
    echo "check-install: the installed corral does not run its full client" >&2; exit 1; }
mkdir -p "$scratch/moved/bin" "$scratch/moved/libexec/corral"
cp "$scratch/prefix/bin/corral" "$scratch/moved/bin/"
printf '#!/bin/sh\necho moved-client "$@"\n' >"$scratch/moved/libexec/corral/corral-client"
chmod +x "$scratch/moved/libexec/corral/corral-client"
[ "$(env -u CORRAL_CLIENT "$scratch/moved/bin/corral" ls --json)" = "moved-client ls --json" ] || {
    echo "check-install: a moved corral does not run the client beside it" >&2; exit 1; }
echo "check-install: the installed corral runs the full client installed beside it"

# corrald and its web page: the installed daemon serves the installed page, with no configuration
# but a listener and two plugins: an installed one by name, and one built above by path.
cat >"$scratch/corral.toml" <<TOML
[pod]
state_dir = "$scratch/state"
[[http]]
label = "web"
listen = "127.0.0.1:0"
[[component]]
plugin = "libcorral_heartbeat.so"
label = "beat"
path = "$scratch/beat.log"
interval = "50ms"
[[component]]
plugin = "$scratch/build/lib/corral/plugins/libcorral_echo_server.so"
label = "echo"
listen = "127.0.0.1:0"
TOML
"$scratch/prefix/bin/corrald" run -c "$scratch/corral.toml" >"$scratch/corrald.out" 2>"$scratch/corrald.log" &
corrald_pid=$!
trap 'kill $corrald_pid 2>/dev/null; wait $corrald_pid 2>/dev/null; rm -rf "$scratch"' EXIT
port=
for _ in $(seq 500); do
    port=$(sed -n 's|.*(web) started: http://127.0.0.1:\([0-9]*\).*|\1|p' "$scratch/corrald.log")
    [ -n "$port" ] && break
    sleep 0.02
done
[ -n "$port" ] || { echo "check-install: the installed corrald did not start:" >&2; cat "$scratch/corrald.log" >&2; exit 1; }
grep -q "the web page: $scratch/prefix/share/corral/web" "$scratch/corrald.log" || {
    echo "check-install: the installed corrald does not serve the installed page:" >&2; cat "$scratch/corrald.log" >&2; exit 1; }
curl -sf "http://127.0.0.1:$port/" | grep -q '<title>corral</title>'
curl -sf -o /dev/null "http://127.0.0.1:$port/vendor/xterm.mjs"
echo "check-install: the installed corrald serves the installed web page"
grep -q "(beat) started: a heartbeat in $scratch/beat.log" "$scratch/corrald.log" || {
    echo "check-install: the installed plugin did not start:" >&2; cat "$scratch/corrald.log" >&2; exit 1; }
echo_port=$(sed -n 's|.*(echo) started: echo server on 127.0.0.1:\([0-9]*\).*|\1|p' "$scratch/corrald.log")
exec 3<>"/dev/tcp/127.0.0.1/$echo_port"
echo "through a plugin built against the installed headers" >&3
read -r -t 10 echoed <&3
exec 3<&-
[ "$echoed" = "through a plugin built against the installed headers" ] || {
    echo "check-install: the echo plugin answered '$echoed'" >&2; exit 1; }
echo "check-install: the installed plugins load by name, and one built against the installed headers by path"
