# Sourced by the benches (cold-start.sh, memory.sh): builds the functions, starts the local
# DynamoDB server (stopped when the script exits) and creates the table from template.yaml.
#   build_functions [EXTRA_PACKAGE...]   sets bin_dir
#   start_bench_table                    exports the endpoint, credentials and TABLE_NAME
# BENCH_PROFILE=release (default, what Lambda runs) or debug (the short mode `make test` runs:
# every function started once, no numbers to keep).

bench_profile=${BENCH_PROFILE:-release}

build_functions() {
  local packages=() name
  for name in "$@" $(ls functions); do packages+=(-p "$name"); done
  case $bench_profile in
    release) cargo build --release "${packages[@]}" ;;
    debug) cargo build --quiet "${packages[@]}" ;;
    *) echo "BENCH_PROFILE must be release or debug" >&2; exit 2 ;;
  esac
  bin_dir="${CARGO_TARGET_DIR:-target}/$bench_profile"
}

start_bench_table() {
  coproc SERVER { exec .venv/bin/python infra/dynamodb_local.py --port 0 --exit-with-stdin; }
  local ready endpoint
  read -r ready endpoint <&"${SERVER[0]}"
  [[ $ready == READY ]] || { echo "DynamoDB server did not start" >&2; exit 1; }
  export AWS_ENDPOINT_URL_DYNAMODB=$endpoint AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench TABLE_NAME=bench \
    ADMIN_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
  .venv/bin/python infra/bench/create_table.py
}
