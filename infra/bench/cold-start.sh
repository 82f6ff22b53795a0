#!/usr/bin/env bash
# `make bench`: cold start of every function next to a hello-world lambda_http binary, each
# handed the event its trigger sends (its own API route, its WebSocket route, the schedule's
# event, or a stream batch), against the local DynamoDB server with the table as template.yaml
# defines it.
# Lambda runs arm64 here; this machine is x86_64, so the same release profile is built natively.
# Against the local DynamoDB server the warm-up read is plain HTTP: on AWS it also pays the TLS
# handshake (which the warm-up moves into init).
# Usage: cold-start.sh [FUNCTION...] (default: every function under functions/)
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/bench/bench-stack.sh
build_functions hello-lambda
start_bench_table
if (($#)); then names=("$@"); else names=($(ls functions)); fi
.venv/bin/python infra/bench/cold_start.py "$bin_dir" hello-lambda "${names[@]}"
