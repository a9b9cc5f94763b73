#!/usr/bin/env bash
# Makes sure pg_dump and pg_restore are on this machine: `dsi backup` and `dsi restore` run them for PostgreSQL
# databases (and their tests do). Installs Debian's postgresql-client when missing and running as root.
# pg_dump must be of the server's major version or newer; `dsi backup` says so when it is not.
set -uo pipefail

if command -v pg_dump >/dev/null 2>&1 && command -v pg_restore >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing PostgreSQL's client programs for dsi backup (apt-get install postgresql-client)…"
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; then
    exit 0
  fi
fi
echo "pg_dump is missing, so dsi backup cannot dump PostgreSQL: sudo apt-get install -y postgresql-client" >&2
exit 0  # SQLite backups and everything else work without it
