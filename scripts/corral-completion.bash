# bash completion for corral. Load it with: source scripts/corral-completion.bash
_corral() {
    local cur=${COMP_WORDS[COMP_CWORD]}
    local commands="run submit ls show tail kill wait stdin tasks queue audit svc console exec version help"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return
    fi
    local cmd=${COMP_WORDS[1]}
    local common="--help --json --socket --url --token --token-file --cacert"
    local job="--shell --cwd --env --unset --clear-env --stdin --timeout --stop-plan --merge --pty --output-cap --cap-policy --label --key --priority --task"
    case "$cmd" in
        run) opts="$common $job --on-interrupt" ;;
        submit) opts="$common $job" ;;
        ls) opts="$common --state --owner --label --last" ;;
        show) opts="$common --field" ;;
        tail) opts="$common --follow --from" ;;
        kill) opts="$common --signal --stop-plan" ;;
        wait) opts="$common --all --timeout --quiet" ;;
        stdin) opts="$common --close" ;;
        tasks) opts="$common --names" ;;
        queue) opts="$common --drain --resume" ;;
        audit) opts="$common --job --last" ;;
        svc) opts="$common --follow --close" ;;
        console) opts="--help --socket --connect --token --token-file" ;;
        *) opts="" ;;
    esac
    case "${COMP_WORDS[COMP_CWORD - 1]}" in
        --state) COMPREPLY=($(compgen -W "queued running succeeded failed killed timed_out lost" -- "$cur")); return ;;
        --on-interrupt) COMPREPLY=($(compgen -W "ask kill detach" -- "$cur")); return ;;
        --cap-policy) COMPREPLY=($(compgen -W "keep-newest stop" -- "$cur")); return ;;
        --stdin) COMPREPLY=($(compgen -W "none pipe" -f -- "$cur")); return ;;
        --cwd | --socket | --token-file | --cacert) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --task) COMPREPLY=($(compgen -W "$(corral tasks --names 2>/dev/null)" -- "$cur")); return ;;
    esac
    if [ "$cmd" = svc ] && [ "$COMP_CWORD" -eq 2 ]; then
        COMPREPLY=($(compgen -W "ls show start stop restart stdin tail" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ " ${COMP_WORDS[*]} " == *" --task "* ]]; then
        return  # a task's KEY=VALUE arguments: `corral tasks` lists them
    elif [ "$cmd" = run ] || [ "$cmd" = submit ] || [ "$cmd" = exec ]; then
        COMPREPLY=($(compgen -c -- "$cur"))
    fi
}
complete -F _corral corral
