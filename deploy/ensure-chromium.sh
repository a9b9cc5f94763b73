#!/usr/bin/env bash
# Makes sure Debian's Chromium is on this machine for the browser tests (tests/browser): installs it with apt when
# missing and running as root. Never fails the build: without it the browser tests skip and say why.
set -uo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser tests (apt-get install chromium)…"
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
  echo "Could not install chromium; the browser tests will be skipped." >&2
else
  echo "Chromium is not installed and this is not root; the browser tests will be skipped." \
       "Install it with: sudo apt-get install -y chromium" >&2
fi
exit 0
