#!/usr/bin/env bash
# The full differential run: a private dockerd (its own data root, exec root, socket and pidfile,
# no iptables, no bridge) is started, every scenario runs on it and on the berth binary of this
# workspace, and the dockerd is stopped again (after removing its containers).
#
#   conformance/differential.sh             berth compared with the live Docker; Docker compared
#                                           with the recordings (stale recordings are reported)
#   conformance/differential.sh --record    re-record the expectations from Docker, then check
#                                           Docker against them once more (catches unstable output)
#   conformance/differential.sh 06 volume   only scenarios whose name contains 06 or volume
#                                           (other berth-conformance options pass through too)
#
# Needs root, dockerd and the docker CLI (Debian: docker.io), runc. Nothing else of the machine
# is touched: state lives in $CONFORMANCE_DOCKER_DIR (default /var/lib/berth-conformance-docker),
# scratch in $CONFORMANCE_WORK (default /var/tmp/berth-conformance).
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${CONFORMANCE_DOCKER_DIR:-/var/lib/berth-conformance-docker}
WORK=${CONFORMANCE_WORK:-/var/tmp/berth-conformance}
SOCK="unix://$STATE/docker.sock"

mode=diff
args=()
for a in "$@"; do
    if [ "$a" = --record ]; then mode=record; else args+=("$a"); fi
done

for tool in dockerd docker; do
    command -v "$tool" >/dev/null || { echo "differential.sh: $tool not found (apt-get install docker.io)" >&2; exit 2; }
done
cargo build -q -p berth-cli -p berth-conformance
RUNNER=${CARGO_TARGET_DIR:-target}/debug/berth-conformance
BERTH=${CARGO_TARGET_DIR:-target}/debug/berth

mkdir -p "$STATE/root" "$STATE/exec"
dockerd --iptables=false --bridge=none --data-root "$STATE/root" --exec-root "$STATE/exec" \
    -H "$SOCK" --pidfile "$STATE/docker.pid" >"$STATE/dockerd.log" 2>&1 &
dockerd_pid=$!
stop_dockerd() {
    docker -H "$SOCK" ps -aq 2>/dev/null | xargs -r docker -H "$SOCK" rm -f -v >/dev/null 2>&1 || true
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
}
trap stop_dockerd EXIT
for _ in $(seq 150); do
    docker -H "$SOCK" version >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || { echo "dockerd died; see $STATE/dockerd.log" >&2; exit 2; }
    sleep 0.2
done

if [ "$mode" = record ]; then
    "$RUNNER" record --docker "$SOCK" --work "$WORK" ${args[@]+"${args[@]}"}
    "$RUNNER" check --docker "$SOCK" --work "$WORK" ${args[@]+"${args[@]}"}
else
    "$RUNNER" diff --docker "$SOCK" --berth "$BERTH" --work "$WORK" ${args[@]+"${args[@]}"}
fi
