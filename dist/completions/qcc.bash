# bash completion for qcc (installed into bash-completion's completions directory).
_qcc() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]}
  local top="serve sim settings endpoint events checks key health status stats logs config backup restore-backup claude code migrate"
  if (( COMP_CWORD == 1 )); then
    COMPREPLY=($(compgen -W "$top --help --version" -- "$cur")); return
  fi
  if (( COMP_CWORD == 2 )); then
    case $cmd in
      endpoint) COMPREPLY=($(compgen -W "add list show set enable disable rm release quarantine" -- "$cur")); return ;;
      key) COMPREPLY=($(compgen -W "create list set revoke" -- "$cur")); return ;;
      settings) COMPREPLY=($(compgen -W "list get set" -- "$cur")); return ;;
      config) COMPREPLY=($(compgen -W "export import" -- "$cur")); return ;;
      claude) COMPREPLY=($(compgen -W "apply restore" -- "$cur")); return ;;
    esac
  fi
  [[ $cmd == migrate ]] && { COMPREPLY=($(compgen -W "--from --to --config --help" -- "$cur")); return; }
  COMPREPLY=($(compgen -W "--help --listen --config --token --json --color" -- "$cur"))
}
complete -F _qcc qcc
