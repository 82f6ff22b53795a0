#!/usr/bin/env bash
# Every test: all cargo tests, the dashboard's browser tests, the contract fuzzer against the
# local API (infra/fuzz.sh), every documented command run to the end
# (infra/checks/commands.sh), then the documentation checks. Ends with one summary line over
# all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The tests record every DynamoDB call each function makes (tests/lib.rs); checked below
# against the functions' IAM policies.
iam_calls="${CARGO_TARGET_DIR:-target}/iam-calls"
# And every frame the push channel sends a client, checked against docs/asyncapi.yaml.
push_frames="${CARGO_TARGET_DIR:-target}/push-frames"
rm -rf "$iam_calls" "$push_frames"
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee "$log"
cargo_status=${PIPESTATUS[0]}
.venv-tools/bin/python infra/checks/template_checks.py --iam-calls "$iam_calls" 2>&1 | tee -a "$log"
iam_status=${PIPESTATUS[0]}
.venv-tools/bin/python infra/checks/asyncapi_check.py "$push_frames" 2>&1 | tee -a "$log"
asyncapi_status=${PIPESTATUS[0]}
bash tests/browser/run.sh 2>&1 | tee -a "$log"
browser_status=${PIPESTATUS[0]}
bash infra/fuzz.sh 2>&1 | tee -a "$log"
fuzz_status=${PIPESTATUS[0]}
bash infra/checks/commands.sh 2>&1 | tee -a "$log"
commands_status=${PIPESTATUS[0]}
python3 infra/checks/docs_checks.py 2>&1 | tee -a "$log"
docs_status=${PIPESTATUS[0]}
awk '/^test result:/ { passed += $4; failed += $6 }
     /^# pass /       { passed += $3 }
     /^# fail /       { failed += $3 }
     /^template checks:/ { passed += $3; failed += $5 }
     /^asyncapi checks:/ { passed += $3; failed += $5 }
     /^docs checks:/  { passed += $3; failed += $5 }
     /^schemathesis: [0-9]+ passed, [0-9]+ failed$/ { passed += $2; failed += $4 }
     /^commands: [0-9]+ passed, [0-9]+ failed$/ { passed += $2; failed += $4 }
     END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
[[ $cargo_status -eq 0 && $iam_status -eq 0 && $asyncapi_status -eq 0 && $browser_status -eq 0 && $fuzz_status -eq 0 \
   && $commands_status -eq 0 && $docs_status -eq 0 ]]
