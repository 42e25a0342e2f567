#!/usr/bin/env bash
# Installs berth on Debian (as root): the runtime pieces it drives (runc, tini), busybox-static for
# an offline demo image, then builds berth with cargo and installs it to /usr/local/bin.
# Finally it runs berth's main job offline on the default data root (/var/lib/berth).
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
    echo "install.sh must run as root (berth mounts filesystems and creates namespaces)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends runc busybox-static tini e2fsprogs gcc libc6-dev ca-certificates >/dev/null
# The in-process runtime (the default) builds seccomp filters with libseccomp: the headers
# and link library to build berth, libseccomp2 to run it.
apt-get install -y -qq --no-install-recommends libseccomp-dev libseccomp2 pkg-config >/dev/null
# The default seccomp profile containers run under: Docker's own, moby's
# profiles/seccomp/default.json as Debian ships it (read at each start as data); containers-common
# has Podman's, which the engine setting seccomp-profile can choose.
apt-get install -y -qq --no-install-recommends golang-github-docker-docker-dev \
    golang-github-containers-common >/dev/null
# Bridge networks (the default for containers): netavark and aardvark-dns, over iptables.
apt-get install -y -qq --no-install-recommends netavark aardvark-dns iptables >/dev/null
# What the test suite (README: Test) uses besides berth itself: getfattr, ps and curl.
apt-get install -y -qq --no-install-recommends attr procps curl >/dev/null
# ... and Go, for moby's client package, whose SDK the API tests drive berth serve with.
apt-get install -y -qq --no-install-recommends golang-go >/dev/null
command -v cargo >/dev/null || { echo "cargo (Rust) is required to build berth" >&2; exit 1; }

cargo build --release --locked -p berth-cli
install -m 0755 target/release/berth /usr/local/bin/berth

# An image made from the host's busybox, so nothing is downloaded.
if ! berth image inspect busybox >/dev/null 2>&1; then
    scripts/busybox-rootfs.sh | berth import - busybox:latest >/dev/null
fi

# berth's main job: a container writes into a named volume, is removed, and the data outlives it.
berth volume create install-demo >/dev/null
berth run --rm -v install-demo:/data busybox sh -c 'date > /data/first-run; echo "written by a container"'
berth run --rm -v install-demo:/data:ro busybox cat /data/first-run
berth volume ls

