#!/bin/sh
# Boot and stop the ansible test host: an --ephemeral copy of the golden rootfs under systemd-nspawn,
# systemd as PID 1, sshd on a loopback port with the test's key. The host network is shared, so every
# port a service opens in the container is on this machine's loopback.
#   testhost.sh start ROOTFS NAME SSH_PORT PUBKEY_FILE RUNDIR   (prints the PID of the container's PID 1)
#   testhost.sh stop RUNDIR                                      (clean poweroff; kills after 20 s)
set -eu
say() { printf 'testhost: %s\n' "$*" >&2; }
fail() { printf 'testhost: %s\n' "$*" >&2; exit 1; }

start() {
  ROOTFS=$1 NAME=$2 PORT=$3 PUBKEY=$4 RUN=$5
  [ -d "$ROOTFS" ] || fail "no image at $ROOTFS (build-image.sh builds it)"
  command -v systemd-nspawn >/dev/null || fail "systemd-nspawn is missing (apt-get install systemd-container)"
  mkdir -p "$RUN"
  printf 'Port %s\nListenAddress 127.0.0.1\n' "$PORT" >"$RUN/20-port.conf"
  install -m 0600 "$PUBKEY" "$RUN/authorized_keys"
  echo "$NAME" >"$RUN/name"
  # Each container starts from its own cgroup (the host has no systemd to hand one out).
  (
    for h in unified systemd; do
      if [ -d "/sys/fs/cgroup/$h" ]; then mkdir -p "/sys/fs/cgroup/$h/$NAME" && echo $$ >"/sys/fs/cgroup/$h/$NAME/cgroup.procs"; fi
    done
    exec setsid systemd-nspawn -b --ephemeral -D "$ROOTFS" --machine="$NAME" --register=no --keep-unit \
      --console=passive --bind-ro="$RUN/20-port.conf:/etc/ssh/sshd_config.d/20-port.conf" \
      --bind-ro="$RUN/authorized_keys:/root/.ssh/authorized_keys" >"$RUN/nspawn.log" 2>&1 </dev/null
  ) &
  echo $! >"$RUN/nspawn.pid"
  NSPAWN=$!
  # PID 1 of the container: the nspawn child whose innermost PID is 1.
  i=0
  while [ $i -lt 300 ]; do
    for c in $(pgrep -P "$NSPAWN" 2>/dev/null) $(pgrep -P "$(pgrep -P "$NSPAWN" 2>/dev/null | head -n1)" 2>/dev/null); do
      if [ "$(awk '/^NSpid:/ {print $NF}' "/proc/$c/status" 2>/dev/null)" = 1 ]; then echo "$c" >"$RUN/pid1"; echo "$c"; return 0; fi
    done
    kill -0 "$NSPAWN" 2>/dev/null || fail "systemd-nspawn ended at boot: $(tail -n 5 "$RUN/nspawn.log" | tr '\n' ' ')"
    sleep 0.1; i=$((i + 1))
  done
  fail "the container's PID 1 did not appear within 30 s"
}

stop() {
  RUN=$1
  [ -f "$RUN/nspawn.pid" ] || return 0
  NSPAWN=$(cat "$RUN/nspawn.pid")
  NAME=$(cat "$RUN/name" 2>/dev/null || echo "")
  if [ -f "$RUN/pid1" ]; then kill -s RTMIN+4 "$(cat "$RUN/pid1")" 2>/dev/null || true; fi
  i=0
  while kill -0 "$NSPAWN" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$NSPAWN" 2>/dev/null; then
    say "no clean poweroff within 20 s: killing the container"
    [ -f "$RUN/pid1" ] && kill -KILL "$(cat "$RUN/pid1")" 2>/dev/null || true
    kill -KILL "$NSPAWN" 2>/dev/null || true
    sleep 1
  fi
  if [ -n "$NAME" ]; then
    for h in unified systemd; do rmdir "/sys/fs/cgroup/$h/$NAME" 2>/dev/null || true; done
  fi
  rm -f "$RUN/nspawn.pid" "$RUN/pid1"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) fail "usage: testhost.sh start ROOTFS NAME SSH_PORT PUBKEY_FILE RUNDIR | stop RUNDIR" ;;
esac
