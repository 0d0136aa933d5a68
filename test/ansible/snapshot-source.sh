#!/bin/sh
# Freeze what the kafkalake role ships (dist/daemons, package files, node_modules, config, sql, glue,
# the producer's dataset, local mode's SQL translation, the console's page) into DEST, so the test deploys one fixed build even while the working tree
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
# local mode's SQL translation: the worker, Trino's function list, and set-up's sqlglot (build-bundle.sh
# packs it from .kafkalake/venv, at the same path here)
mkdir -p "$DEST/daemons/local/sql"
cp -a daemons/local/sql/transpile.py daemons/local/sql/trino-functions.txt "$DEST/daemons/local/sql/"
# the console's page (kafkalake console serves it from the source tree)
mkdir -p "$DEST/daemons/console"
cp -a daemons/console/static "$DEST/daemons/console/static"
for pkg in .kafkalake/venv/lib/python3*/site-packages/sqlglot; do
  [ -d "$pkg" ] || continue
  mkdir -p "$DEST/$(dirname "$pkg")"
  cp -a "$pkg" "$DEST/$pkg"
done
cp -al node_modules "$DEST/node_modules"
