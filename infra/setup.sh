#!/usr/bin/env bash
# Create .venv/ in the repository root and install Flowza (the `flowza` command) into it.
# Re-running is cheap: it reinstalls only when pyproject.toml changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "Flowza needs Python 3.11 or newer on PATH" >&2; exit 1; }
[ -x .venv/bin/python ] || { echo "==> creating .venv with $python"; "$python" -m venv .venv; }
stamp=.venv/.flowza-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing Flowza and its dependencies into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
  echo "$want" > "$stamp"
fi
bash "$root/infra/build_web.sh"  # after the venv: the client types come from the API
