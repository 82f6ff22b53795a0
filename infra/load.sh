#!/usr/bin/env bash
# `make load`: `make dev`'s binary (debug build, as `make dev` runs it) on a free port with its
# own DynamoDB server, table and a known support agent; loadgen against it under the stage path;
# then the stack is stopped. Prints loadgen's summary and writes its JSON report.
# Settings: LOAD_CHATS (20), LOAD_DURATION (90s), LOAD_TIME_SCALE (2): what the local stack
# carries on 2 shared cores without answering 503 (docs/performance/partition-load.md),
# LOAD_REPORT (target/load-report.json); LOAD_PUSH=agents|customers|both (who uses the push
# channel instead of timers; unset: nobody, as today) and LOAD_PUSH_RECONNECT (e.g. 20s: every
# push socket replaced that often, chat time); extra arguments go to loadgen.
set -uo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh server >/dev/null
cargo build --quiet -p local-api -p loadgen || exit 1
target_dir=${CARGO_TARGET_DIR:-target}
report=${LOAD_REPORT:-$target_dir/load-report.json}

source infra/private-stack.sh
start_private_stack support-chat-load load-agent@localhost
# Its banner ends once the API listens.
for _ in $(seq 1 600); do
  grep -q '^Ctrl-C stops everything' "$work/api.log" && break
  kill -0 "$api_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^Ctrl-C stops everything' "$work/api.log"; then
  cat "$work/api.log"
  echo "the local API did not start"
  exit 1
fi

push_args=()
case "${LOAD_PUSH:-}" in
  "") ;;
  agents) push_args=(--push-agents) ;;
  customers) push_args=(--push-customers) ;;
  both) push_args=(--push-agents --push-customers) ;;
  *) echo "LOAD_PUSH must be agents, customers or both, not ${LOAD_PUSH}"; exit 2 ;;
esac
[[ -n ${LOAD_PUSH_RECONNECT:-} ]] && push_args+=(--push-reconnect-every "$LOAD_PUSH_RECONNECT")

# The banner names the stack's DynamoDB server: loadgen reads its capacity totals.
dynamodb_url=$(sed -n 's/^DynamoDB endpoint: //p' "$work/api.log" | head -n 1)
"$target_dir/debug/loadgen" \
  --base-url "http://127.0.0.1:$port/v1" --dynamodb-url "$dynamodb_url" \
  --agent-email load-agent@localhost --agent-password "$password" \
  --chats "${LOAD_CHATS:-20}" --duration "${LOAD_DURATION:-90s}" \
  --time-scale "${LOAD_TIME_SCALE:-2}" --report-json "$report" "${push_args[@]}" "$@"
status=$?
echo "report: $report"
exit $status
