#!/usr/bin/env bash
# One command: install, migrate the embedded SQLite database, load the demo data and serve
# the platform on http://127.0.0.1:8000 (R-OPS-1). Running it again is harmless.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
scripts/bootstrap.sh
export GONGWEN_DATABASE_URL="${GONGWEN_DATABASE_URL:-sqlite:///$ROOT/var/gongwen.sqlite3}"
.venv/bin/gongwen init
.venv/bin/gongwen demo
.venv/bin/gongwen logins
exec .venv/bin/gongwen serve --with-worker "${GONGWEN_ADDR:-127.0.0.1:8000}"
