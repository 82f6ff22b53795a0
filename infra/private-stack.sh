# Sourced by infra/load.sh and infra/fuzz.sh: starts `make dev`'s binary (the debug build) on a
# free port with its own DynamoDB server (not one named by the caller's environment), table and
# support agent, and stops it when the script exits.
#   start_private_stack TABLE AGENT_EMAIL
# sets: port, password (the agent's, fresh), work (a temporary directory holding api.log),
# api_pid. The caller waits for the stack as it needs (the banner, or a sign-in).

start_private_stack() {
  local table=$1 email=$2
  port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  password=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(18))')
  work=$(mktemp -d)
  trap stop_private_stack EXIT
  env -u AWS_ENDPOINT_URL_DYNAMODB PORT="$port" TABLE_NAME="$table" \
    LOCAL_ADMIN_EMAIL="$email" LOCAL_ADMIN_PASSWORD="$password" \
    RUST_LOG=error "${CARGO_TARGET_DIR:-target}/debug/local-api" >"$work/api.log" 2>&1 &
  api_pid=$!
}

stop_private_stack() {
  # SIGTERM: the stack stops the DynamoDB server it started.
  [[ -n ${api_pid:-} ]] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
  rm -rf "$work"
}
