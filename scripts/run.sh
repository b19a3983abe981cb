#!/usr/bin/env bash
# Installs what corral needs, builds it (optimised) and starts the daemon, corrald, on its built-in
# defaults: HTTP on 127.0.0.1:8470 and the CLI's Unix socket in the state directory. Ctrl-C stops it
# gracefully (a second Ctrl-C stops it at once).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target corrald corral_cli corral_web

bin=$PWD/build/release/apps
cat <<MSG

corrald is starting with its defaults (no config file; see docs/config.md).
  Web page:        http://127.0.0.1:8470/   (docs/webui.md) -- open the link corrald prints
                   below: it carries the admin token, which the page keeps for that tab only
  API and health:  http://127.0.0.1:8470/healthz   (REST under /api/v1, docs/protocol.md)
  Token:           every TCP request needs one; $bin/corrald/corrald token prints the admin
                   token again, to paste into the page's login form (docs/security.md)
  CLI:             $bin/corral/corral run -- echo hello
                   $bin/corral/corral ls
  The CLI finds the daemon through its Unix socket (the "cli" line below says where).

MSG
exec "$bin/corrald/corrald" run
