#!/usr/bin/env bash
# Installs what the local stack and the checks need that cargo does not, from PyPI:
#   .venv        the local DynamoDB-compatible server (moto), for `make dev` and the tests;
#   .venv-tools  cfn-lint, SAM CLI and cargo-lambda, for the template checks and Lambda builds;
#   .venv-fuzz   schemathesis, the contract fuzzer run against the local API.
# Safe to run again: a venv is only (re)installed when its requirements file changed.
# Usage: infra/setup.sh [server|tools|fuzz|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}

install() { # venv requirements-file
  local venv=$1 requirements=$2 stamp=$1/.installed
  if [[ -f $stamp ]] && cmp -s "$stamp" "$requirements"; then
    return 0
  fi
  echo "==> Installing $requirements into $venv (from PyPI)"
  [[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
}

case "${1:-all}" in
  server) install .venv infra/requirements.txt ;;
  tools) install .venv-tools infra/requirements-tools.txt ;;
  fuzz) install .venv-fuzz infra/requirements-fuzz.txt ;;
  all)
    install .venv infra/requirements.txt
    install .venv-tools infra/requirements-tools.txt
    install .venv-fuzz infra/requirements-fuzz.txt
    ;;
  *) echo "usage: $0 [server|tools|fuzz|all]" >&2; exit 2 ;;
esac
