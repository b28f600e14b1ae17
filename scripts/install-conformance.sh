#!/usr/bin/env bash
# The official MCP conformance suite needs Node >= 22: the npm package node@22 brings that binary
# into .conformance/ without touching the system Node. Idempotent; prints the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.conformance
if [ -x "$dir/node_modules/.bin/node" ] && [ -f "$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js" ]; then
  echo "$dir"; exit 0
fi
mkdir -p "$dir"
cat > "$dir/package.json" <<'JSON'
{ "name": "commerce-mcp-conformance", "private": true,
  "allowScripts": { "node": true } }
JSON
(cd "$dir" && npm install --no-fund --no-audit --silent @modelcontextprotocol/conformance@0.1.16 node@22 >&2)
echo "$dir"
