#!/bin/sh
# Install what kafkalake needs on this machine, idempotently (a second run does next to nothing):
#   npm packages, the TypeScript build, the Kafka and ZooKeeper jars (Maven, from daemons/local/pom.xml),
#   and a Python venv with the AWS twin (moto).
# With --test, also what the test suite and benchmarks need: pyspark (the Glue 5.0 Spark version) in the
# venv, and Debian packages (kcat, debootstrap, systemd-container, ansible, ...) when run as root.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
STATE=.kafkalake
mkdir -p "$STATE"
say() { printf 'setup: %s\n' "$*" >&2; }
# each step that does work says how long it took: "setup: npm packages installed in 183 s"
started() { step_t0=$(date +%s); }
took() { say "$* in $(( $(date +%s) - step_t0 )) s"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# --- npm packages and the build -------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  started
  # `npm install`, not `npm ci`: it installs the locked versions all the same, but npm 11 writes locks
  # without the other platforms' optional packages (@duckdb/node-bindings-*) and then its own `npm ci`
  # refuses them as out of sync.
  # CKJS_LINKING=dynamic: the optional @confluentinc/kafka-javascript (producer.client=librdkafka) builds
  # librdkafka from its bundled source against the system's OpenSSL and zlib (a few minutes, once) instead
  # of downloading a prebuilt binary or third-party sources; if it cannot build, npm leaves it out.
  CKJS_LINKING=dynamic npm install --no-audit --no-fund --loglevel=error >&2 || fail "npm install failed (see above)"
  took "npm packages installed"
fi
started
npx --no-install tsc -p tsconfig.json || fail "the TypeScript build failed (see above)"
took "built (tsc)"

# --- Kafka and ZooKeeper jars -----------------------------------------------------------------
if [ ! -f "$STATE/lib/.stamp" ] || [ daemons/local/pom.xml -nt "$STATE/lib/.stamp" ]; then
  command -v mvn >/dev/null || fail "Maven (mvn) is needed to resolve the Kafka jars; install it (apt-get install maven)"
  command -v java >/dev/null || fail "Java 17 is needed for ZooKeeper and Kafka; install it (apt-get install openjdk-17-jre-headless)"
  say "resolving the Kafka and ZooKeeper jars with Maven"
  started
  rm -rf "$STATE/lib"
  # batch mode, no transfer progress; Maven's own output (Debian's Maven 3.8 writes colour escapes even
  # in batch mode) goes to a log that is shown, escapes stripped, only when it fails
  if ! (cd daemons/local && mvn -q -B -ntp dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$ROOT/$STATE/lib") >"$STATE/maven.log" 2>&1; then
    sed "s/$(printf '\033')\[[0-9;]*m//g" "$STATE/maven.log" >&2
    fail "Maven could not resolve the Kafka jars (see above; also in $STATE/maven.log)"
  fi
  touch "$STATE/lib/.stamp"
  took "Kafka and ZooKeeper jars resolved ($(ls "$STATE/lib" | wc -l) jars)"
fi

# --- Python venv --------------------------------------------------------------------------------
PY=${KAFKALAKE_PYTHON:-python3}
venv_install() { # requirements file
  stamp="$STATE/venv/.stamp-$(printf '%s' "$1" | tr / _)" # by path: two files may share a basename
  if [ ! -f "$stamp" ] || [ "$1" -nt "$stamp" ]; then
    say "installing $1 into the venv"
    started
    "$STATE/venv/bin/pip" install -q --disable-pip-version-check -r "$1" >&2 || fail "pip could not install $1 (see above)"
    touch "$stamp"
    took "$1 installed into the venv"
  fi
}
if [ ! -x "$STATE/venv/bin/python" ]; then
  say "creating the Python venv"
  "$PY" -m venv "$STATE/venv" || fail "cannot create a Python venv with $PY (apt-get install python3-venv)"
fi
venv_install daemons/local/requirements.txt

[ "${1:-}" = "--test" ] || exit 0

# --- what the tests and benchmarks need ---------------------------------------------------------
[ -f glue/requirements.txt ] && venv_install glue/requirements.txt
APT_PACKAGES=$(grep -v '^#' test/apt-packages.txt | tr '\n' ' ')
missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages:$missing"
    started
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -f "$STATE/.apt-updated" ]; then apt-get update -qq >&2 && touch "$STATE/.apt-updated"; fi
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2 || fail "apt-get could not install:$missing"
    took "Debian packages installed"
  else
    fail "the tests need these Debian packages:$missing (install them as root: apt-get install$missing)"
  fi
fi

# the tests exercise both producer clients: build librdkafka's binding now if npm install could not
# (it needs the build packages above)
CKJS_NODE=node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node
if [ ! -f "$CKJS_NODE" ]; then
  say "building @confluentinc/kafka-javascript (librdkafka) from source"
  CKJS_VERSION=$(node -p "require('./package-lock.json').packages['node_modules/@confluentinc/kafka-javascript'].version")
  CKJS_LINKING=dynamic npm install --no-audit --no-fund --loglevel=error --no-save "@confluentinc/kafka-javascript@$CKJS_VERSION" >&2 \
    && [ -f "$CKJS_NODE" ] || fail "@confluentinc/kafka-javascript did not build (see above); it needs g++, make, python3, libssl-dev, zlib1g-dev"
fi
