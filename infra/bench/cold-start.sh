#!/usr/bin/env bash
# `make bench`: cold start of every function next to a hello-world lambda_http binary.
# Lambda runs arm64 here; this machine is x86_64, so the same release profile is built natively.
# Against the local DynamoDB server the warm-up read is plain HTTP: on AWS it also pays the TLS
# handshake (which the warm-up moves into init).
set -euo pipefail
cd "$(dirname "$0")/../.."
functions=$(ls functions)
packages=(-p hello-lambda)
for name in $functions; do packages+=(-p "$name"); done
cargo build --release "${packages[@]}"

coproc SERVER { exec .venv/bin/python infra/dynamodb_local.py --port 0 --exit-with-stdin; }
read -r ready endpoint <&"${SERVER[0]}"
[[ $ready == READY ]] || { echo "DynamoDB server did not start" >&2; exit 1; }
export AWS_ENDPOINT_URL_DYNAMODB=$endpoint AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench TABLE_NAME=bench \
  ADMIN_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
.venv/bin/python - <<'PY'
import boto3
boto3.client("dynamodb").create_table(
    TableName="bench", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("PK", "SK")],
    KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}])
PY
.venv/bin/python infra/bench/cold_start.py "${CARGO_TARGET_DIR:-target}/release" hello-lambda $functions
