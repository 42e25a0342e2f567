#!/usr/bin/env bash
# Installs a berth .deb with apt (as a user would: dependencies from Debian's archive) and checks
# that the installed berth runs a container and its units verify. CI runs it on its fresh machine
# after the test suite:  packaging/check-installed.sh path/to/berth_*.deb
set -euo pipefail
deb=$(realpath "$1")
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "$deb" >/dev/null
test "$(command -v berth)" = /usr/bin/berth || test -x /usr/bin/berth
getent group berth >/dev/null
test "$(stat -c %a /var/lib/berth)" = 711
systemd-analyze verify --man=no /lib/systemd/system/berth.socket /lib/systemd/system/berth.service \
    /lib/systemd/system/berth-restart.service
root=$(mktemp -d /var/tmp/berth-deb-check.XXXXXX)
cleanup() {
    /usr/bin/berth --root "$root" rm -f deb-check >/dev/null 2>&1 || true
    grep -o " $root[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$root"
}
trap cleanup EXIT
scripts/busybox-rootfs.sh | /usr/bin/berth --root "$root" import - busybox:latest >/dev/null
out=$(/usr/bin/berth --root "$root" run --rm --name deb-check --network none busybox echo installed)
test "$out" = installed
bash -c 'source /usr/share/bash-completion/completions/berth && complete -p berth' >/dev/null
man -w berth-run >/dev/null 2>&1 || test -f /usr/share/man/man1/berth-run.1.gz
echo "berth .deb: installed with apt, ran a container, units verified"
