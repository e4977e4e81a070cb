#!/usr/bin/env bash
# Installs everything gongwen needs on a fresh Debian machine: system packages (fonts,
# chromium for browser tests, poppler for pdfsig, softhsm2, valgrind for the benchmarks'
# instruction counts), a .venv at the repository root and the project with its pinned
# dependencies. Safe to run again: it only does what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(
  chromium
  fonts-arphic-uming fonts-arphic-ukai fonts-arphic-gbsn00lp fonts-arphic-gkai00mp fonts-wqy-zenhei
  poppler-utils softhsm2 openssl valgrind
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=".venv/.gongwen-installed"
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "== pip install (requirements.lock)"
  quiet() {  # pip prints a warning per package for this machine's extra indexes: hide those
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    printf '%s\n' "$out" | grep -v -E "^WARNING: Location|BuildBackendWarning|^ *!!|\*{10}|careful with folders|return '|with strategy|^ *$" || true
    return $rc
  }
  quiet .venv/bin/python -m pip install -q --upgrade pip
  quiet .venv/bin/python -m pip install -q -r requirements.lock
  quiet .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
mkdir -p var
