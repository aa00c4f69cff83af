#!/usr/bin/env bash
# Build the web editor (web/dist/, served by the API at /). Re-running is cheap: `npm ci` runs only when
# package-lock.json changed since the last install, and the build only when web/ or the API changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/web"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "!! node/npm not found: skipping the web editor build (install Node.js 20+ and run 'make setup' again)" >&2
  exit 0
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "!! Node.js $(node --version) is too old for the web editor (needs 20+): skipping its build" >&2
  exit 0
fi
stamp=node_modules/.flowza-installed
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing the web editor's packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
# The build depends on the editor's sources and on the API (its OpenAPI document gives the client's types).
built=dist/.flowza-built
sources=$(cd "$root" && find web/src web/index.html web/package-lock.json web/vite.config.ts web/tsconfig*.json api \
  -type f ! -name '*.pyc' ! -name 'schema.d.ts' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ ! -f dist/index.html ] || [ "$(cat "$built" 2>/dev/null)" != "$sources" ]; then
  echo "==> building the web editor (web/dist)"
  export FLOWZA_PYTHON="${FLOWZA_PYTHON:-$root/.venv/bin/python}"
  npm run build --silent
  echo "$sources" > "$built"
fi
