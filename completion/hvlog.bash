# SPDX-License-Identifier: MIT
# bash completion for hvlog                                -*- shell-script -*-
#
# Installed as share/bash-completion/completions/hvlog (bash-completion
# loads it on first use); or `source` it.
#
# Nothing here names a command or an option. Everything offered is read
# from the program being completed, which prints its usage tables
# (src/cli/main.c commands[]): the commands from `hvlog --help`, a
# command's options and their values from `hvlog help CMD`. So a new
# command or option is completed as soon as its usage line names it, and
# tests/cli/completion.py checks that every usage line names exactly the
# long options its command's parser accepts (each longopts[] table).
#
# In a usage line, OPT WORD|WORD... offers the words as OPT's values
# (--format ctf|perfetto), OPT DIR|OUT|FILE|TRACE offers files, any other
# upper-case argument (N, HZ, T) nothing; operands are files, or the words
# of a [word|word] operand list (hvlog abi [calls|statuses|...]).

# _hvlog_usage PROG CMD: CMD's usage lines, without "usage:" and the summary.
_hvlog_usage()
{
    "$1" help "$2" 2>/dev/null | awk 'NR == 1 { sub(/^usage: /, ""); print; next } /^[ \t]/ { print; next } { exit }'
}

# _hvlog_commands PROG: the commands of `PROG --help`.
_hvlog_commands()
{
    "$1" --help 2>/dev/null | awk '/^commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }'
}

# _hvlog_words SPEC: the lower-case words of an argument spec "a|b|0..2".
_hvlog_words()
{
    local alt IFS='|'
    for alt in $1; do
        [[ $alt =~ ^[a-z0-9][a-z0-9-]*$ ]] && printf '%s\n' "$alt"
    done
}

# _hvlog_files SPEC CUR: file names when SPEC is a path metavariable.
_hvlog_files()
{
    local alt IFS='|'
    for alt in $1; do
        case $alt in
        DIR) compgen -d -- "$2"; return 0 ;;
        OUT | FILE | TRACE | PATH) compgen -f -- "$2"; return 0 ;;
        esac
    done
    return 1
}

_hvlog()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev= prog=${COMP_WORDS[0]} cmd= usage i
    local -a tokens
    local IFS=$'\n'

    COMPREPLY=()
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # --opt=value: bash splits it at '=' (COMP_WORDBREAKS) into --opt, =, value.
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
    fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$("$prog" --help 2>/dev/null | head -n 1 |
                grep -o -- '--[a-z][a-z0-9-]*')" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_hvlog_commands "$prog")" -- "$cur"))
        fi
        return 0
    fi
    usage=$(_hvlog_usage "$prog" "$cmd") || return 0
    [[ -n $usage ]] || return 0
    # Tokens, with each ']' kept as one: "[--json] TRACE" ends --json there.
    usage=${usage//\[/ }
    IFS=$' \t\n' read -r -d '' -a tokens <<< "${usage//\]/ ] }"
    # The value of an option: the token after it in the usage.
    if [[ $prev == -* ]]; then
        for ((i = 2; i < ${#tokens[@]}; i++)); do
            [[ ${tokens[i]} == -* ]] || continue
            local alt found=
            for alt in ${tokens[i]//|/$'\n'}; do
                [[ $alt == "$prev" ]] && found=1
            done
            [[ -n $found ]] || continue
            local spec=${tokens[i + 1]-}
            if [[ -n $spec && $spec != -* && $spec != '|' && $spec != ']' ]]; then
                COMPREPLY=($(compgen -W "$(_hvlog_words "$spec")" -- "$cur"))
                ((${#COMPREPLY[@]})) || COMPREPLY=($(_hvlog_files "$spec" "$cur"))
                return 0
            fi
            break # a flag: complete as usual
        done
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(printf '%s\n' "${tokens[@]}" | tr '|' '\n' |
            grep -xE -- '--?[a-zA-Z][a-z0-9-]*' | sort -u)" -- "$cur"))
        return 0
    fi
    # An operand: the words of an operand list, the commands for
    # `help [COMMAND]`, else files.
    local words= skip=0
    for ((i = 2; i < ${#tokens[@]}; i++)); do
        if ((skip)); then skip=0; continue; fi
        case ${tokens[i]} in
        -*)
            local next=${tokens[i + 1]-}
            [[ -n $next && $next != -* && $next != '|' && $next != ']' ]] && skip=1
            ;;
        ']' | '|') ;;
        COMMAND) words+=$'\n'$(_hvlog_commands "$prog") ;;
        *) words+=$'\n'$(_hvlog_words "${tokens[i]}") ;;
        esac
    done
    if [[ -n ${words//$'\n'/} ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    else
        type compopt &>/dev/null && compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
}
complete -F _hvlog hvlog
