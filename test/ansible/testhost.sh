#!/bin/sh
# Boot and stop the ansible test hosts under systemd-nspawn, systemd as PID 1, sshd with the test's key.
#   testhost.sh start ROOTFS NAME SSH_PORT PUBKEY_FILE RUNDIR
#       an --ephemeral copy of the golden rootfs on the host network: sshd on a loopback port, every port
#       a service opens is on this machine's loopback (site.test.ts); prints the PID of the container's PID 1
#   testhost.sh boot ROOTFS NAME HOSTNAME NETNS HOSTDIR PUBKEY_FILE HOSTS_FILE
#       a host with a disk that persists across power cycles (an overlay of the golden rootfs on
#       HOSTDIR/upper) in the network namespace NETNS (netbed.sh), sshd on port 22 (cluster.test.ts)
#   testhost.sh stop RUNDIR        clean poweroff; kills after 20 s (RUNDIR of boot: HOSTDIR/run)
#   testhost.sh kill RUNDIR        power cut: SIGKILL to everything in the container at once
#   testhost.sh destroy HOSTDIR    after stop/kill: unmount and remove the host's disk
set -eu
say() { printf 'testhost: %s\n' "$*" >&2; }
fail() { printf 'testhost: %s\n' "$*" >&2; exit 1; }

# launch RUN NAME NSPAWN_ARGS...: boot systemd-nspawn in the background; print and record PID 1.
launch() {
  RUN=$1 NAME=$2
  shift 2
  command -v systemd-nspawn >/dev/null || fail "systemd-nspawn is missing (apt-get install systemd-container)"
  mkdir -p "$RUN"
  echo "$NAME" >"$RUN/name"
  # Each container starts from its own cgroup (the host has no systemd to hand one out).
  (
    for h in unified systemd; do
      if [ -d "/sys/fs/cgroup/$h" ]; then mkdir -p "/sys/fs/cgroup/$h/$NAME" && echo $$ >"/sys/fs/cgroup/$h/$NAME/cgroup.procs"; fi
    done
    exec setsid systemd-nspawn -b --machine="$NAME" --register=no --keep-unit --console=passive "$@" >"$RUN/nspawn.log" 2>&1 </dev/null
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

start() {
  ROOTFS=$1 NAME=$2 PORT=$3 PUBKEY=$4 RUN=$5
  [ -d "$ROOTFS" ] || fail "no image at $ROOTFS (build-image.sh builds it)"
  mkdir -p "$RUN"
  printf 'Port %s\nListenAddress 127.0.0.1\n' "$PORT" >"$RUN/20-port.conf"
  install -m 0600 "$PUBKEY" "$RUN/authorized_keys"
  launch "$RUN" "$NAME" --ephemeral -D "$ROOTFS" \
    --bind-ro="$RUN/20-port.conf:/etc/ssh/sshd_config.d/20-port.conf" \
    --bind-ro="$RUN/authorized_keys:/root/.ssh/authorized_keys"
}

boot() {
  ROOTFS=$1 NAME=$2 HOST=$3 NETNS=$4 DIR=$5 PUBKEY=$6 HOSTS=$7
  [ -d "$ROOTFS" ] || fail "no image at $ROOTFS (build-image.sh builds it)"
  [ -e "/run/netns/$NETNS" ] || fail "no network namespace $NETNS (netbed.sh up makes it)"
  mkdir -p "$DIR/upper" "$DIR/work" "$DIR/root" "$DIR/run"
  if ! mountpoint -q "$DIR/root"; then
    mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$DIR/upper,workdir=$DIR/work" "$DIR/root" \
      || fail "cannot mount the overlay disk of $HOST at $DIR/root"
  fi
  install -m 0600 "$PUBKEY" "$DIR/run/authorized_keys"
  launch "$DIR/run" "$NAME" -D "$DIR/root" --hostname="$HOST" --network-namespace-path="/run/netns/$NETNS" \
    --bind-ro="$DIR/run/authorized_keys:/root/.ssh/authorized_keys" --bind-ro="$HOSTS:/etc/hosts"
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

# Power cut: PID 1 of a PID namespace takes every process of the container with it.
kill_now() {
  RUN=$1
  [ -f "$RUN/nspawn.pid" ] || return 0
  [ -f "$RUN/pid1" ] && kill -KILL "$(cat "$RUN/pid1")" 2>/dev/null || true
  NSPAWN=$(cat "$RUN/nspawn.pid")
  i=0
  while kill -0 "$NSPAWN" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$NSPAWN" 2>/dev/null || true
  NAME=$(cat "$RUN/name" 2>/dev/null || echo "")
  if [ -n "$NAME" ]; then
    for h in unified systemd; do rmdir "/sys/fs/cgroup/$h/$NAME" 2>/dev/null || true; done
  fi
  rm -f "$RUN/nspawn.pid" "$RUN/pid1"
}

destroy() {
  DIR=$1
  if mountpoint -q "$DIR/root"; then umount "$DIR/root" 2>/dev/null || umount -l "$DIR/root"; fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  boot) shift; boot "$@" ;;
  stop) shift; stop "$@" ;;
  kill) shift; kill_now "$@" ;;
  destroy) shift; destroy "$@" ;;
  *) fail "usage: testhost.sh start ROOTFS NAME SSH_PORT PUBKEY_FILE RUNDIR | boot ROOTFS NAME HOSTNAME NETNS HOSTDIR PUBKEY_FILE HOSTS_FILE | stop RUNDIR | kill RUNDIR | destroy HOSTDIR" ;;
esac
