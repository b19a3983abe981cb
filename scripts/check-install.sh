#!/usr/bin/env bash
# Installs libcorral from a build tree into a scratch prefix and builds examples/ against it with
# find_package(corral), the way an embedding program would, then runs the result.
set -euo pipefail
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$root/examples" -B "$scratch/build" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$scratch/build" >/dev/null
output=$("$scratch/build/embed_jobs")
echo "$output"
grep -q "all 3 jobs finished" <<<"$output"
echo "check-install: find_package(corral) and corral::corral work"
