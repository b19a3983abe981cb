#!/usr/bin/env bash
# Runs the `sh` examples of docs/protocol.md, in order, against a fresh corrald, as a reader would
# paste them. Each `api ...` command must answer with the status its comment names (`# 409 ...`,
# on its line or the comment lines under it), or 2xx when it names none; where the comment shows a
# JSON reply, the reply must have the comment's first key and every `"key": scalar` pair it shows
# (except values shown as "...": a shape). Blocks marked `<!-- not run: why -->` just above are
# skipped.
#   usage: protocol_examples.sh CORRALD DOC
set -euo pipefail
corrald=$1
doc=$2
scratch=$(mktemp -d)
trap 'p=$(cat "$scratch/pid" 2>/dev/null) && kill -TERM "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; wait; rm -rf "$scratch"' EXIT

cat >"$scratch/corral.toml" <<TOML
[pod]
state_dir = "$scratch/state"
[jobs]
concurrency = 4
[[http]]
label = "web"
listen = "127.0.0.1:0"
[[task]]
name = "date"
description = "The date and time, formatted (date +FORMAT)"
command = ["date", "{utc}", "{format}"]
result = "text"
timeout = "5s"
[[task.args]]
name = "format"
prefix = "+"
default = "%d-%m-%Y %H:%M %Z"
[[task.args]]
name = "utc"
type = "bool"
style = "switch"
flag = "-u"
default = false
[[task]]
name = "sleep"
description = "Sleeps for a number of seconds"
command = ["sleep"]
[[task.args]]
name = "seconds"
type = "float"
required = true
min = 0
max = 3600
[[service]]
name = "echo"
description = "Echoes what it is sent"
command = ["cat"]
autostart = false
TOML
"$corrald" run -c "$scratch/corral.toml" 2>"$scratch/log" &
echo $! >"$scratch/pid"
port=
for _ in $(seq 1000); do
    port=$(sed -n 's|.*(web) started: http://127.0.0.1:\([0-9]*\).*|\1|p' "$scratch/log")
    [ -n "$port" ] && break
    sleep 0.01
done
[ -n "$port" ] || { echo "corrald did not start:" >&2; cat "$scratch/log" >&2; exit 1; }
# The docs' own first step: corrald token prints the admin token (here for this corrald's config).
TOKEN=$("$corrald" token -c "$scratch/corral.toml")
[ "$TOKEN" = "$(cat "$scratch/state/admin.token")" ] || { echo "corrald token printed the wrong token" >&2; exit 1; }

# The docs' api(), writing the status and the body where the checks below read them.
api() {
    curl -s -o "$scratch/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        -H "Content-Type: ${TYPE:-application/json}" "$@" >"$scratch/status"
}

failures=0
ran=0
fail() {
    echo "FAIL: $1" >&2
    echo "  command: $2" >&2
    echo "  status:  $(cat "$scratch/status" 2>/dev/null)" >&2
    echo "  reply:   $(head -c 600 "$scratch/body" 2>/dev/null)" >&2
    failures=$((failures + 1))
}

# Checks the reply of `command` against `comment` (the text after '#', all of its lines).
check() {
    local command=$1 comment=$2 status want rest key pair
    status=$(cat "$scratch/status")
    rest=$(sed -E 's/^[[:space:]]*//' <<<"$comment")
    want=$(grep -oE '^[0-9]{3}\b' <<<"$rest" || true)
    if [ -n "$want" ]; then
        [ "$status" = "$want" ] || { fail "expected status $want" "$command"; return; }
        rest=$(sed -E 's/^[0-9]{3}[^{]*//' <<<"$rest")
    elif [[ ! $status =~ ^2 ]]; then
        fail "expected a 2xx status" "$command"
        return
    fi
    [[ $rest == "{"* ]] || return 0
    key=$(grep -oE '^\{"[a-z_]+"' <<<"$rest" | tr -d '{')
    if [ -n "$key" ] && ! grep -q "$key" "$scratch/body"; then
        fail "the reply has no $key" "$command"
        return
    fi
    # Every "key": scalar pair shown (a number, true/false/null, a string) is in the reply as shown,
    # except those shown as "..." (a shape, not a value).
    while read -r pair; do
        [ -n "$pair" ] || continue
        [[ $pair == *'"...'* ]] && continue
        if ! grep -qF "$(sed -E 's/": /":/' <<<"$pair")" "$scratch/body"; then
            fail "the reply does not have $pair" "$command"
            return
        fi
    done < <(grep -oE '"[a-z_]+": ("[^"]*"|-?[0-9.]+|true|false|null)' <<<"$rest")
}

run() {
    local command=$1 comment=$2
    [ -n "$command" ] || return 0
    ran=$((ran + 1))
    command=${command//localhost:8470/localhost:$port}
    echo "+ $command"
    rm -f "$scratch/status" "$scratch/body"
    if ! eval "$command"; then
        fail "curl failed" "$command"
        return
    fi
    check "$command" "$comment"
}

# The sh blocks, in order, each line once; `<!-- not run: ... -->` before a block skips it.
command=
comment=
in_block=0
skip=0
continued=
while IFS= read -r line; do
    if [[ $line == '<!-- not run:'* ]]; then
        skip=1
        continue
    fi
    if [ $in_block -eq 0 ]; then
        if [[ $line == '```sh' ]]; then
            in_block=1
        elif [[ $line == '```'* ]]; then
            in_block=2
        elif [ -n "$line" ]; then
            skip=0
        fi
        continue
    fi
    if [[ $line == '```' ]]; then
        [ $in_block -eq 1 ] && [ $skip -eq 0 ] && run "$command" "$comment"
        command= comment= in_block=0 skip=0
        continue
    fi
    [ $in_block -eq 1 ] && [ $skip -eq 0 ] || continue
    if [ -n "$continued" ]; then
        command+=" ${line%\\}"
        [[ $line == *'\' ]] || continued=
        continue
    fi
    if [[ $line =~ ^[[:space:]]*# ]]; then
        comment+=" ${line#*#}"
        continue
    fi
    # A new command: the previous one runs with the comments that followed it.
    run "$command" "$comment"
    command= comment=
    case $line in
        TOKEN=* | api\(\)*) continue ;;  # the docs' set-up: done above, for this corrald
    esac
    if [[ $line == *'\' ]]; then
        command=${line%\\}
        continued=1
        continue
    fi
    # A comment after the command, on its line (not a '#' inside quotes: the examples have none).
    if [[ $line == *' # '* ]]; then
        command=${line%% # *}
        comment=${line#* # }
    else
        command=$line
    fi
done <"$doc"

echo "protocol examples: $ran command(s) run, $failures failed"
[ "$ran" -gt 20 ] || { echo "too few examples found in $doc" >&2; exit 1; }
[ "$failures" -eq 0 ]
