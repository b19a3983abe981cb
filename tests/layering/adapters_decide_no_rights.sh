#!/usr/bin/env bash
# Adapters translate; the job service decides. No file under src/proto or src/net may check a right,
# compare owners, read a role, ask whether the service is durable or reach the store: those
# questions are answered by services/ (job_service's *_as calls, services/job_access, and
# submit_as waiting for the commit), so every protocol answers alike.
# Usage: adapters_decide_no_rights.sh SOURCE_DIR
set -euo pipefail
root=${1:?usage: $0 SOURCE_DIR}
pattern='check_(submit|see|control|admin)\b|sees_all|job_access\.hpp|role->|\bowner *[!=]=|[!=]= *[A-Za-z_>.-]*owner\b|durable\(\)|may_run_task|corral/store/|sqlite_store|job_journal|\.flush\(\)|committed\('
if hits=$(grep -rnE "$pattern" "$root/src/proto" "$root/src/net" "$root/include/corral/proto" "$root/include/corral/net"); then
    echo "an adapter decides a right or a durability question itself (move it into services/):" >&2
    echo "$hits" >&2
    exit 1
fi
# The check is only worth something if the pattern still matches what it is meant to catch.
probe=$(mktemp)
trap 'rm -f "$probe"' EXIT
printf '%s\n' 'if (!services::check_see(me, *j))' 'if (j->owner != me.user)' 'who.role->admin' \
    'co_await service_.committed(ids);' '#include "corral/store/sqlite_store.hpp"' > "$probe"
if [ "$(grep -cE "$pattern" "$probe")" != 5 ]; then
    echo "the pattern no longer catches the checks it is meant to catch" >&2
    exit 1
fi
echo "no adapter decides a right"
