#!/usr/bin/env bash
# Builds every function under functions/ for Lambda (arm64, release profile) with cargo-lambda,
# zips each as it is deployed, and checks the 3 MB budget. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv-tools/bin:$PATH"
budget=$((3 * 1024 * 1024))

rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu

# The admin functions enable chat-core's secrets-manager feature and the client ones do not.
# Cargo unifies features within one build, so each group is built on its own, as `sam build`
# (one function at a time) would.
client=() admin=()
for dir in functions/*/; do
  name=$(basename "$dir")
  if grep -q secrets-manager "$dir/Cargo.toml"; then admin+=(-p "$name"); else client+=(-p "$name"); fi
done
cargo lambda build --release --arm64 "${client[@]}"
cargo lambda build --release --arm64 "${admin[@]}"

.venv/bin/python - "$budget" "${CARGO_TARGET_DIR:-target}" <<'PY'
import os, sys, zipfile
budget, target = int(sys.argv[1]), sys.argv[2]
over = []
print("| function | binary (bytes) | zipped (bytes) |")
print("|---|---:|---:|")
for name in sorted(os.listdir("functions")):
    binary = f"{target}/lambda/{name}/bootstrap"
    archive = f"{target}/lambda/{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(binary, "rb") as f:
            z.writestr(info, f.read(), compresslevel=9)
    size = os.path.getsize(archive)
    print(f"| {name} | {os.path.getsize(binary):,} | {size:,} |")
    if size > budget:
        over.append(name)
if over:
    sys.exit(f"over the 3 MB zipped budget: {', '.join(over)}")
PY
