#!/usr/bin/env bash
# An sdist, then a compiled wheel for each CPython 3.10-3.13 found on PATH,
# into dist/. Each wheel is installed into a fresh venv and must import its
# compiled build (realtime.COMPILED), or the script fails.
#
# The wheels are tagged linux_x86_64 (this machine's glibc); making
# manylinux wheels for the package index takes a manylinux image.
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist
rm -rf "$out" && mkdir -p "$out"
python3 -m pip install -q build
python3 -m build --sdist --outdir "$out" .

built=0
for version in 3.10 3.11 3.12 3.13; do
  py=""
  # python3.X on PATH if it runs (a pyenv shim may not), else pyenv's own copy
  for candidate in "$(command -v "python$version" || true)" \
      "$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin/python 2>/dev/null | tail -1)"; do
    if [ -n "$candidate" ] && "$candidate" -c pass 2>/dev/null; then
      py=$candidate
      break
    fi
  done
  if [ -z "$py" ]; then
    echo "python$version not found: no wheel for it"
    continue
  fi
  work=$(mktemp -d)
  "$py" -m venv "$work/venv"
  "$work/venv/bin/pip" install -q build
  # From the sdist, as a user's `pip install` from the index would build it.
  REALTIME_COMPILE=1 "$work/venv/bin/python" -m build --wheel --outdir "$out" "$out"/*.tar.gz
  wheel=$(ls "$out"/*-cp${version/./}-*.whl)
  "$work/venv/bin/pip" install -q "$wheel"
  (cd "$work" && venv/bin/python -c "import realtime, sys; assert realtime.COMPILED, 'pure build'; print(sys.version.split()[0], realtime.COMPILED)")
  rm -rf "$work"
  built=$((built + 1))
done
ls -l "$out"
[ "$built" -gt 0 ]
