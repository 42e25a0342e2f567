#!/usr/bin/env bash
# berth side by side with Docker and Podman on this machine: bench/README.md.
#
#   sudo bench/run.sh                 every workload (a–o), full sizes; takes a while
#   sudo bench/run.sh --only e        one workload; --quick for a smoke run; --help for the rest
#
# Installs what is missing (docker.io, podman, runc, time from Debian; skip with BENCH_NO_INSTALL=1),
# builds berth in release mode, then runs bench/bench.py, which starts and stops its own dockerd
# and writes bench/results/latest.{json,md}. Engines that are not installed are skipped and said so.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "bench/run.sh: run as root" >&2
    exit 2
fi

if [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
    missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v podman >/dev/null || missing+=(podman)
    command -v runc >/dev/null || missing+=(runc)
    command -v gzip >/dev/null || missing+=(gzip)
    [ -x /usr/bin/time ] || missing+=(time)
    command -v docker-registry >/dev/null || missing+=(docker-registry)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || echo "bench/run.sh: could not install ${missing[*]}; those engines will be skipped" >&2
    fi
fi

berth=${BERTH_BIN:-target/release/berth}
if [ -z "${BERTH_BIN:-}" ]; then
    cargo build -q --release -p berth-cli || echo "bench/run.sh: release build failed; using the last built $berth" >&2
fi

exec python3 bench/bench.py --berth "$berth" "$@"
