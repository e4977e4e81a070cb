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
  poppler-utils softhsm2 openssl valgrind zbar-tools
)
# venv for Debian's python3.11 (the interpreter chosen below), where there is one
if [ -x /usr/bin/python3.11 ]; then APT_PACKAGES+=(python3.11-venv); fi
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

# Debian's own python3.11 first: the interpreter Debian keeps patched, built with
# profile-guided and link-time optimisation and libpython linked statically. Pure-Python
# work runs 10-30 % faster on it than on a plain source build such as pyenv's default
# (GB/T 9704 rendering: 10-20 %); the exchange chain, mostly C (SM2/SM3, zlib, libpq), about
# the same (docs/exchange.md, "seventh pass"). PYTHON=... overrides.
if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"
elif [ -x /usr/bin/python3.11 ]; then PY=/usr/bin/python3.11
elif command -v python3.11 >/dev/null; then PY=python3.11
else PY=python3
fi
PY="$(command -v "$PY")"
interpreter=".venv/.gongwen-interpreter"
if [ -x .venv/bin/python ] && [ "$(cat "$interpreter" 2>/dev/null)" != "$PY" ]; then
  echo "== .venv was made with another interpreter than $PY: making it again"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $PY"
  "$PY" -m venv .venv
  printf '%s\n' "$PY" > "$interpreter"
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
