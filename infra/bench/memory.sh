#!/usr/bin/env bash
# Peak memory of every function over a realistic run (infra/bench/memory.py), native release
# build, against the local DynamoDB server with the table as template.yaml defines it.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
packages=(-p chat-admin)
for name in $(ls functions); do packages+=(-p "$name"); done
cargo build --release "${packages[@]}"

coproc SERVER { exec .venv/bin/python infra/dynamodb_local.py --port 0 --exit-with-stdin; }
read -r ready endpoint <&"${SERVER[0]}"
[[ $ready == READY ]] || { echo "DynamoDB server did not start" >&2; exit 1; }
export AWS_ENDPOINT_URL_DYNAMODB=$endpoint AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench TABLE_NAME=bench \
  ADMIN_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 \
  BENCH_ADMIN_EMAIL=agent@example.com BENCH_ADMIN_PASSWORD=bench-password-0123456789
.venv/bin/python - <<'PY'
import boto3, yaml

class Template(yaml.SafeLoader):
    pass

# CloudFormation's short-form functions (!Ref, !Sub, ...) do not matter for the table.
Template.add_multi_constructor("!", lambda loader, suffix, node: None)
with open("template.yaml") as f:
    table = yaml.load(f, Template)["Resources"]["ChatTable"]["Properties"]
keep = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
boto3.client("dynamodb").create_table(TableName="bench", **{k: table[k] for k in keep if k in table})
PY
printf '%s' "$BENCH_ADMIN_PASSWORD" |
  "$target/release/chat-admin" create --email "$BENCH_ADMIN_EMAIL" --name "Bench Agent" --password-stdin >/dev/null
.venv/bin/python infra/bench/memory.py "$target/release"
