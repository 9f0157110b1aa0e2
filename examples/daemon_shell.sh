#!/bin/sh
# daemon_shell.sh: driving `session-cli daemon` from a shell with socat (Unix socket) and curl
# (HTTP). See docs/daemon.md.
#   SOCK=/run/session/daemon.sock ./daemon_shell.sh send 05... "hello"
#   SOCK=/run/session/daemon.sock ./daemon_shell.sh listen
#   HTTP=127.0.0.1:8080 TOKEN_FILE=token ./daemon_shell.sh http-send 05... "hello"
#   HTTP=127.0.0.1:8080 TOKEN_FILE=token ./daemon_shell.sh http-events [SINCE]
set -eu
SOCK=${SOCK:-/run/session/daemon.sock}

# A JSON string literal of $1 (python3 for correct escaping; jq -Rs . works too).
json_string() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

case "${1:-}" in
send)
    printf '{"jsonrpc":"2.0","id":1,"method":"send","params":{"recipient":%s,"message":%s}}\n' \
        "$(json_string "$2")" "$(json_string "$3")" | socat -t 5 - "UNIX-CONNECT:$SOCK"
    ;;
listen)
    # Subscribes from seq 0 (everything retained) and prints each notification line as it comes.
    { printf '{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"since":0}}\n'; cat; } \
        | socat - "UNIX-CONNECT:$SOCK"
    ;;
http-send)
    curl -sS -H "Authorization: Bearer $(cat "$TOKEN_FILE")" -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"send\",\"params\":{\"recipient\":$(json_string "$2"),\"message\":$(json_string "$3")}}" \
        "http://$HTTP/api/v1/rpc"
    ;;
http-events)
    curl -sSN -H "Authorization: Bearer $(cat "$TOKEN_FILE")" "http://$HTTP/api/v1/events?since=${2:-0}"
    ;;
*)
    sed -n '2,8p' "$0" >&2
    exit 2
    ;;
esac
