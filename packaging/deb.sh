#!/usr/bin/env bash
# Builds berth's Debian package: OUT_DIR/berth_VERSION_ARCH.deb (OUT_DIR defaults to
# target/debian). Debian's own dpkg-deb assembles it from a staging tree, so the package needs no
# tool beyond what every Debian machine has; the man pages and completions come from berth's own
# grammar (`berth gen-man`, `berth completion`).
#
#   packaging/deb.sh [OUT_DIR]                 # builds the release binary first
#   BERTH_BINARY=path packaging/deb.sh [OUT]   # packages a binary already built (the tests do)
#   DEB_COMPRESSION=gzip                        # faster than the default xz (the tests use it)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-target/debian}")
bin=${BERTH_BINARY:-}
if [ -z "$bin" ]; then
    cargo build --release --locked -p berth-cli
    bin=target/release/berth
fi
version=$("$bin" -v | awk '{print $3}')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

install -D -m 0755 "$bin" "$stage/usr/bin/berth"
for unit in berth.socket berth.service berth-restart.service; do
    install -D -m 0644 "packaging/systemd/$unit" "$stage/lib/systemd/system/$unit"
done
install -D -m 0644 packaging/daemon.json "$stage/etc/berth/daemon.json"
install -d "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
    "$stage/usr/share/fish/vendor_completions.d"
"$bin" completion bash > "$stage/usr/share/bash-completion/completions/berth"
"$bin" completion zsh > "$stage/usr/share/zsh/vendor-completions/_berth"
"$bin" completion fish > "$stage/usr/share/fish/vendor_completions.d/berth.fish"
# Debian strips binaries; the debug info stays in the build tree.
strip --strip-debug "$stage/usr/bin/berth"
"$bin" gen-man "$stage/usr/share/man/man1"
gzip -9n "$stage"/usr/share/man/man1/*.1
install -D -m 0644 README.md "$stage/usr/share/doc/berth/README.md"
gzip -9n "$stage/usr/share/doc/berth/README.md"
cat > "$stage/usr/share/doc/berth/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: berth
License: Apache-2.0

Files: *
Copyright: the berth authors
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
chmod -R u+rwX,go+rX,go-w "$stage"

install -d "$stage/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$stage/DEBIAN/"
echo /etc/berth/daemon.json > "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: berth
Version: $version
Architecture: $arch
Maintainer: berth developers <berth@localhost>
Section: admin
Priority: optional
Installed-Size: $size
Depends: libc6 (>= 2.36), libseccomp2, adduser, runc, tini, e2fsprogs, iptables, netavark, aardvark-dns, golang-github-docker-docker-dev, golang-github-containers-common
Recommends: busybox-static
Homepage: https://github.com/berth-engine/berth
Description: Docker-compatible container engine whose storage is first class
 berth runs containers from images as Docker does, without a daemon: images
 are stacks of read-only layers, every container gets a copy-on-write layer on
 overlayfs, and data outlives containers in volumes, bind and tmpfs mounts.
 berth serve speaks the Docker Engine API, so the docker CLI, docker-py and
 docker-compose drive it. The berth.socket unit activates the API on
 /run/berth/berth.sock for the berth group; berth-restart.service starts
 containers whose restart policy asks for it at boot.
CONTROL
mkdir -p "$out"
deb="$out/berth_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$stage" "$deb" >/dev/null
echo "$deb"
