#!/bin/sh
# The private network of the multi-host test bed (cluster.test.ts), never this machine's own: a network
# namespace NAME for the control node (ansible, ssh, the AWS twin) with a bridge br0 at SUBNET.1/24, and
# one namespace NAME-HOST per test host, its eth0 at SUBNET.OCTET joined to the bridge by a veth pair,
# default route via the control node. The hosts' containers are booted into their namespaces
# (testhost.sh boot), so an address survives a power-off of its host, as an EC2 ENI does.
#   netbed.sh up NAME SUBNET HOST=OCTET...    e.g. up klc42 10.77.0 kafka-1=11 app-1=21
#   netbed.sh down NAME                        (deletes NAME and every NAME-*; a missing one is fine)
#   netbed.sh cut NAME HOST | heal NAME HOST   (the host's link down/up: a network partition)
set -eu
fail() { printf 'netbed: %s\n' "$*" >&2; exit 1; }

down() {
  NAME=$1
  for ns in $(ip netns list | awk '{print $1}'); do
    case $ns in "$NAME" | "$NAME"-*) ip netns delete "$ns" ;; esac
  done
}

up() {
  NAME=$1 SUBNET=$2
  shift 2
  command -v ip >/dev/null || fail "ip is missing (apt-get install iproute2)"
  down "$NAME"
  ip netns add "$NAME" || fail "cannot create network namespace $NAME (root needed)"
  ip -n "$NAME" link set lo up
  ip -n "$NAME" link add br0 type bridge
  ip -n "$NAME" addr add "$SUBNET.1/24" dev br0
  ip -n "$NAME" link set br0 up
  for spec; do
    H=${spec%%=*} OCTET=${spec#*=}
    NS="$NAME-$H"
    ip netns add "$NS"
    ip -n "$NS" link set lo up
    ip -n "$NAME" link add "v-$H" type veth peer name eth0 netns "$NS"
    ip -n "$NAME" link set "v-$H" master br0 up
    ip -n "$NS" addr add "$SUBNET.$OCTET/24" dev eth0
    ip -n "$NS" link set eth0 up
    ip -n "$NS" route add default via "$SUBNET.1"
  done
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  cut) ip -n "$2" link set "v-$3" down ;;
  heal) ip -n "$2" link set "v-$3" up ;;
  *) fail "usage: netbed.sh up NAME SUBNET HOST=OCTET... | down NAME | cut NAME HOST | heal NAME HOST" ;;
esac
