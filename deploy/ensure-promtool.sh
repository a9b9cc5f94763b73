#!/usr/bin/env bash
# Puts Prometheus's promtool into the virtualenv ($1/bin) for the tests of deploy/observability: taken out of
# Debian's prometheus package without installing it (that would also install and start a Prometheus server).
set -euo pipefail

VENV="${1:-.venv}"
if [ -x "$VENV/bin/promtool" ] || command -v promtool >/dev/null 2>&1; then
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "Fetching promtool from Debian's prometheus package (apt-get download prometheus)…"
(cd "$work" && apt-get download -qq prometheus 2>/dev/null) || { apt-get update -qq && (cd "$work" && apt-get download -qq prometheus); }
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
install -m 0755 "$work/root/usr/bin/promtool" "$VENV/bin/promtool"
