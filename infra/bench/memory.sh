#!/usr/bin/env bash
# Peak memory of every function over a realistic run (infra/bench/memory.py), native release
# build, against the local DynamoDB server with the table as template.yaml defines it.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/bench/bench-stack.sh
build_functions chat-admin
start_bench_table
export BENCH_ADMIN_EMAIL=agent@example.com BENCH_ADMIN_PASSWORD=bench-password-0123456789
printf '%s' "$BENCH_ADMIN_PASSWORD" |
  "$bin_dir/chat-admin" create --email "$BENCH_ADMIN_EMAIL" --name "Bench Agent" --password-stdin >/dev/null
.venv/bin/python infra/bench/memory.py "$bin_dir"
