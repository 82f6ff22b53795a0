#!/usr/bin/env bash
# Every command the docs name runs to the end, as a newcomer would run it on a built clone:
#   make dev        starts, serves the API (stage path and root) and the dashboard, and Ctrl-C
#                   stops it and the DynamoDB server it started;
#   make load       a short run (LOAD_CHATS=4, LOAD_DURATION=10s) with push on both sides and
#                   every socket replaced every 15 s of chat time: exits 0, nothing lost or
#                   repeated across reconnects (polling is run by infra/loadgen/tests/local_stack.rs);
#   make bench      in its short mode (BENCH_SHORT=1: debug build, every function started once
#                   with its trigger's event, every handler bench run once);
#   make sam-build  SAM CLI's own build of one function (SAM_BUILD_FUNCTION, default
#                   HealthFunction): the template's build metadata works with `sam build`.
# `make test` is this run itself, and `make fuzz` runs infra/fuzz.sh, which `make test` runs.
# Prints one line per command and, last, `commands: N passed, M failed`.
set -uo pipefail
cd "$(dirname "$0")/../.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
passed=0 failed=0

report() { # name status seconds
  local name=$1 status=$2 seconds=$3
  if [[ $status -eq 0 ]]; then
    passed=$((passed + 1)); echo "ok: $name (${seconds} s)"
  else
    failed=$((failed + 1)); echo "FAILED: $name (exit $status, ${seconds} s); its last lines:"
    tail -n 30 "$logs/$name.log" | sed 's/^/    /'
  fi
}

run() { # name command...
  local name=$1 started=$SECONDS status
  shift
  "$@" >"$logs/$name.log" 2>&1
  status=$?
  report "$name" "$status" $((SECONDS - started))
}

free_port() {
  .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make dev in its own process group, as a terminal runs it; Ctrl-C is SIGINT to the group.
check_make_dev() {
  local port log=$logs/make-dev.log dynamodb status=0
  port=$(free_port)
  env -u AWS_ENDPOINT_URL_DYNAMODB PORT="$port" TABLE_NAME=commands-check setsid make dev >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 1200); do
    grep -q '^Ctrl-C stops everything' "$log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  grep -q '^Ctrl-C stops everything' "$log" || { echo "make dev did not come up"; status=1; }
  dynamodb=$(sed -n 's/^DynamoDB endpoint: //p' "$log" | head -n 1)
  if [[ $status -eq 0 ]]; then
    for path in /v1/api/health /api/health /v1/admin /admin; do
      code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
      echo "GET $path -> $code"
      [[ $code == 200 ]] || status=1
    done
  fi
  kill -INT -- "-$pid" 2>/dev/null
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "make dev was still running 30 s after Ctrl-C"; kill -KILL -- "-$pid" 2>/dev/null; status=1
  fi
  wait "$pid" 2>/dev/null
  if [[ -n $dynamodb ]] && curl -s -o /dev/null --max-time 2 "$dynamodb"; then
    echo "the DynamoDB server make dev started ($dynamodb) still answers after Ctrl-C"; status=1
  fi
  return $status
}

started=$SECONDS
check_make_dev >>"$logs/make-dev.log" 2>&1
report make-dev $? $((SECONDS - started))
run make-load env LOAD_CHATS=4 LOAD_DURATION=10s LOAD_TIME_SCALE=6 LOAD_PUSH=both LOAD_PUSH_RECONNECT=15s LOAD_REPORT="$logs/load.json" make load
run make-bench env BENCH_SHORT=1 make bench
run make-sam-build env SAM_BUILD_FUNCTION="${SAM_BUILD_FUNCTION:-HealthFunction}" make sam-build
echo "commands: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
