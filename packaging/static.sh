#!/usr/bin/env bash
# Builds a static berth binary (musl libc, no shared libraries) for distributions other than
# Debian: target/x86_64-unknown-linux-musl/release/berth. Needs rustup's musl target and Debian's
# musl-tools (musl-gcc compiles the bundled SQLite and zstd).
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(uname -m)-unknown-linux-musl
rustup target add "$target" >/dev/null
command -v musl-gcc >/dev/null || apt-get install -y -qq --no-install-recommends musl-tools >/dev/null
export CC_${target//-/_}=musl-gcc
cargo build --release --locked -p berth-cli --target "$target"
bin=target/$target/release/berth
if ldd "$bin" >/dev/null 2>&1; then
    echo "$bin is not static" >&2
    exit 1
fi
echo "$bin"
