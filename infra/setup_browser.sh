#!/usr/bin/env bash
# The web editor's end-to-end tests drive Debian's Chromium (no browser downloads): install it if missing.
set -euo pipefail
if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing Debian's chromium for the editor's browser tests (once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
else
  echo "!! chromium is missing: install it (sudo apt-get install chromium) to run the editor's browser tests" >&2
fi
