#!/usr/bin/env bash
# The dashboard's browser tests: installs what they need (Debian's chromium, playwright-core,
# axe-core and ESLint from npm), builds the local stack, runs ESLint over the dashboard's modules
# and these tests (lint.test.mjs, `npm run lint`), then the tests. Screenshots land in
# tests/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x /usr/bin/chromium ]]; then
  echo "==> Installing Debian's chromium (headless browser for the dashboard tests)"
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium > /dev/null
fi
[[ -d node_modules/playwright-core && -d node_modules/axe-core && -d node_modules/eslint \
  && -d node_modules/@eslint/js && -d node_modules/globals ]] || npm ci --no-audit --no-fund
(cd ../.. && bash infra/setup.sh server && cargo build --quiet -p local-api -p chat-admin)
# `npm test` lints first (TAP, counted by infra/run-tests.sh like the tests).
npm test
