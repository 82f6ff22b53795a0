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
target_dir=${CARGO_TARGET_DIR:-target}

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(18))')
work=$(mktemp -d)
cleanup() {
  [[ -n ${api_pid:-} ]] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Its own DynamoDB server (not one named by the caller's environment) and table.
env -u AWS_ENDPOINT_URL_DYNAMODB PORT="$port" TABLE_NAME=support-chat-fuzz \
  LOCAL_ADMIN_EMAIL=fuzz-admin@localhost LOCAL_ADMIN_PASSWORD="$password" \
  RUST_LOG=error "$target_dir/debug/local-api" >"$work/api.log" 2>&1 &
api_pid=$!
base=http://127.0.0.1:$port
token=$(.venv/bin/python infra/fuzz_session.py "$base" fuzz-admin@localhost "$password" "$api_pid")
if [[ -z $token ]]; then
  cat "$work/api.log"
  echo "cannot start the local API or sign in its admin"
  echo "schemathesis: 0 passed, 1 failed"
  exit 1
fi

SCHEMATHESIS_ADMIN_TOKEN=$token .venv-fuzz/bin/schemathesis \
  --config-file infra/schemathesis.toml \
  run docs/openapi.yaml --url "$base" \
  --checks all --exclude-checks unsupported_method \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$examples" --seed "${FUZZ_SEED:-20261128}" \
  --report junit --report-junit-path "$work/junit.xml" \
  "$@" 2>&1 | tee "$work/out.txt"
status=${PIPESTATUS[0]}

# The test cases it ran, from its own report; a run that did not finish counts as a failure.
.venv/bin/python - "$work/junit.xml" "$work/out.txt" "$status" <<'EOF'
import re, sys, xml.etree.ElementTree as ET
junit, out, status = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3])
match = re.search(r"Test cases:\s*(\d+) generated,\s*(\d+) passed(?:,\s*(\d+) failed)?", out)
cases = int(match.group(2)) if match else 0
failed = int(match.group(3) or 0) if match else 0
try:
    root = ET.parse(junit).getroot()
    broken = sum(1 for case in root.iter("testcase") if case.find("failure") is not None or case.find("error") is not None)
except (OSError, ET.ParseError):
    broken = 1
failed = max(failed, broken, 1 if status != 0 else 0)
print(f"schemathesis: {cases} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
