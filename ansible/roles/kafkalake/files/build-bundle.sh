#!/bin/sh
# Build the kafkalake release bundle on the control node, once for every host:
#   the compiled daemons (dist/daemons), package.json and the lock, the production node_modules
#   (a copy of node_modules pruned with `npm prune --omit=dev`, no registry needed), config/, sql/,
#   glue/, the producer's dataset (daemons/producer/data), local mode's SQL translation (transpile.py and
#   the sqlglot package it runs, as python/sqlglot), and the console's page (daemons/console/static).
# The tarball is reproducible (sorted, fixed owners and times, gzip -n), so an unchanged tree gives the
# same bytes and the hosts see no change. Prints "changed" or "unchanged" as its last line.
# Native modules (the optional librdkafka client) are built for one Node.js major: the bundle is refused
# when node_modules was built for another major than the hosts run (HOST_NODE_VERSION).
# Usage: build-bundle.sh SOURCE_DIR OUT.tar.gz BUILD(true|false) [HOST_NODE_VERSION]
set -eu
SRC=$(cd "${1:?usage: build-bundle.sh SOURCE_DIR OUT.tar.gz BUILD}" && pwd)
OUT=${2:?usage: build-bundle.sh SOURCE_DIR OUT.tar.gz BUILD}
BUILD=${3:-false}
HOST_NODE=${4:-}
fail() { printf 'build-bundle: %s\n' "$*" >&2; exit 1; }
cd "$SRC"
if [ "$BUILD" = true ]; then
  # npm install, not npm ci: npm 11 writes locks its own npm ci rejects (see daemons/local/setup.sh)
  # CKJS_LINKING=dynamic: the optional librdkafka client builds against the system OpenSSL/zlib (see setup.sh)
  CKJS_LINKING=dynamic npm install --no-audit --no-fund --loglevel=error >&2 || fail "npm install failed in $SRC"
  node --version >node_modules/.kafkalake-node
  npx --no-install tsc -p tsconfig.json >&2 || fail "the TypeScript build failed in $SRC"
fi
[ -f dist/daemons/cli/main.js ] || fail "$SRC/dist/daemons/cli/main.js is missing: build first (npm ci && npx tsc -p .) or set kafkalake_build: true"
[ -f node_modules/.package-lock.json ] || fail "$SRC/node_modules is missing: run npm ci first"
if [ -n "$HOST_NODE" ] && [ -d node_modules/@confluentinc/kafka-javascript/build ]; then
  # written by daemons/local/setup.sh and by the build above: the node the native modules were built with
  built=$(cat node_modules/.kafkalake-node 2>/dev/null || echo unknown)
  built_major=${built#v}
  built_major=${built_major%%.*}
  [ "$built_major" = "${HOST_NODE%%.*}" ] || fail "$SRC/node_modules was built with node $built, the hosts run Node.js $HOST_NODE (kafkalake_node_version): its native modules would not load there; rebuild with that major (npm run setup provides Node.js 24 in .kafkalake/node) or set kafkalake_build: true on a control node running it"
fi

PARTS="dist/daemons package.json package-lock.json config sql glue daemons/producer/data daemons/local/sql/transpile.py daemons/local/sql/trino-functions.txt daemons/console/static"
present=""
for p in $PARTS; do [ -e "$p" ] && present="$present $p"; done
# local mode's query engine reads Athena SQL through sqlglot (daemons/local/sql/transpiler.ts): its pure-Python
# package from set-up's venv goes in as python/sqlglot, run by the host's python3 (no venv, no registry there).
# aws mode does not need it (Athena reads the SQL): without it the bundle is made all the same, and says so.
SQLGLOT=$(ls -d .kafkalake/venv/lib/python3*/site-packages/sqlglot 2>/dev/null | head -n 1)
[ -n "$SQLGLOT" ] || printf 'build-bundle: %s\n' "$SRC/.kafkalake/venv has no sqlglot (npm run setup installs it): the hosts can query in aws mode only" >&2
# Fingerprint of the inputs' contents (node_modules by its lock): skip the tarball when nothing changed,
# even if a rebuild rewrote the same files.
# shellcheck disable=SC2086
fp=$(find $present $SQLGLOT node_modules/.package-lock.json patches -type f ! -name '*.test.js' ! -name '*.test.js.map' ! -name '*.pyc' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
mkdir -p "$(dirname "$OUT")"
# one packer at a time per bundle path
exec 9>"$OUT.lock"
flock -w 600 9 || fail "another build holds $OUT.lock"
if [ -f "$OUT" ] && [ "$(cat "$OUT.fingerprint" 2>/dev/null)" = "$fp" ]; then echo unchanged; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/kafkalake"
# shellcheck disable=SC2086
tar -cf - --exclude='*.test.js' --exclude='*.test.js.map' $present | tar -C "$work/kafkalake" -xf -
cp -a node_modules "$work/kafkalake/node_modules"
if [ -n "$SQLGLOT" ]; then
  mkdir -p "$work/kafkalake/python"
  cp -a "$SQLGLOT" "$work/kafkalake/python/sqlglot"
  find "$work/kafkalake/python" -name __pycache__ -type d -prune -exec rm -rf {} +
fi
(cd "$work/kafkalake" && npm prune --omit=dev --no-audit --no-fund --offline --loglevel=error >&2) || fail "npm prune --omit=dev failed"
# the optional librdkafka client (producer.client=librdkafka) keeps only what runs: its JS, the binding and
# librdkafka's shared libraries (the bundled C sources and static archives are ~280 MB of build inputs)
CK="$work/kafkalake/node_modules/@confluentinc/kafka-javascript"
if [ -d "$CK" ]; then
  rm -rf "$CK/deps" "$CK/build/Release/obj.target" "$CK/build/deps/librdkafka" "$CK/build/deps/include" "$CK/build/deps/pkgconfig"
  find "$CK/build" -maxdepth 2 \( -name '*.a' -o -name '*.mk' -o -name '*Makefile' -o -name 'config.gypi' \) -delete
fi
tar -C "$work" --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -cf - kafkalake | gzip -n -6 >"$work/bundle.tar.gz"
if [ -f "$OUT" ] && cmp -s "$work/bundle.tar.gz" "$OUT"; then
  echo "$fp" >"$OUT.fingerprint"
  echo unchanged
  exit 0
fi
mv "$work/bundle.tar.gz" "$OUT"
echo "$fp" >"$OUT.fingerprint"
echo changed
