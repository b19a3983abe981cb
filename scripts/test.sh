#!/usr/bin/env bash
# Installs what corral needs, builds it and runs the whole test suite twice: under AddressSanitizer +
# UndefinedBehaviorSanitizer, then optimised (which also builds the benchmarks and the example, and
# checks that the installed library works through find_package). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# CI builds a fresh clone at a new path each time: relative paths and no directory hashing let ccache
# reuse earlier compilations anyway.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime

# The cgroup halves of the process tests must run wherever cgroup v2 exists (they skip elsewhere).
if grep -qs " - cgroup2 " /proc/self/mountinfo; then
    export CORRAL_REQUIRE_CGROUP=1
fi

for preset in asan release; do
    echo "=== $preset: configure and build"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset"
    echo "=== $preset: test"
    ctest --preset "$preset"
done

echo "=== installed package"
bash scripts/check-install.sh build/release

echo "=== fuzzers: saved inputs, then 20 s each"
bash scripts/fuzz.sh 20
