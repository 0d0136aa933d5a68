#!/bin/sh
# Build the golden root filesystem of the ansible test host once per machine: Debian bookworm by
# debootstrap, with systemd as PID 1, sshd (keys only, loopback) and the packages the roles would
# otherwise fetch (OpenJDK 17, python3-apt), so the booted host needs no package mirror.
# Usage: build-image.sh CACHE_DIR      (CACHE_DIR/rootfs is the image; a second run is a no-op)
set -eu
CACHE=${1:?usage: build-image.sh CACHE_DIR}
ROOTFS="$CACHE/rootfs"
STAMP="$CACHE/rootfs.stamp"
VERSION=3   # bump when the package list or the setup below changes
say() { printf 'build-image: %s\n' "$*" >&2; }
fail() { printf 'build-image: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"
# One builder at a time (two test files may start at once on a fresh machine).
exec 9>"$CACHE/.image.lock"
flock -w 900 9 || fail "another build of the image holds $CACHE/.image.lock"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ]; then exit 0; fi
[ "$(id -u)" = 0 ] || fail "debootstrap needs root (run the test as root)"
command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)"
# The mirror this machine's apt already uses (first http(s) URI naming a debian suite).
MIRROR=${KAFKALAKE_DEBIAN_MIRROR:-$(grep -hoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | grep -oE 'https?://[^ ]+' | head -n1)}
[ -n "$MIRROR" ] || fail "no Debian mirror found in /etc/apt/sources.list*; set KAFKALAKE_DEBIAN_MIRROR"

mkdir -p "$CACHE"
rm -rf "$ROOTFS" "$ROOTFS.tmp"
say "debootstrap bookworm from $MIRROR into $ROOTFS (about a minute, once)"
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,libpam-systemd,openssh-server,python3,python3-apt,sudo,iproute2,ca-certificates,openjdk-17-jre-headless,libstdc++6,procps,curl \
  bookworm "$ROOTFS.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
  || fail "debootstrap failed; see $CACHE/debootstrap.log"

R="$ROOTFS.tmp"
: >"$R/etc/machine-id"
echo kafkalake-testhost >"$R/etc/hostname"
printf '127.0.0.1 localhost kafkalake-testhost\n::1 localhost\n' >"$R/etc/hosts"
# sshd: the port and the key come from the test at boot (an ephemeral copy gets them written in);
# here only the policy: keys only, root allowed by key, no DNS lookups.
cat >"$R/etc/ssh/sshd_config.d/10-testhost.conf" <<'CONF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
CONF
# Host keys generated once here, so every ephemeral boot starts at once.
chroot "$R" ssh-keygen -A >/dev/null
# No getty on the console, no network configuration services (the host network is shared).
chroot "$R" systemctl mask console-getty.service getty@tty1.service systemd-networkd.service systemd-resolved.service >/dev/null 2>&1 || true
chroot "$R" apt-get clean
mv "$R" "$ROOTFS"
echo "$VERSION" >"$STAMP"
say "image ready: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1))"
