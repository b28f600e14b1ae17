#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through playwright-core (no browser downloads work here).
# Installs it when missing and we may (root with apt-get); otherwise says how.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || {
    echo "could not install chromium; browser tests will fail" >&2; exit 1; }
else
  echo "chromium not found at /usr/bin/chromium: install it (apt-get install chromium) to run the browser tests" >&2
  exit 1
fi
