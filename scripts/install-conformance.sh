#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, a devDependency) needs
# Node >= 22: the npm package node@22 brings that binary into .conformance/ without touching the
# system Node or the project's own node_modules/.bin. Idempotent; prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.conformance
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  mkdir -p "$dir"
  cat > "$dir/package.json" <<'JSON'
{ "name": "commerce-mcp-conformance-node", "private": true,
  "allowScripts": { "node": true } }
JSON
  (cd "$dir" && npm install --no-fund --no-audit --silent node@22 >&2)
fi
echo "$PWD/$dir/node_modules/.bin/node"
