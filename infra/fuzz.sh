#!/usr/bin/env bash
# The contract, fuzzed: schemathesis generates requests from docs/openapi.yaml (valid and
# invalid ones, and sequences that follow the spec's links from a created session) against the
# local API, and checks every answer against the spec. Every check runs except
# `unsupported_method`: API Gateway answers undeclared methods itself.
#
# Starts its own local API (and DynamoDB server) on a free port, with a seeded admin whose token
# the admin endpoints get. Ends with `schemathesis: N passed, M failed` (N, M: test cases).
# Usage: infra/fuzz.sh [extra schemathesis options]
set -uo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh server >/dev/null
bash infra/setup.sh fuzz >/dev/null

examples=${FUZZ_EXAMPLES:-100}
cargo build --quiet -p local-api || exit 1

source infra/private-stack.sh
start_private_stack support-chat-fuzz fuzz-admin@localhost
base=http://127.0.0.1:$port
token=$(.venv/bin/python infra/fuzz_session.py "$base" fuzz-admin@localhost "$password" "$api_pid")
if [[ -z $token ]]; then
  cat "$work/api.log"
  echo "cannot start the local API or sign in its admin"
  echo "schemathesis: 0 passed, 1 failed"
  exit 1
fi

# Two passes on the same API: the stateful sequences first, while the table is empty (the
# other phases leave sessions behind whose ids the generator would pick again, so that creating
# a session, where every link starts, would mostly answer 409); then the other phases.
status=0
for phases in stateful examples,coverage,fuzzing; do
  # Sequences are cheap and each covers a few links: more of them.
  count=$examples
  [[ $phases == stateful ]] && count=$((examples * 3))
  SCHEMATHESIS_ADMIN_TOKEN=$token .venv-fuzz/bin/schemathesis \
    --config-file infra/schemathesis.toml \
    run docs/openapi.yaml --url "$base" \
    --checks all --exclude-checks unsupported_method \
    --phases "$phases" \
    --max-examples "$count" --seed "${FUZZ_SEED:-20261128}" \
    --report junit --report-junit-path "$work/junit-$phases.xml" \
    "$@" 2>&1 | tee "$work/out-$phases.txt"
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
done

# The test cases it ran, from its own output and reports; a pass that did not finish cleanly
# counts as a failure.
.venv/bin/python infra/fuzz_summary.py "$status" "$work"/out-*.txt -- "$work"/junit-*.xml
