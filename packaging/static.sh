#!/usr/bin/env bash
# Builds a static berth binary (musl libc, no shared libraries) for distributions other than
# Debian: target/x86_64-unknown-linux-musl/release/berth-static (stripped). Needs rustup's musl
# target and Debian's musl-tools (musl-gcc compiles the bundled SQLite and zstd).
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(uname -m)-unknown-linux-musl
rustup target add "$target" >/dev/null
command -v musl-gcc >/dev/null || apt-get install -y -qq --no-install-recommends musl-tools >/dev/null
export CC_${target//-/_}=musl-gcc
# Without the in-process runtime (--runtime berth): it links libseccomp, which musl has not here.
cargo build --release --locked -p berth-cli --no-default-features --target "$target"
bin=target/$target/release/berth
# ldd says "statically linked" with exit 0 for a static-pie, so ask the ELF itself: no program
# interpreter and no shared libraries needed.
if readelf -lW "$bin" | grep -q 'program interpreter' || readelf -dW "$bin" | grep -q '(NEEDED)'; then
    echo "$bin is not static" >&2
    exit 1
fi
out=target/$target/release/berth-static
strip -o "$out" "$bin"
echo "$out"
