# The two commands the README leads with: `make dev` and `make test`.
.PHONY: dev test setup lint unit build clean-venv

# Everything the tests and the local stack need beyond cargo (a venv with the local
# DynamoDB server), installed by the project itself.
setup:
	@bash infra/setup.sh

# The whole system locally, in the foreground: DynamoDB-compatible server (unless
# AWS_ENDPOINT_URL_DYNAMODB names one), the table from template.yaml, and the API on
# 127.0.0.1:$${PORT:-3000}. Ctrl-C stops everything it started.
dev: setup
	cargo run --quiet -p local-api

# Every check and every test.
test: setup lint
	bash infra/run-tests.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Release builds of every function (the Lambda profile).
build:
	cargo build --release --workspace --bins

clean-venv:
	rm -rf .venv
