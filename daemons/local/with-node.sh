#!/bin/sh
# Run a command with the Node.js that set-up chose (daemons/local/setup.sh): .kafkalake/node first on
# PATH when set-up put Node.js 24 there (this machine's node being older), else this machine's own.
# npm start|test|run bench|lint run through it, and so does every node, npm and ava they start.
# Usage: with-node.sh COMMAND [ARG...]
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -x "$ROOT/.kafkalake/node/bin/node" ]; then
  PATH="$ROOT/.kafkalake/node/bin:$PATH"
  export PATH
  npm_config_nodedir="$ROOT/.kafkalake/node"
  export npm_config_nodedir
fi
exec "$@"
