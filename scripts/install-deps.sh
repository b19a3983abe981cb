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
    # tests and benchmarks
    libgtest-dev libgmock-dev libbenchmark-dev
    clang libclang-rt-14-dev   # libFuzzer and the sanitizers' runtimes for scripts/fuzz.sh
    curl openssl            # real HTTP/TLS clients and certificates in the integration tests
    chromium                # a real browser for the cross-origin and rebinding tests
    task-spooler parallel   # peers in the shared benchmark harness (bench/peers.sh)
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
