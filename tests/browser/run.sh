#!/usr/bin/env bash
# The dashboard's browser tests: installs what they need (Debian's chromium, playwright-core
# and axe-core from npm), builds the local stack, runs the tests. Screenshots land in tests/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x /usr/bin/chromium ]]; then
  echo "==> Installing Debian's chromium (headless browser for the dashboard tests)"
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium > /dev/null
fi
[[ -d node_modules/playwright-core && -d node_modules/axe-core ]] || npm ci --no-audit --no-fund
(cd ../.. && bash infra/setup.sh server && cargo build --quiet -p local-api -p chat-admin)
npm test
