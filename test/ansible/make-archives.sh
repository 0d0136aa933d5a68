#!/bin/sh
# Assemble the offline inputs of the ansible test in CACHE_DIR, deterministically (same inputs, same
# bytes, same sha256), and print them as JSON for the test:
#   kafka_2.13-<v>.tgz  the Kafka release-archive layout (kafka_2.13-<v>/libs/*.jar, config/) built
#                       from the Maven jars in LIB_DIR, as an air-gapped operator would supply it;
#   node-<v>-linux-x64.tar.gz  the official Node.js tarball layout (bin/node) from this machine's node.
# Usage: make-archives.sh CACHE_DIR LIB_DIR
set -eu
CACHE=${1:?usage: make-archives.sh CACHE_DIR LIB_DIR}
LIB=${2:?usage: make-archives.sh CACHE_DIR LIB_DIR}
fail() { printf 'make-archives: %s\n' "$*" >&2; exit 1; }
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
exec 9>"$CACHE/.lock"
flock -w 300 9 || fail "another run holds $CACHE/.lock"
KAFKA_JAR=$(ls "$LIB"/kafka_2.13-*.jar 2>/dev/null | head -n1) || true
[ -n "$KAFKA_JAR" ] || fail "no kafka_2.13-*.jar in $LIB (run npm run setup)"
KV=$(basename "$KAFKA_JAR" .jar | sed 's/^kafka_2.13-//')
NODE=$(command -v node) || fail "node is not on PATH"
NV=$(node --version)

# tar with fixed order, owners and times, gzip without a timestamp: reproducible bytes.
repro_tar() { # out.tgz dir name
  tar -C "$2" --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -cf - "$3" | gzip -n -6 >"$1.tmp"
  mv "$1.tmp" "$1"
}

KAFKA_TGZ="$CACHE/kafka_2.13-$KV.tgz"
if [ ! -f "$KAFKA_TGZ" ] || [ -n "$(find "$LIB" -newer "$KAFKA_TGZ" -name '*.jar' | head -n1)" ]; then
  work=$(mktemp -d)
  d="$work/kafka_2.13-$KV"
  mkdir -p "$d/libs" "$d/config" "$d/bin"
  cp "$LIB"/*.jar "$d/libs/"
  printf 'broker.id=0\nlog.dirs=/tmp/kafka-logs\nzookeeper.connect=localhost:2181\n' >"$d/config/server.properties"
  printf 'dataDir=/tmp/zookeeper\nclientPort=2181\n' >"$d/config/zookeeper.properties"
  printf 'Assembled from the Maven Central jars of Apache Kafka %s for an offline install.\n' "$KV" >"$d/README.kafkalake"
  repro_tar "$KAFKA_TGZ" "$work" "kafka_2.13-$KV"
  rm -rf "$work"
fi

NODE_TGZ="$CACHE/node-$NV-linux-x64.tar.gz"
if [ ! -f "$NODE_TGZ" ] || [ "$NODE" -nt "$NODE_TGZ" ]; then
  work=$(mktemp -d)
  d="$work/node-$NV-linux-x64"
  mkdir -p "$d/bin"
  cp "$NODE" "$d/bin/node"
  repro_tar "$NODE_TGZ" "$work" "node-$NV-linux-x64"
  rm -rf "$work"
fi

printf '{"kafka_version":"%s","kafka_archive":"%s","kafka_sha256":"%s","node_version":"%s","node_archive":"%s","node_sha256":"%s"}\n' \
  "$KV" "$KAFKA_TGZ" "$(sha256sum "$KAFKA_TGZ" | cut -d' ' -f1)" \
  "${NV#v}" "$NODE_TGZ" "$(sha256sum "$NODE_TGZ" | cut -d' ' -f1)"
