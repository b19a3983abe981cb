#!/usr/bin/env bash
# Installs the Debian 12 packages corral needs to build, test and benchmark.
# Idempotent and non-interactive: safe to run again; it only installs what is missing.
set -euo pipefail

packages=(
    # toolchain
    g++ cmake ninja-build ccache
    # libraries (DESIGN.md §6)
    libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
    libfmt-dev libspdlog-dev
    libboost-url1.81-dev libssl-dev libtomlplusplus-dev libsqlite3-dev
    libre2-dev pkgconf
    libcbor-dev             # ASEXOR's raw socket speaks CBOR
    libedit-dev             # line editing and history in `corral console`
    # tests and benchmarks
    libgtest-dev libgmock-dev libbenchmark-dev
    clang libclang-rt-14-dev   # libFuzzer and the sanitizers' runtimes for scripts/fuzz.sh
    curl openssl            # real HTTP/TLS clients and certificates in the integration tests
    chromium                # a real browser: the cross-origin and rebinding tests, the web page's tests
    gzip                    # the web page's compressed copies (web/CMakeLists.txt)
    task-spooler parallel   # peers in the shared benchmark harness (bench/peers.sh)
    python3 python3-websockets python3-autobahn python3-cbor2   # third-party clients of ASEXOR's protocols and WAMP (tests/interop)
)

# Node.js runs npm (the web page's modules) and the browser tests; a machine that has it already
# (any version from 18 on) keeps its own.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
else
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web page's modules (xterm.js) and its test drivers (playwright-core, axe-core), exactly as
# web/package-lock.json pins them; no browser is downloaded (the tests use Debian's chromium).
web="$(dirname "$0")/../web"
if ! cmp -s "$web/package-lock.json" "$web/node_modules/.corral-lock" 2>/dev/null; then
    echo "install-deps: npm ci in web/"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$web/package-lock.json" "$web/node_modules/.corral-lock"
fi
echo "install-deps: done"
