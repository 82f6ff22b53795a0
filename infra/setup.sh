#!/usr/bin/env bash
# Installs what the local stack and the tests need that cargo does not: a project venv
# (.venv) with the local DynamoDB server. Safe to run again; does nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
stamp=.venv/.installed
if [[ -f $stamp ]] && cmp -s "$stamp" infra/requirements.txt; then
  exit 0
fi
echo "==> Installing the local DynamoDB server into .venv (from PyPI)"
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
cp infra/requirements.txt "$stamp"
