# fish completion for qcc.
set -l top serve sim settings endpoint events checks key health status stats logs config backup restore-backup claude code migrate
complete -c qcc -f
complete -c qcc -n "not __fish_seen_subcommand_from $top" -a "$top"
complete -c qcc -n "__fish_seen_subcommand_from endpoint" -a "add list show set enable disable rm release quarantine"
complete -c qcc -n "__fish_seen_subcommand_from key" -a "create list set revoke"
complete -c qcc -n "__fish_seen_subcommand_from settings" -a "list get set"
complete -c qcc -n "__fish_seen_subcommand_from config" -a "export import"
complete -c qcc -n "__fish_seen_subcommand_from claude" -a "apply restore"
complete -c qcc -l listen -d "host:port of the server"
complete -c qcc -l config -d "config file" -r
complete -c qcc -l token -d "admin token"
complete -c qcc -l json -d "JSON output"
complete -c qcc -l color -x -a "auto always never" -d "colour the tables"
