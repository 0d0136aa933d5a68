#!/bin/sh
# Freeze what the kafkalake role ships (dist/daemons, package files, node_modules, config, sql, glue,
# the producer's dataset) into DEST, so the test deploys one fixed build even while the working tree
# is being rebuilt. node_modules is hard-linked (fast, no copy).
# Usage: snapshot-source.sh PROJECT_ROOT DEST
set -eu
SRC=$(cd "${1:?usage: snapshot-source.sh PROJECT_ROOT DEST}" && pwd)
DEST=${2:?usage: snapshot-source.sh PROJECT_ROOT DEST}
rm -rf "$DEST"
mkdir -p "$DEST/dist" "$DEST/daemons/producer"
cd "$SRC"
cp -a dist/daemons "$DEST/dist/daemons"
cp -a package.json package-lock.json "$DEST/"
for d in config sql glue; do [ -d "$d" ] && cp -a "$d" "$DEST/$d"; done
[ -d daemons/producer/data ] && cp -a daemons/producer/data "$DEST/daemons/producer/data"
cp -al node_modules "$DEST/node_modules"
