# SPDX-License-Identifier: ISC
#
# bash completion for tiktok-mirror. `make install` puts it in
# $(PREFIX)/share/bash-completion/completions/tiktok-mirror, where
# bash-completion loads it on first use.
#
# The commands and their options come from the program's own help
# (`tiktok-mirror --help`, `tiktok-mirror help COMMAND`), and account names
# from `status --json` (read-only, never the network), so this file never
# goes stale. A -c/--config given on the line is honoured.

_tiktok_mirror_accounts()
{
	# $1: "accounts" (configured) or "unconfigured" (in the mirror only).
	local json
	json=$("$_tm_prog" "${_tm_cfg[@]}" status --json 2>/dev/null)
	if [[ $1 == unconfigured ]]; then
		json=${json##*\"unconfigured\": [}
		json=${json%%]*}
		tr -d '", ' <<<"${json//,/$'\n'}"
	else
		sed -n 's/^ *{"name":"\([A-Za-z0-9_-]*\)".*/\1/p' <<<"$json"
	fi
}

_tiktok_mirror_commands()
{
	"$_tm_prog" --help 2>/dev/null |
		sed -n '/^commands:/,/^$/s/^  \([a-z]\+\).*/\1/p' | sort -u
}

_tiktok_mirror()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	local _tm_prog=${words[0]} _tm_cfg=() cmd= i w
	local global="-c --config -v --verbose -q --quiet -h --help -V --version"

	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		-c | --config)
			_tm_cfg=(-c "${words[i + 1]}")
			((i++))
			;;
		--config=*) _tm_cfg=(-c "${w#--config=}") ;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=$w
			fi
			;;
		esac
	done

	case $prev in
	-c | --config)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--out)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--format)
		COMPREPLY=($(compgen -W "json ndjson csv atom sqlite" -- "$cur"))
		return
		;;
	--before | --start | --quantity | --limit | --date-format | \
		--history | --redirect-url | --code)
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global" -- "$cur"))
		else
			local cmds
			cmds=$(_tiktok_mirror_commands)
			COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		fi
		return
	fi

	if [[ $cur == -* ]]; then
		local opts
		opts=$("$_tm_prog" help "$cmd" 2>/dev/null |
			grep -o -- '--[a-z][a-z-]*' | grep -vx -- --version |
			sort -u)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	case $cmd in
	sync | auth | revoke | videos | export)
		COMPREPLY=($(compgen -W "$(_tiktok_mirror_accounts accounts)" \
			-- "$cur"))
		;;
	forget)
		COMPREPLY=($(compgen -W \
			"$(_tiktok_mirror_accounts unconfigured)" -- "$cur"))
		;;
	help)
		COMPREPLY=($(compgen -W "$(_tiktok_mirror_commands)" -- "$cur"))
		;;
	esac
}

complete -F _tiktok_mirror tiktok-mirror
