# The two commands the README leads with: `make dev` and `make test`.
.PHONY: dev test setup lint template-check build sam-build bench fuzz load clean-venv

# What the tests, checks and builds need beyond cargo, installed by the project itself
# (infra/setup.sh: project venvs from PyPI).
setup:
	@bash infra/setup.sh

# The whole system locally, in the foreground: DynamoDB-compatible server (unless
# AWS_ENDPOINT_URL_DYNAMODB names one), the table from template.yaml, and the API on
# 127.0.0.1:$${PORT:-3000}. Ctrl-C stops everything it started.
dev:
	@bash infra/setup.sh server
	cargo run --quiet -p local-api

# Every check, every function built for Lambda within its size budget, then every test
# (ending with one summary line over all of them).
test: setup lint template-check
	bash infra/build-lambdas.sh
	bash infra/run-tests.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# template.yaml checked offline: CloudFormation lint, SAM's own validation, and what SAM's
# translator makes of it for every samconfig.toml environment (infra/checks/template_checks.py),
# after Fn::ForEach is expanded (infra/checks/language_extensions.py); then the tests that the
# monitoring check fails when a function is left out.
template-check:
	.venv-tools/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 .venv-tools/bin/sam validate --lint
	.venv-tools/bin/python infra/checks/template_checks.py
	.venv-tools/bin/python infra/checks/test_template_checks.py
	.venv-tools/bin/python infra/checks/test_asyncapi_check.py

# Every function built for Lambda (arm64, release profile), zipped, sizes checked (3 MB budget).
build: setup
	bash infra/build-lambdas.sh

# What `sam build` does (it runs cargo-lambda per function); needs no Docker or AWS account.
# SAM CLI 1.170 or newer: rust-cargolambda is no longer a beta build method. samconfig.toml
# sets language_extensions (template.yaml's Fn::ForEach is expanded locally to find functions).
# SAM_BUILD_FUNCTION=HealthFunction builds that one function only.
sam-build: setup
	SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/.venv-tools/bin:$$PATH" sam build $(SAM_BUILD_FUNCTION)

# The contract fuzzer alone (also part of `make test`): schemathesis against the local API.
fuzz: setup
	bash infra/fuzz.sh

# CPU time per request of the poll and send handlers (DynamoDB answered in memory); cold start:
# process start to first answered invocation, per function, against a local Lambda runtime
# API, next to a hello-world lambda_http binary; peak memory of each function over a realistic
# run (what MemorySize in template.yaml is chosen by). BENCH_SHORT=1: the short mode `make test`
# runs (debug build, each function started once, each handler bench once): it runs to the end
# and measures nothing worth keeping.
bench: setup
ifeq ($(BENCH_SHORT),1)
	cargo test --quiet -p handler-bench --benches
	BENCH_PROFILE=debug RUNS=1 bash infra/bench/cold-start.sh
	BENCH_PROFILE=debug INVOCATIONS=5 bash infra/bench/memory.sh
else
	cargo bench -p handler-bench
	bash infra/bench/cold-start.sh
	bash infra/bench/memory.sh
endif

# A short load run against `make dev`'s binary (its own DynamoDB server, table and agent), then
# stopped: latency per endpoint, lost and duplicated replies (infra/load.sh; LOAD_CHATS,
# LOAD_DURATION, LOAD_TIME_SCALE; LOAD_PUSH=agents|customers|both and LOAD_PUSH_RECONNECT for
# the push channel). Exits non-zero on a lost or repeated reply or any 5xx.
load: setup
	bash infra/load.sh

clean-venv:
	rm -rf .venv .venv-tools
